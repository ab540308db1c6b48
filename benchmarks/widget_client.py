"""The web widget's path, timed: socket.io over a WebSocket, as the widget's
socket.io client in a browser uses it, beside REST with the same messages.

A socket.io client small enough to read: engine.io 4 over one WebSocket (`0` open,
`2` ping answered by `3`, `4` a message) carrying socket.io 5 packets (`40` join the
namespace, `42` an event). It asks for a conversation (`session_request`, answered
by `session_confirm`), sends each message as `user_uttered` and times it until the
turn's last `bot_uttered` arrives. How many messages a turn has is learnt first, by
sending the same messages in a widget conversation of its own and waiting for quiet
after each turn (not from REST, which cuts a message at its blank lines where the
widget's channel sends it whole)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any, List, Sequence, Tuple

import websockets.client
import websockets.exceptions

from benchmarks import load

TURN_TIMEOUT_S = 60
# A turn's messages arrive within milliseconds of each other; this long without one, it is over.
QUIET_S = 1.0


class WidgetSocket:
    """One widget: one WebSocket, one conversation."""

    def __init__(self, url: str) -> None:
        self.address = url.replace("http://", "ws://").rstrip("/") + "/socket.io/?EIO=4&transport=websocket"
        self.socket: Any = None

    async def __aenter__(self) -> "WidgetSocket":
        self.socket = await websockets.client.connect(self.address, max_size=2**20)
        opened = await self.socket.recv()
        if not opened.startswith("0"):
            raise RuntimeError(f"no engine.io open packet: {opened[:80]!r}")
        await self.socket.send("40")
        await self._event_or_packet("40")
        await self._emit("session_request", {})
        await self._event_or_packet('42["session_confirm"')
        return self

    async def __aexit__(self, *_: Any) -> None:
        await self.socket.close()

    async def _emit(self, event: str, data: Any) -> None:
        await self.socket.send("42" + json.dumps([event, data]))

    async def _event_or_packet(self, prefix: str) -> str:
        """Reads until a packet starting with `prefix`, answering pings."""
        while True:
            packet = await asyncio.wait_for(self.socket.recv(), TURN_TIMEOUT_S)
            if packet == "2":
                await self.socket.send("3")
            elif packet.startswith(prefix):
                return packet

    async def say(self, text: str, replies: int) -> load.Exchange:
        """Sends `text`; the time until its `replies`-th bot message arrives."""
        started = time.perf_counter()
        try:
            await self._emit("user_uttered", {"message": text})
            for _ in range(replies):
                await self._event_or_packet('42["bot_uttered"')
        except asyncio.TimeoutError:
            return load.Exchange(time.perf_counter() - started, "timeout")
        except websockets.exceptions.ConnectionClosed as closed:
            return load.Exchange(time.perf_counter() - started, f"connection: closed {closed.code}")
        return load.Exchange(time.perf_counter() - started)


async def _count_replies(url: str, messages: Sequence[str]) -> List[int]:
    async with WidgetSocket(url) as widget:
        counts = []
        for text in messages:
            await widget._emit("user_uttered", {"message": text})
            count = 0
            try:
                while True:
                    await asyncio.wait_for(widget._event_or_packet('42["bot_uttered"'), QUIET_S)
                    count += 1
            except asyncio.TimeoutError:
                counts.append(count)
        return counts


Turns = List[Tuple[str, int]]


def turns_of(url: str, messages: Sequence[str]) -> Turns:
    """Each of `messages` with how many messages the bot sends the widget for it,
    learnt in a conversation of its own by waiting QUIET_S after each turn's last one.
    A message the bot does not answer is left out: the time to its reply means nothing."""
    counts = asyncio.run(_count_replies(url, messages))
    return [(text, count) for text, count in zip(messages, counts, strict=True) if count]


async def _widget(url: str, turns: Sequence[Tuple[str, int]]) -> List[load.Exchange]:
    async with WidgetSocket(url) as widget:
        return [await widget.say(text, replies) for text, replies in turns]


async def _widgets(url: str, turns: Sequence[Tuple[str, int]], conversations: int) -> load.LoadResult:
    started = time.perf_counter()
    done = await asyncio.gather(*(_widget(url, turns) for _ in range(conversations)))
    return load.LoadResult(conversations, time.perf_counter() - started, [e for each in done for e in each])


def widgets(url: str, turns: Turns, conversations: int) -> load.LoadResult:
    """`conversations` widgets at once, each sending the messages of `turns` (from
    `turns_of`) in turn."""
    return asyncio.run(_widgets(url, turns, conversations))
