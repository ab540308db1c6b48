"""Conversation scripts through Slack's and Teams' own payloads.

Each turn is sent as the platform sends it (a signed Slack event, or a Teams
activity with a Bot Framework token), to the real Rasa and action servers, and the
replies are read back from a local stand-in of the platform's API, where the
assistant posts them. A click is a click: a Slack block_actions interaction, or a
Teams messageBack. Nothing reaches Slack or Microsoft.

    python -m tools.careers_team.converse --channel slack   # starts its own servers
    python -m tools.careers_team.converse --channel teams

The platforms answer at once and post replies afterwards, with no sign of when a
turn is over; a turn is taken to be over once replies have come and then none for
QUIET_SECONDS.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List

from tests.harness.bot_framework_standin import BotFrameworkStandIn
from tests.harness.bot_framework_standin import rasa_messages as teams_messages
from tests.harness.quiet_period import replies_after
from tests.harness.serverctl import ROOT, running_assistant
from tests.harness.slack_standin import SlackStandIn
from tests.harness.slack_standin import rasa_messages as slack_messages

SLACK, TEAMS = "slack", "teams"
PLATFORMS = (SLACK, TEAMS)
QUIET_SECONDS = float(os.environ.get("CONVERSE_QUIET_SECONDS", "1.5"))
TURN_TIMEOUT = 60.0


class PlatformError(Exception):
    """The platform refused a turn, or no reply came."""


def _local(sender: str, prefix: str) -> str:
    return prefix + hashlib.sha256(sender.encode()).hexdigest()[:10].upper()


def _replies(posted: Callable[[], List[Dict[str, Any]]], before: int, quiet: float) -> List[Dict[str, Any]]:
    try:
        return replies_after(posted, before, quiet, TURN_TIMEOUT)
    except TimeoutError as error:
        raise PlatformError(str(error)) from error


class SlackAssistant:
    """The assistant as a Slack user meets it in a direct message."""

    def __init__(
        self, rasa_url: str, standin: SlackStandIn, secret: str, quiet: float = QUIET_SECONDS
    ) -> None:
        self.rasa_url, self.standin, self.secret, self.quiet = rasa_url, standin, secret, quiet

    def _place(self, sender: str) -> Dict[str, str]:
        return {"channel": _local(sender, "D"), "user": _local(sender, "U")}

    def _event(self, place: Dict[str, str], text: str) -> Dict[str, Any]:
        return self.standin.message_event(text, user=place["user"], channel=place["channel"])

    def _turn(self, place: Dict[str, str], request: Dict[str, Any]) -> List[Dict[str, Any]]:
        before = len(self.standin.posts(place["channel"]))
        status, body = self.standin.send(self.rasa_url, request, self.secret)
        if status != 200:
            raise PlatformError(f"the Slack webhook answered {status}: {body[:200]!r}")
        return slack_messages(_replies(lambda: self.standin.posts(place["channel"]), before, self.quiet))

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        place = self._place(sender)
        return self._turn(place, self._event(place, message))

    def click(self, sender: str, button: Dict[str, str]) -> List[Dict[str, Any]]:
        place = self._place(sender)
        with_button = [
            post
            for post in self.standin.posts(place["channel"])
            if any(
                b.get("payload") == button["payload"]
                for m in slack_messages([post])
                for b in m.get("buttons", [])
            )
        ]
        if not with_button:
            raise PlatformError(f"no post offers the button {button['title']!r}")
        return self._turn(place, self.standin.click(with_button[-1], button["title"], user=place["user"]))

    def close(self) -> None:
        pass


class TeamsAssistant:
    """The assistant as a Teams user meets it in a personal chat."""

    def __init__(self, rasa_url: str, standin: BotFrameworkStandIn, quiet: float = QUIET_SECONDS) -> None:
        self.webhook = rasa_url.rstrip("/") + "/webhooks/teams/webhook"
        self.standin, self.quiet = standin, quiet

    def _turn(self, sender: str, **message: Any) -> List[Dict[str, Any]]:
        conversation = "a:" + _local(sender, "1")
        activity = self.standin.activity(
            conversation_id=conversation, user_id=_local(sender, "29:"), **message
        )
        before = len(self.standin.posted(conversation))
        status, body = self.standin.deliver(self.webhook, activity)
        if status not in (200, 201, 202):
            raise PlatformError(f"the Teams webhook answered {status}: {str(body)[:200]}")
        return teams_messages(_replies(lambda: self.standin.posted(conversation), before, self.quiet))

    def send(self, sender: str, message: str) -> List[Dict[str, Any]]:
        return self._turn(sender, text=message)

    def click(self, sender: str, button: Dict[str, str]) -> List[Dict[str, Any]]:
        # A messageBack: Teams shows the title and sends the payload as the text.
        return self._turn(sender, text=button["payload"])

    def close(self) -> None:
        pass


@contextmanager
def platform_assistant(platform: str, model: Path, workdir: Path) -> Iterator[Any]:
    """The stand-in for `platform`, and the action server and Rasa set up to use it
    (as `make run` starts them); yields the assistant to send turns to."""
    if platform == SLACK:
        token, secret = "xoxb-" + secrets.token_hex(12), secrets.token_hex(16)
        slack = SlackStandIn(token)
        env = {"SLACK_BOT_TOKEN": token, "SLACK_SIGNING_SECRET": secret, "SLACK_API_URL": slack.api_url}
        with slack, running_assistant(model, workdir, env=env) as running:
            yield SlackAssistant(running.url, slack, secret)
    elif platform == TEAMS:
        with (
            BotFrameworkStandIn() as microsoft,
            running_assistant(model, workdir, env=microsoft.env()) as running,
        ):
            yield TeamsAssistant(running.url, microsoft)
    else:
        raise ValueError(f"unknown platform {platform!r}: one of {', '.join(PLATFORMS)}")


@contextmanager
def started(platform: str, model: Path = ROOT / "models" / "careers.tar.gz") -> Iterator[Any]:
    """platform_assistant in a temporary work folder."""
    with (
        tempfile.TemporaryDirectory(prefix=f"converse-{platform}-") as folder,
        platform_assistant(platform, model, Path(folder)) as assistant,
    ):
        yield assistant
