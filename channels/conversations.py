"""What the channels share: deleting a conversation, the request size every
channel's routes accept, the shape of a refusal, and work run after the answer."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any, Awaitable, Optional, Set, Text

from sanic import Blueprint, response
from sanic.response import HTTPResponse

from channels.limits import MAX_BODY_BYTES

logger = logging.getLogger(__name__)


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


def refusal(status: int, message: Text) -> HTTPResponse:
    """A 4xx or 5xx answer every channel gives alike: {"error": "<what to do>"}."""
    return response.json({"error": message}, status=status)


# How long a stopping server waits for turns it has acknowledged but not finished.
DRAIN_SECONDS = 10


class AfterAnswer:
    """Work a channel runs after it has answered the request (Slack and Teams want an
    answer at once and the replies afterwards): each task kept until it is done, and
    waited for, up to DRAIN_SECONDS, when the server stops, as the platform will not
    send an acknowledged event again."""

    def __init__(self) -> None:
        self._tasks: Set["asyncio.Task[None]"] = set()

    def start(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def finished(self, timeout: float = DRAIN_SECONDS) -> None:
        """Waits (up to `timeout` seconds) for the work under way to finish."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=timeout)

    def drain_on_stop(self, blueprint: Blueprint) -> None:
        @blueprint.listener("before_server_stop")
        async def drain(_app: Any, _loop: Any) -> None:
            await self.finished()
