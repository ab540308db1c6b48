"""Talking to a running bot over its REST channel: the first reply after a start,
one person's long conversation, and many conversations at once (aiohttp)."""

from __future__ import annotations

import asyncio
import json
import os
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence

import aiohttp

from benchmarks.stats import percentile
from channels.ownership import REST_API_TOKEN

REQUEST_TIMEOUT_S = 60


def webhook(url: str) -> str:
    return url + "/webhooks/rest/webhook"


def trusted_headers() -> Dict[str, str]:
    """Our REST channel serves other servers that send its token (REST_API_TOKEN),
    without the rate limits browsers get; the reference bot ignores the header."""
    token = os.environ.get(REST_API_TOKEN)
    return {"Authorization": f"Bearer {token}"} if token else {}


def new_sender(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def first_reply(url: str, message: str = "hello", give_up_after_s: float = 300) -> List[Dict[str, Any]]:
    """POST `message` until the bot answers 200 with a non-empty reply (a cold start
    ends there); raises RuntimeError if it never does."""
    sender = new_sender("cold-start")
    body = json.dumps({"sender": sender, "message": message}).encode()
    deadline = time.monotonic() + give_up_after_s
    last = "no attempt"
    while time.monotonic() < deadline:
        request = urllib.request.Request(
            webhook(url), data=body, headers={"Content-Type": "application/json", **trusted_headers()}
        )
        try:
            with urllib.request.urlopen(request, timeout=REQUEST_TIMEOUT_S) as response:
                replies = json.loads(response.read() or b"null")
                if response.status == 200 and replies:
                    return replies
                last = f"HTTP {response.status}, reply {replies!r}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            last = repr(error)
        time.sleep(0.05)
    raise RuntimeError(f"no reply from {url} in {give_up_after_s:.0f}s (last: {last})")


@dataclass
class Exchange:
    """One message and its reply: how long it took and what went wrong, if anything."""

    seconds: float
    error: Optional[str] = None  # "HTTP 500", "timeout", "connection: ...", "exception: ..."
    empty: bool = False  # answered 200 but with no message


async def send(session: aiohttp.ClientSession, url: str, sender: str, message: str) -> Exchange:
    started = time.perf_counter()
    try:
        async with session.post(webhook(url), json={"sender": sender, "message": message}) as response:
            text = await response.text()
            seconds = time.perf_counter() - started
            if response.status != 200:
                return Exchange(seconds, f"HTTP {response.status}")
            return Exchange(seconds, empty=not json.loads(text or "null"))
    except asyncio.TimeoutError:
        return Exchange(time.perf_counter() - started, "timeout")
    except aiohttp.ClientConnectionError as error:
        return Exchange(time.perf_counter() - started, f"connection: {type(error).__name__}")
    except Exception as error:  # every failure counts, whatever it is
        return Exchange(time.perf_counter() - started, f"exception: {type(error).__name__}: {error}")


async def converse(
    session: aiohttp.ClientSession, url: str, messages: Sequence[str], sender: str
) -> List[Exchange]:
    """One conversation: each message is sent when the reply to the one before arrives."""
    return [await send(session, url, sender, message) for message in messages]


def _session(connections: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=max(connections, 1)),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_S),
        headers=trusted_headers(),
    )


async def _conversations(url: str, messages: Sequence[str], count: int, prefix: str) -> List[List[Exchange]]:
    async with _session(1) as session:
        return [await converse(session, url, messages, new_sender(prefix)) for _ in range(count)]


def one_user(url: str, cycle: Sequence[str], turns: int, conversations: int) -> List[List[Exchange]]:
    """`conversations` conversations, one after another, each of `turns` turns that go
    round `cycle` (turn k and turn k + len(cycle) send the same message)."""
    messages = [cycle[turn % len(cycle)] for turn in range(turns)]
    return asyncio.run(_conversations(url, messages, conversations, "one-user"))


def warm_up(url: str, messages: Sequence[str]) -> List[Exchange]:
    return asyncio.run(_conversations(url, messages, 1, "warm-up"))[0]


@dataclass
class LoadResult:
    conversations: int
    wall_s: float
    exchanges: List[Exchange] = field(default_factory=list)

    @property
    def errors(self) -> List[str]:
        return [e.error for e in self.exchanges if e.error]

    def figures(self) -> Dict[str, Any]:
        """Replies per second over the wall time (errors not counted as replies),
        p50 and p95 of the answered requests in ms, and the errors."""
        answered = [e.seconds * 1000 for e in self.exchanges if not e.error]
        return {
            "requests": len(self.exchanges),
            "throughput": len(answered) / self.wall_s if self.wall_s else None,
            "p50_ms": percentile(answered, 50),
            "p95_ms": percentile(answered, 95),
            "errors": len(self.errors),
            "empty": sum(e.empty for e in self.exchanges),
            "error_kinds": sorted(set(self.errors)),
        }


async def _load(url: str, messages: Sequence[str], conversations: int) -> LoadResult:
    async with _session(conversations) as session:
        started = time.perf_counter()
        done = await asyncio.gather(
            *(
                converse(session, url, messages, new_sender(f"load{conversations}"))
                for _ in range(conversations)
            )
        )
        wall = time.perf_counter() - started
    return LoadResult(conversations, wall, [exchange for each in done for exchange in each])


def load(url: str, messages: Sequence[str], conversations: int) -> LoadResult:
    """`conversations` conversations at once, each sending `messages` in turn."""
    return asyncio.run(_load(url, messages, conversations))
