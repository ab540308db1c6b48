"""Who a conversation belongs to: the server decides, not the client.

A web conversation (the widget, over socket.io or REST) is named by a token the
server issues: a random id, when it was issued, and an HMAC-SHA256 signature of
both with CONVERSATION_SECRET. The conversation id Rasa files the messages under is
derived from a token that checks out, so a client can present only a token it was
given; it can neither pick another person's conversation nor make one up. A token
older than the retention period (runtime.retention) is refused, as the conversation
behind it has been purged by then.

Conversation ids carry their channel as a prefix (`web:`, `rest:`, `slack:`,
`teams:`); Slack's and Teams' carry the workspace or tenant next, then a pseudonym of
the platform's ids for the person and the place (`pseudonym`). Each channel makes ids
in its own namespace only, so no channel can address another's conversations: a REST
caller cannot reach a Slack user's conversation by sending that user's id.

Server-to-server callers of the REST channel (another backend, the careers team's
scripts against a live bot) authenticate with `Authorization: Bearer
$REST_API_TOKEN` instead and choose their own ids, filed under `rest:`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
import unicodedata
from typing import Optional, Text

# Environment variables: the signing secret, and the server-to-server REST token.
CONVERSATION_SECRET = "CONVERSATION_SECRET"
REST_API_TOKEN = "REST_API_TOKEN"

# Conversation id namespaces, one per channel.
WEB = "web"
REST_API = "rest"
SLACK = "slack"
TEAMS = "teams"

# Test traffic: a conversation whose own id (after its channel's prefix) starts with
# this was made by a test, a benchmark or the careers team's scripts, not a person.
# Server-to-server callers choose such ids; `make report` leaves them out unless
# asked. "script-" is what the scripts runner used before this prefix existed.
TEST_SENDER_PREFIX = "test-"
LEGACY_TEST_SENDER_PREFIXES = ("script-",)


def is_test_traffic(conversation_id: Text) -> bool:
    """True for a conversation a test, benchmark or script made (see TEST_SENDER_PREFIX)."""
    own = conversation_id.split(":", 1)[1] if ":" in conversation_id else conversation_id
    return own.startswith((TEST_SENDER_PREFIX, *LEGACY_TEST_SENDER_PREFIXES))


# How long a conversation is kept after its latest message, in days: the one place
# the period is set. A conversation's token lasts as long; the tracker store's purge
# (runtime.retention, runtime.tracker_store) and `make purge` follow it.
DEFAULT_RETENTION_DAYS = 30

TOKEN_VERSION = "c1"
TOKEN_MAX_AGE_SECONDS = DEFAULT_RETENTION_DAYS * 24 * 3600
# A token issued this far in the future (clock skew between servers) is still good.
CLOCK_SKEW_SECONDS = 300
MAX_TOKEN_LENGTH = 128
# The longest conversation id a caller may choose (REST, server to server).
MAX_SENDER_LENGTH = 128
# Characters no conversation id may hold: control characters (NUL among them),
# invisible formatting (bidirectional overrides, zero-width), and halves of UTF-16
# pairs, which no database can store as UTF-8 (SQLite raised, and Rasa's store
# turned the error into an exit of the whole server).
_UNSTORABLE_CATEGORIES = {"Cc", "Cf", "Cs"}
MIN_SECRET_LENGTH = 16
_ID = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


class MissingSecret(RuntimeError):
    """CONVERSATION_SECRET is unset or too short to sign with."""


def secret_from_environment() -> bytes:
    value = os.environ.get(CONVERSATION_SECRET, "")
    if len(value) < MIN_SECRET_LENGTH:
        raise MissingSecret(
            f"{CONVERSATION_SECRET} must be set to a random secret of at least "
            f"{MIN_SECRET_LENGTH} characters (the web channels sign conversation tokens "
            "with it). `make run` makes one in .secrets/; on a server, set it in the "
            "environment, the same on every Rasa instance."
        )
    return value.encode()


def sender_problem(sender: object) -> Optional[Text]:
    """Why `sender` cannot name a conversation, or None if it can: text of 1 to
    MAX_SENDER_LENGTH characters, not only spaces, with no control or formatting
    characters and valid UTF-8. Every id a channel hands Rasa passes this check."""
    if not isinstance(sender, str) or not sender.strip():
        return "it must be text, not empty"
    if len(sender) > MAX_SENDER_LENGTH:
        return f"it must be at most {MAX_SENDER_LENGTH} characters"
    if any(unicodedata.category(character) in _UNSTORABLE_CATEGORIES for character in sender):
        return "it must not hold control or formatting characters, or broken UTF-16"
    return None


def namespaced(namespace: Text, local_id: Text) -> Text:
    return f"{namespace}:{local_id}"


def pseudonym(secret: bytes, *parts: Text) -> Text:
    """A stable, unguessable stand-in for a platform's own ids (a Slack user in a Slack
    conversation, a Teams user in a Teams chat): the same ids give the same
    conversation, but the tracker store, the report and the logs never hold the
    platform's ids, and nobody without the secret can work out whose it is."""
    joined = "\x1f".join(parts)  # a separator no platform id contains
    return _signature(secret, f"pseudonym.{joined}")[:22]


def _signature(secret: bytes, body: Text) -> Text:
    # "surrogatepass": a platform's id may hold half a UTF-16 pair; it is still signed.
    digest = hmac.new(secret, body.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def issue_token(secret: bytes, now: Optional[float] = None) -> Text:
    """A new web conversation's token."""
    issued = int(time.time() if now is None else now)
    body = f"{TOKEN_VERSION}.{secrets.token_urlsafe(16)}.{issued:x}"
    return f"{body}.{_signature(secret, body)}"


def conversation_of(
    token: object,
    secret: bytes,
    now: Optional[float] = None,
    max_age: int = TOKEN_MAX_AGE_SECONDS,
) -> Optional[Text]:
    """The web conversation id a token names, or None if it is not one this server
    signed, or has expired."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        return None
    parts = token.split(".")
    if len(parts) != 4 or parts[0] != TOKEN_VERSION or not _ID.match(parts[1]):
        return None
    version, local_id, issued_hex, signature = parts
    if not hmac.compare_digest(signature, _signature(secret, f"{version}.{local_id}.{issued_hex}")):
        return None
    try:
        issued = int(issued_hex, 16)
    except ValueError:
        return None
    now = time.time() if now is None else now
    if issued > now + CLOCK_SKEW_SECONDS or now - issued > max_age:
        return None
    return namespaced(WEB, local_id)


def rest_api_token() -> Optional[Text]:
    """The server-to-server REST token, if one is configured."""
    value = os.environ.get(REST_API_TOKEN, "")
    return value if len(value) >= MIN_SECRET_LENGTH else None


def bearer_matches(header: Optional[Text], expected: Optional[Text]) -> bool:
    if not expected or not isinstance(header, str) or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), expected.encode())
