"""Which platform events the assistant has taken already, so that Slack's and
Teams' retries of one event are answered once.

- One server: a bounded window in memory (`RecentIds`): ids seen in the last ten
  minutes, at most MAX_SEEN of them.
- Several servers (the production profile, deploy/endpoints.production.yml): Redis,
  the one the lock store uses (REDIS_HOST, REDIS_PORT, REDIS_PASSWORD, REDIS_DB), so
  a retry that reaches another server, or the same one after a restart, is known
  there too (`RedisSeen`: SET key NX EX, atomic). Keys are hashes of the ids, kept
  ten minutes. If Redis cannot be reached, the server falls back on its own memory
  for that id and says so in its log, rather than refusing people's messages.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections import OrderedDict
from typing import Optional, Protocol, Text

logger = logging.getLogger(__name__)

SEEN_FOR_SECONDS = 10 * 60
MAX_SEEN = 50_000
REDIS_TIMEOUT_SECONDS = 2


class Seen(Protocol):
    def first_time(self, key: Text) -> bool:
        """True the first time `key` is seen within the window; it is then remembered."""


class RecentIds:
    """Ids seen in the last `seconds`, at most `size` of them (oldest forgotten first)."""

    def __init__(self, seconds: float = SEEN_FOR_SECONDS, size: int = MAX_SEEN) -> None:
        self.seconds, self.size = seconds, size
        self._seen: "OrderedDict[Text, float]" = OrderedDict()

    def first_time(self, key: Text, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        while self._seen and next(iter(self._seen.values())) < now - self.seconds:
            self._seen.popitem(last=False)
        if key in self._seen:
            return False
        self._seen[key] = now
        if len(self._seen) > self.size:
            self._seen.popitem(last=False)
        return True


class RedisSeen:
    """Ids seen by any server sharing one Redis, for `seconds`."""

    def __init__(self, client: object, namespace: Text, seconds: int = SEEN_FOR_SECONDS) -> None:
        self.client, self.seconds = client, seconds
        self.prefix = f"careers:seen:{namespace}:"
        self.fallback = RecentIds(seconds)

    def first_time(self, key: Text) -> bool:
        import redis

        hashed = hashlib.sha256(key.encode("utf-8", "replace")).hexdigest()[:40]
        try:
            return bool(self.client.set(self.prefix + hashed, 1, nx=True, ex=self.seconds))  # type: ignore[attr-defined]
        except redis.RedisError as error:
            logger.warning(
                "Seen events: Redis failed (%s); this server's memory decides.", type(error).__name__
            )
            return self.fallback.first_time(hashed)


def seen_store(namespace: Text) -> Seen:
    """Redis when the server has one (REDIS_HOST set), else this process's memory."""
    host = os.environ.get("REDIS_HOST", "")
    if not host:
        return RecentIds()
    import redis

    client = redis.Redis(
        host=host,
        port=int(os.environ.get("REDIS_PORT") or 6379),
        password=os.environ.get("REDIS_PASSWORD") or None,
        db=int(os.environ.get("REDIS_DB") or 1),
        socket_timeout=REDIS_TIMEOUT_SECONDS,
        socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
    )
    return RedisSeen(client, namespace)
