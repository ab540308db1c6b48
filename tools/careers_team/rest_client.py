"""The careers team's tools talking to a running assistant over its REST channel.

The scripts runner (`make conversations URL=...`) and the terminal chat (`make
shell`) both post to POST /webhooks/rest/webhook as a trusted server, with
`Authorization: Bearer <REST_API_TOKEN>`, and both name their conversations as test
traffic (channels.ownership.TEST_SENDER_PREFIX), so `make report` leaves them out.

The token is REST_API_TOKEN from the environment or, when that is unset, this
checkout's own, the one `make` and `make run` use: `tools/running/secret.sh
rest-api-token` prints it (and is the one place that knows where it is kept).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, List, Mapping, Optional, Tuple

from channels.ownership import REST_API_TOKEN, TEST_SENDER_PREFIX

ROOT = Path(__file__).resolve().parents[2]
SECRET_COMMAND = ("tools/running/secret.sh", "rest-api-token")
WEBHOOK = "/webhooks/rest/webhook"
HEALTH = "/webhooks/rest/"
# Where the token came from, for the message when it is turned away.
FROM_ENVIRONMENT = f"{REST_API_TOKEN} from the environment"
FROM_CHECKOUT = f"this checkout's own (`{' '.join(SECRET_COMMAND)}` prints it)"
NO_TOKEN = f"none ({REST_API_TOKEN} is unset and this checkout's could not be read)"


class AssistantError(Exception):
    """The assistant could not be reached or gave an answer that is not a reply."""


class Refused(AssistantError):
    """The assistant turned the tool away (401 or 403): every other turn would be too,
    so the tools say once what to do instead of failing turn after turn."""

    def __init__(self, url: str, status: int, token_source: str) -> None:
        self.url, self.status, self.token_source = url, status, token_source
        super().__init__(f"{url} answered {status}")

    def advice(self, command: str) -> str:
        """What to do about it, with the `make` command (e.g. "make shell") to run again."""
        return (
            f"The assistant at {self.url} refused this tool's REST token ({self.status}); "
            f"the token sent was {self.token_source}.\n"
            "Send the token that assistant was started with, in REST_API_TOKEN, for example:\n"
            f"  REST_API_TOKEN=<its token> {command} URL={self.url}\n"
            "An assistant started by `make run` in this checkout takes this checkout's token, "
            "which the tool finds by itself."
        )


def rest_token(environ: Optional[Mapping[str, str]] = None) -> Tuple[Optional[str], str]:
    """The server-to-server REST token, and where it came from (for messages).

    The environment's REST_API_TOKEN wins, as in the Makefile; else the checkout's own,
    made once by tools/running/secret.sh as `make` would make it, so that the tools run
    directly (not through make) send the token `make run` gave the assistant.
    """
    environ = os.environ if environ is None else environ
    if environ.get(REST_API_TOKEN):
        return environ[REST_API_TOKEN], FROM_ENVIRONMENT
    try:
        found = subprocess.run(
            [str(ROOT / SECRET_COMMAND[0]), *SECRET_COMMAND[1:]],
            capture_output=True,
            text=True,
            timeout=30,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return None, NO_TOKEN
    token = found.stdout.strip()
    return (token, FROM_CHECKOUT) if token else (None, NO_TOKEN)


def new_test_sender(kind: str) -> str:
    """A new conversation id marked as test traffic, e.g. 'test-script-1f0c…' (a
    script) or 'test-chat-…' (someone trying the bot in the terminal)."""
    return f"{TEST_SENDER_PREFIX}{kind}-{uuid.uuid4().hex[:16]}"


def _said(error: urllib.error.HTTPError) -> str:
    """An error answer's words: the channels' {"error": "..."} text, else the start of
    the body (so that no tool prints JSON to a person)."""
    body = error.read()[:2000].decode(errors="replace")
    try:
        found = json.loads(body)
    except ValueError:
        return body[:300]
    return found["error"] if isinstance(found, dict) and isinstance(found.get("error"), str) else body[:300]


@dataclass
class RestAssistant:
    """A running assistant, over its REST channel, as a trusted server."""

    url: str
    timeout: float = 60
    token: Optional[str] = None
    token_source: str = NO_TOKEN

    @classmethod
    def at(cls, url: str, timeout: float = 60) -> "RestAssistant":
        """The assistant at `url`, with the token rest_token() finds."""
        token, source = rest_token()
        return cls(url.rstrip("/"), timeout, token, source)

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        """The assistant's messages for one turn. Raises Refused on 401 or 403, and
        AssistantError when nothing answers or the answer is not a list of messages."""
        body = json.dumps({"sender": sender, "message": message}).encode()
        headers = {"Content-Type": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + WEBHOOK, data=body, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                replies = json.loads(response.read() or b"[]")
        except urllib.error.HTTPError as error:
            if error.code in (401, 403):
                raise Refused(self.url, error.code, self.token_source) from error
            raise AssistantError(f"{self.url + WEBHOOK} answered {error.code}: {_said(error)}") from error
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise AssistantError(f"could not reach {self.url + WEBHOOK}: {error}") from error
        if not isinstance(replies, list):
            raise AssistantError(f"{self.url + WEBHOOK} did not answer with a list of messages")
        return replies

    def reachable(self) -> bool:
        """True if the REST channel answers its health check (GET /webhooks/rest/)."""
        try:
            with urllib.request.urlopen(self.url + HEALTH, timeout=10) as response:
                return bool(response.status == 200)
        except (urllib.error.URLError, OSError, ValueError):
            return False

    def close(self) -> None:
        pass
