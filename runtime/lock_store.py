"""Rasa's Redis lock store, with every change to a lock made atomically.

Rasa keeps one ticket lock per conversation: a message takes a ticket and waits
until its number is served, so the turns of a conversation run one after the
other, whichever server takes them. Rasa 3.6's RedisLockStore changes a lock by
reading it from Redis, changing it and writing it back, with nothing between: two
servers taking a ticket for one conversation at the same moment both read "no
lock", both write a lock holding ticket 0, and both go ahead at once. The
scale-out test found exactly that (tests/test_scale.py: two turns of one
conversation sent to two servers at once overlapped).

Here each change (issuing a ticket, removing expired ones, finishing a ticket and
deleting a lock nobody waits for) runs in a Redis transaction that is retried if
the lock changed meanwhile (WATCH, MULTI, EXEC), so no change is lost. Reading a
lock, and everything else, is Rasa's. A lock also expires in Redis a minute after
its last ticket would have, so one left by a server that died is not kept forever.

endpoints: `lock_store: {type: runtime.lock_store.AtomicRedisLockStore, url: <host>,
port, password, db, key_prefix}`: the same settings as Rasa's `type: redis`.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable, Optional, Text, Tuple, TypeVar

import redis
from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

logger = logging.getLogger(__name__)

T = TypeVar("T")
# A lock left in Redis outlives its last ticket by this much, then Redis drops it.
EXPIRY_MARGIN_SECONDS = 60
MAX_ATTEMPTS = 100


class AtomicRedisLockStore(RedisLockStore):
    """RedisLockStore whose changes to a lock cannot overwrite one another."""

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **settings: Any) -> None:
        # Rasa makes a lock store named by its module path with the endpoint config.
        if endpoint_config is not None:
            settings = {**endpoint_config.kwargs, **settings}
            if endpoint_config.url:
                settings.setdefault("host", endpoint_config.url)
        super().__init__(**settings)

    def _change(
        self, conversation_id: Text, change: Callable[[Optional[TicketLock]], Tuple[Optional[TicketLock], T]]
    ) -> T:
        """Runs `change` on the conversation's lock (None if there is none) inside a
        transaction: `change` returns the lock to store (None: delete it) and a
        result. Retried while another server changes the lock."""
        key = self.key_prefix + conversation_id
        with self.red.pipeline() as pipe:
            for _ in range(MAX_ATTEMPTS):
                try:
                    pipe.watch(key)
                    stored = pipe.get(key)
                    lock = TicketLock.from_dict(json.loads(stored)) if stored else None
                    kept, result = change(lock)
                    pipe.multi()
                    if kept is not None:
                        expires = max((t.expires for t in kept.tickets), default=time.time())
                        pipe.set(
                            key, kept.dumps(), ex=max(int(expires - time.time()), 0) + EXPIRY_MARGIN_SECONDS
                        )
                    else:
                        pipe.delete(key)
                    pipe.execute()
                    return result
                except redis.WatchError:
                    continue  # another server changed the lock first: read it again
        raise redis.RedisError(f"the lock of a conversation kept changing ({MAX_ATTEMPTS} attempts)")

    def issue_ticket(self, conversation_id: Text, lock_lifetime: float = LOCK_LIFETIME) -> int:
        def issue(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], int]:
            lock = lock or self.create_lock(conversation_id)
            return lock, lock.issue_ticket(lock_lifetime)

        return self._change(conversation_id, issue)

    def update_lock(self, conversation_id: Text) -> None:
        def drop_expired(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_expired_tickets()
            return lock, None

        self._change(conversation_id, drop_expired)

    def finish_serving(self, conversation_id: Text, ticket_number: int) -> None:
        def finish(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is not None:
                lock.remove_ticket_for(ticket_number)
            return lock, None

        self._change(conversation_id, finish)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        def finish_and_drop_if_idle(lock: Optional[TicketLock]) -> Tuple[Optional[TicketLock], None]:
            if lock is None:
                return None, None
            lock.remove_ticket_for(ticket_number)
            return (lock if lock.is_someone_waiting() else None), None

        self._change(conversation_id, finish_and_drop_if_idle)
