"""Bounds on what one client can make the assistant do, shared by the channels.

- A message longer than MAX_MESSAGE_CHARACTERS is cut before Rasa sees it, so the
  tracker store keeps the cut text; the message's metadata says it was cut and
  from what length. (The NLU pipeline's MessageGuard reads the same number of
  characters, config.yml; a test keeps the two equal.) Control characters other
  than line breaks and tabs are dropped. Metadata sent by clients is not stored.
- A request body larger than MAX_BODY_BYTES gets HTTP 413 before it is read.
- Rate limits, as token buckets: messages per conversation, and new conversations
  and open sockets per client address. A client over a limit gets HTTP 429 (REST) or
  a polite message (socket.io); everyone else is served as before. Callers
  authenticated with the server-to-server REST token are trusted and not limited.
  The channels of one server share one allowance (`shared()`): a conversation
  reached over REST and socket.io, or an address using both, is counted once.
- Every engine.io connection counts against SOCKETS_PER_CLIENT, whether or not it
  ever joins a conversation, and one that has not asked for its conversation within
  SOCKET_JOIN_SECONDS is closed.
- Refusals a stranger can cause at will are logged once a minute per kind, with the
  number left out (`RepeatedLogLines`), so nobody can fill the disk with log lines.

Every number can be changed with an environment variable of the same name (for
example MESSAGES_PER_MINUTE=60). Behind a reverse proxy, set TRUSTED_PROXY_HOPS to
the number of proxies that append to X-Forwarded-For, or every visitor looks like
the proxy's address and shares one allowance.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Dict, Optional, Text, Tuple

from nlp.message_limits import CUT_FROM_CHARACTERS, MAX_MESSAGE_CHARACTERS

# Room for a pasted 100,000-character message (answered: "too long"), not for more.
MAX_BODY_BYTES = 1024 * 1024

# name -> default; each read from the environment by `setting`.
DEFAULTS: Dict[Text, float] = {
    # A person types a message every few seconds at most; a burst allows for
    # quick button presses.
    "MESSAGES_PER_MINUTE": 30,
    "MESSAGE_BURST": 10,
    "NEW_CONVERSATIONS_PER_MINUTE": 10,
    "NEW_CONVERSATION_BURST": 20,
    "SOCKETS_PER_CLIENT": 20,
    # The widget asks for its conversation as soon as its socket opens.
    "SOCKET_JOIN_SECONDS": 10,
    "TRUSTED_PROXY_HOPS": 0,
}

# Kinds of log line remembered by the repeat limiters at most.
MAX_LOG_KINDS = 1000

# Buckets kept at most (least recently used go first): bounded memory under a flood
# of new addresses or conversations.
MAX_TRACKED = 100_000

_UNWANTED = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def setting(name: Text) -> float:
    value = os.environ.get(name, "")
    try:
        number = float(value)
    except ValueError:
        return DEFAULTS[name]
    return number if number >= 0 else DEFAULTS[name]


def bounded_message(text: Text) -> Tuple[Text, Optional[Dict[Text, Any]]]:
    """The text Rasa is given and stores, and the metadata marking it as cut."""
    text = _UNWANTED.sub("", text)
    if _has_surrogates(text):  # a lone "\\ud800" escape in JSON: not storable as UTF-8
        text = text.encode("utf-8", "replace").decode("utf-8")
    if len(text) <= MAX_MESSAGE_CHARACTERS:
        return text, None
    return text[:MAX_MESSAGE_CHARACTERS], {CUT_FROM_CHARACTERS: len(text)}


def _has_surrogates(text: Text) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token buckets by key: `allow(key)` spends one token if there is one."""

    def __init__(self, per_minute: float, burst: float) -> None:
        self.rate = per_minute / 60.0
        self.burst = max(1.0, burst)
        self._buckets: "OrderedDict[Text, _Bucket]" = OrderedDict()

    def allow(self, key: Text, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        bucket = self._buckets.pop(key, None) or _Bucket(self.burst, now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        self._buckets[key] = bucket
        if len(self._buckets) > MAX_TRACKED:
            self._buckets.popitem(last=False)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return True
        return False


class Limits:
    """The limits one channel applies, read from the environment when it starts."""

    def __init__(self) -> None:
        self.messages = RateLimiter(setting("MESSAGES_PER_MINUTE"), setting("MESSAGE_BURST"))
        self.new_conversations = RateLimiter(
            setting("NEW_CONVERSATIONS_PER_MINUTE"), setting("NEW_CONVERSATION_BURST")
        )
        self.sockets_per_client = int(setting("SOCKETS_PER_CLIENT"))
        self.socket_join_seconds = setting("SOCKET_JOIN_SECONDS")
        self.proxy_hops = int(setting("TRUSTED_PROXY_HOPS"))

    def client_address(self, remote: Optional[Text], forwarded_for: Optional[Text]) -> Text:
        """The visitor's address: the peer's, or with trusted proxies in front, the
        one the nearest untrusted hop appended to X-Forwarded-For."""
        if self.proxy_hops and forwarded_for:
            hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
            if len(hops) >= self.proxy_hops:
                return hops[-self.proxy_hops]
        return remote or "unknown"


_shared: Optional[Limits] = None


def shared() -> Limits:
    """The limits every channel of this server applies: one allowance per
    conversation and per address, whichever channel they come through. Read from the
    environment the first time it is asked for."""
    global _shared
    if _shared is None:
        _shared = Limits()
    return _shared


class _OncePerInterval:
    """For each kind of line: whether one may be written now (at most one per
    `interval` seconds), and how many were left out since the last one written."""

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self._last: Dict[Text, float] = {}
        self._left_out: Dict[Text, int] = {}

    def take(self, kind: Text, now: Optional[float] = None) -> Optional[int]:
        """None if a line of this kind may not be written now; else the number left out."""
        now = time.monotonic() if now is None else now
        last = self._last.get(kind)
        if last is not None and now - last < self.interval:
            self._left_out[kind] = self._left_out.get(kind, 0) + 1
            return None
        if len(self._last) >= MAX_LOG_KINDS and kind not in self._last:
            self._last.clear()  # kinds are a program's own messages: never this many
            self._left_out.clear()
        self._last[kind] = now
        return self._left_out.pop(kind, 0)


def _with_count(message: Text, left_out: int) -> Text:
    return f"{message} (and {left_out} more like this since the last one logged)" if left_out else message


class RepeatedLogLines:
    """A log line that anyone can cause at will (a refused request, a stray frame),
    written at most once per `interval` seconds for each kind, with the number of
    like lines left out since the last one: the log grows by a line a minute
    however many arrive."""

    def __init__(self, logger: logging.Logger, interval: float = 60.0) -> None:
        self.logger = logger
        self._lines = _OncePerInterval(interval)

    def log(
        self, level: int, message: Text, *args: Any, kind: Optional[Text] = None, now: Optional[float] = None
    ) -> bool:
        """Logs `message % args` unless a line of the same kind (default: the message)
        was logged in the last `interval` seconds; returns whether it was."""
        left_out = self._lines.take(message if kind is None else kind, now)
        if left_out is None:
            return False
        self.logger.log(level, _with_count(message, left_out), *args)
        return True


class RepeatedRecords(logging.Filter):
    """The same for a library's logger (engine.io logs a traceback for every request
    it cannot read): each kind of record at most once per `interval` seconds."""

    def __init__(self, interval: float = 60.0) -> None:
        super().__init__()
        self._lines = _OncePerInterval(interval)

    def filter(self, record: logging.LogRecord) -> bool:
        left_out = self._lines.take(f"{record.name}:{record.msg}")
        if left_out is None:
            return False
        if left_out and isinstance(record.msg, str):
            record.msg = _with_count(record.msg, left_out)
        return True


TOO_MANY_MESSAGES = (
    "You're sending messages faster than I can answer them. Please wait a few seconds, then ask again."
)
TOO_MANY_CONVERSATIONS = "Too many new conversations from this address. Please try again in a minute."
TOO_MANY_SOCKETS = "Too many open chats from this address."
