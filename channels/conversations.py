"""What the channels share: reading a request's JSON, deleting a conversation, the
request size every channel's routes accept, the shape of a refusal, and work run
after the answer."""

from __future__ import annotations

import asyncio
import json
import logging
import re
from typing import Any, Awaitable, Callable, Dict, List, Optional, Set, Text, Tuple, Union

from rasa.core.channels.channel import CollectingOutputChannel, OutputChannel
from sanic import Blueprint, response
from sanic.response import HTTPResponse

from channels.card import with_card
from channels.limits import MAX_BODY_BYTES

logger = logging.getLogger(__name__)


def read_json(raw: Union[bytes, str]) -> Any:
    """The JSON value in a request body, or None if there is none to read: invalid
    UTF-8, not JSON, or nested too deeply for Python's parser (`[` x 200,000 raises
    RecursionError, which is no ValueError). Every channel reads bodies with this, so
    a malformed one gets a 4xx, never a server error."""
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def text_with_custom(message: Dict[Text, Any]) -> Optional[Tuple[Text, Dict[Text, Any]]]:
    """A bot message holding both text and a `custom` payload (an eligibility verdict)
    and no buttons: its text and payload, which a web channel sends as ONE message, so
    the widget shows the verdict once, as a card, with the text as its fallback. Rasa's
    own channels send the two apart. None for any other message."""
    text, custom = message.get("text"), message.get("custom")
    if message.get("buttons") or message.get("quick_replies"):
        return None
    if isinstance(text, str) and text.strip() and isinstance(custom, dict) and custom:
        return text, custom
    return None


class OneMessageOutput(OutputChannel):
    """A web channel's output: a verdict's text and payload sent as one message
    (text_with_custom), every other message as Rasa sends it. A verdict's payload
    carries its card (channels/card.py) as `custom.card` beside the assessment: the
    widget draws that card, as Slack and Teams draw theirs, and derives nothing."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        together = text_with_custom(message)
        if together is None:
            custom = message.get("custom")
            if isinstance(custom, dict):
                text = message.get("text")
                message = {**message, "custom": with_card(custom, text if isinstance(text, str) else "")}
            await super().send_response(recipient_id, message)
        else:
            text = together[0].strip()
            await self.send_together(recipient_id, text, with_card(together[1], text), message)

    async def send_together(
        self, recipient_id: Text, text: Text, custom: Dict[Text, Any], message: Dict[Text, Any]
    ) -> None:
        raise NotImplementedError


class OneMessageCollector(OneMessageOutput, CollectingOutputChannel):
    """Rasa's collector for REST replies, a verdict's text and card kept together."""

    async def send_together(
        self, recipient_id: Text, text: Text, custom: Dict[Text, Any], message: Dict[Text, Any]
    ) -> None:
        await self._persist_message(self._message(recipient_id, text=text, custom=custom))


def limit_request_size(blueprint: Blueprint) -> None:
    """Sanic reads bodies of up to 100 MB by default; the server answers 413 to a
    larger body than MAX_BODY_BYTES before reading it."""

    @blueprint.listener("before_server_start")
    async def limit(app: Any, _loop: Any) -> None:
        app.config.REQUEST_MAX_SIZE = min(app.config.REQUEST_MAX_SIZE, MAX_BODY_BYTES)


def deleting_store(agent: Any) -> Any:
    """The tracker store behind Rasa's fail-safe wrapper (of an agent or a message
    processor), if it can delete: runtime.tracker_store's, or Rasa's in-memory one
    (the conversation scripts' in-process assistant)."""
    from rasa.core.tracker_store import InMemoryTrackerStore

    store = getattr(agent, "tracker_store", None)
    store = getattr(store, "_tracker_store", store)
    if isinstance(store, InMemoryTrackerStore):
        return _InMemoryDeleting(store)
    return store if callable(getattr(store, "delete", None)) else None


class _InMemoryDeleting:
    def __init__(self, store: Any) -> None:
        self.store = store

    async def delete(self, sender_id: Text) -> int:
        serialised = self.store.store.pop(sender_id, None)
        return len(json.loads(serialised).get("events", [])) if serialised else 0


async def delete_conversation(app: Any, sender_id: Text) -> Optional[int]:
    """Deletes a conversation from the tracker store, waiting for any message of it
    being handled to finish first. The number of events deleted, or None if the
    store cannot delete."""
    agent = getattr(app.ctx, "agent", None)
    store = deleting_store(agent)
    if store is None:
        return None
    lock_store = getattr(agent, "lock_store", None)
    if lock_store is None:
        deleted = await store.delete(sender_id)
    else:
        async with lock_store.lock(sender_id):
            deleted = await store.delete(sender_id)
    logger.info("A conversation was deleted at its owner's request (%d events).", deleted)
    return int(deleted)


# What a client may call its message (the widget: a random id per message it sends,
# kept when the person presses "Try again").
_MESSAGE_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


# Marks the replies sent again for a message (WidgetOutput passes it on; other output
# channels leave it out).
REPLAY_OF = "replay_of"


def client_message_id(value: Any) -> Optional[Text]:
    """The id a client gave its message, if it is one it may give; else None."""
    return value if isinstance(value, str) and _MESSAGE_ID.match(value) else None


async def replay_if_handled(app: Any, sender_id: Text, message_id: Text, output: Any) -> bool:
    """For a message sent again (the widget's "Try again", a REST call retried after a
    lost connection): if the conversation already holds the person's message with
    this id, its turn ran and only the replies were lost, so they are sent again
    through `output` and the turn is not run a second time (a button pressed twice
    would otherwise be an answer to the next question). True if so; False if the
    message is new, and the caller then handles it. A turn of it still under way is
    waited for first."""
    from rasa.shared.core.events import BotUttered, UserUttered

    agent = getattr(app.ctx, "agent", None)
    store = getattr(agent, "tracker_store", None)
    if store is None:
        return False
    inner = getattr(store, "_tracker_store", store)
    read = getattr(inner, "retrieve_to_read", None) or store.retrieve
    lock_store = getattr(agent, "lock_store", None)
    if lock_store is None:
        tracker = await read(sender_id)
    else:
        async with lock_store.lock(sender_id, wait_time_in_seconds=0.1):
            tracker = await read(sender_id)
    events = list(tracker.events) if tracker is not None else []
    asked = next(
        (
            n
            for n in range(len(events) - 1, -1, -1)
            if isinstance(events[n], UserUttered) and events[n].message_id == message_id
        ),
        None,
    )
    if asked is None:
        return False
    for event in events[asked + 1 :]:
        if isinstance(event, UserUttered):
            break
        if isinstance(event, BotUttered):
            message = {key: value for key, value in (event.data or {}).items() if value}
            if event.text:
                message["text"] = event.text
            await output.send_response(sender_id, {**message, REPLAY_OF: message_id})
    logger.info("A message sent again was answered with the replies it had (its turn ran once).")
    return True


def refusal(status: int, message: Text) -> HTTPResponse:
    """A 4xx or 5xx answer every channel gives alike: {"error": "<what to do>"}."""
    return response.json({"error": message}, status=status)


# How long a stopping server waits for turns it has acknowledged but not finished.
DRAIN_SECONDS = 10

# Turns a channel runs after answering that may be worked on at once. Rasa's work on a
# turn holds the event loop for a few milliseconds at a time, and a new event waits
# behind every turn under way before it is acknowledged; with a few at once the
# server stays busy (one turn's work while another waits for the action server) and
# an event is acknowledged within a few of those steps. Posting the replies is not
# counted: that waits on the platform, not on this server.
TURNS_AT_ONCE = 4


class KeptReplies(OutputChannel):
    """A turn's replies, kept while Rasa works on it and posted afterwards, in order,
    through the channel's own output."""

    def __init__(self, output: OutputChannel) -> None:
        self.output = output
        self.kept: List[Tuple[Text, Dict[Text, Any]]] = []

    def name(self) -> Text:  # the channel's: its responses are chosen by channel name
        return self.output.name()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        self.kept.append((recipient_id, message))

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def post(self) -> None:
        for recipient_id, message in self.kept:
            await self.output.send_response(recipient_id, message)
        self.kept = []


class AfterAnswer:
    """Work a channel runs after it has answered the request (Slack and Teams want an
    answer at once and the replies afterwards): each task kept until it is done, and
    waited for, up to DRAIN_SECONDS, when the server stops, as the platform will not
    send an acknowledged event again. Turns (`turn`) run in order within a
    conversation, and at most `at_once` of them are worked on at a time."""

    def __init__(self, at_once: int = TURNS_AT_ONCE) -> None:
        self._tasks: Set["asyncio.Task[None]"] = set()
        self.at_once = at_once
        self._working: Optional[asyncio.Semaphore] = None  # made in the server's loop
        self._conversations: Dict[Text, Tuple[asyncio.Lock, int]] = {}

    def start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def turn(
        self,
        conversation: Text,
        output: OutputChannel,
        run: Callable[[OutputChannel], Awaitable[Any]],
    ) -> None:
        """`run` (Rasa's work on one turn) given an output that keeps its replies; they
        are posted through `output` once the work is done, before the conversation's
        next turn starts. Only the work counts against `at_once`."""
        if self._working is None:
            self._working = asyncio.Semaphore(self.at_once)
        # asyncio.Lock serves its waiters in order (a semaphore may not): messages of
        # one conversation are worked on and answered in the order they came.
        lock, waiting = self._conversations.get(conversation, (asyncio.Lock(), 0))
        self._conversations[conversation] = (lock, waiting + 1)
        try:
            async with lock:
                replies = KeptReplies(output)
                try:
                    async with self._working:
                        await run(replies)
                finally:
                    await replies.post()
        finally:
            lock, waiting = self._conversations[conversation]
            if waiting > 1:
                self._conversations[conversation] = (lock, waiting - 1)
            else:
                del self._conversations[conversation]

    async def finished(self, timeout: float = DRAIN_SECONDS) -> None:
        """Waits (up to `timeout` seconds) for the work under way to finish."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def drain_on_stop(self, blueprint: Blueprint) -> None:
        @blueprint.listener("before_server_stop")
        async def drain(_app: Any, _loop: Any) -> None:
            await self.finished()
