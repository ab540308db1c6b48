"""A stand-in for Slack, on this machine: the Web API methods the assistant calls
(chat.postMessage, chat.update), which it records, and the requests Slack would send
the assistant (events and button clicks), signed as Slack signs them.

The tests and `python -m tools.careers_team.converse --channel slack` use it, so
nothing reaches Slack. Point the assistant at it with SLACK_API_URL=<stand-in>/api/.

    with SlackStandIn(bot_token="xoxb-test") as slack:
        status = slack.send(rasa_url, slack.message_event("hi", user="U1"), secret)
        posts = slack.wait_for(1, channel="D1")
"""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple

from channels.slack import ASSESSMENT_EVENT, signature
from tests.harness.quiet_period import replies_after

WEBHOOK = "/webhooks/slack/webhook"


class SlackStandIn:
    """The Slack Web API on 127.0.0.1 (a free port), recording what the assistant posts."""

    def __init__(self, bot_token: str, delay_seconds: float = 0.0) -> None:
        self.bot_token = bot_token
        # How long each Web API call takes: a slow Slack makes a slow turn.
        self.delay_seconds = delay_seconds
        self.calls: List[Tuple[str, Dict[str, Any]]] = []
        self.refused = 0  # calls without the bot token
        self.rejected: List[Tuple[str, str]] = []  # calls Slack would reject, and why
        self._clock = 0  # message timestamps, one per post
        self._changed = threading.Condition()
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                method = self.path.rsplit("/", 1)[-1]
                if self.headers.get("Authorization") != f"Bearer {standin.bot_token}":
                    with standin._changed:
                        standin.refused += 1
                    return self.answer({"ok": False, "error": "invalid_auth"})
                try:
                    if self.headers.get("Content-Type", "").startswith("application/json"):
                        arguments = json.loads(raw or b"{}")
                    else:
                        arguments = {k: v[0] for k, v in urllib.parse.parse_qs(raw.decode()).items()}
                except ValueError:
                    return self.answer({"ok": False, "error": "invalid_json"})
                if standin.delay_seconds:
                    time.sleep(standin.delay_seconds)
                with standin._changed:
                    problem = standin.problem(method, arguments)
                    if problem:
                        standin.rejected.append((method, problem))
                        return self.answer({"ok": False, "error": problem})
                    if method == "chat.postMessage":
                        standin._clock += 1
                        arguments["ts"] = f"{1_700_000_000 + standin._clock}.000100"
                    standin.calls.append((method, arguments))
                    standin._changed.notify_all()
                self.answer({"ok": True, "channel": arguments.get("channel"), "ts": arguments.get("ts")})

            def answer(self, body: Dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.api_url = f"http://127.0.0.1:{self.server.server_address[1]}/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "SlackStandIn":
        self._thread.start()
        return self

    def __exit__(self, *_: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # What Slack would reject ----------------------------------------------------------

    def problem(self, method: str, arguments: Dict[str, Any]) -> str:
        """Why Slack would refuse the call (its error code, or a Block Kit limit
        broken), or "" if it would take it."""
        if method not in ("chat.postMessage", "chat.update", "chat.postEphemeral"):
            return "unknown_method"
        if not isinstance(arguments.get("channel"), str):
            return "channel_not_found"
        if not arguments.get("text") and not arguments.get("blocks"):
            return "no_text"
        if method == "chat.update" and not any(
            a.get("ts") == arguments.get("ts") and a.get("channel") == arguments.get("channel")
            for m, a in self.calls
            if m == "chat.postMessage"
        ):
            return "message_not_found"
        if method == "chat.postEphemeral" and not arguments.get("user"):
            return "user_not_in_channel"
        return block_kit_problem(arguments.get("blocks") or [])

    # What the assistant posted --------------------------------------------------------

    def posts(self, channel: Optional[str] = None, method: str = "chat.postMessage") -> List[Dict[str, Any]]:
        with self._changed:
            return [
                arguments
                for called, arguments in self.calls
                if called == method and (channel is None or arguments.get("channel") == channel)
            ]

    def wait_for(
        self, count: int, channel: Optional[str] = None, timeout: float = 60, method: str = "chat.postMessage"
    ) -> List[Dict[str, Any]]:
        """The first `count` posts (to `channel`), once there are that many; raises
        TimeoutError with what did arrive if they do not within `timeout` seconds."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                found = self.posts(channel, method)
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{len(found)} of {count} {method} calls arrived: {found}")
                self._changed.wait(left)

    def wait_until_quiet(
        self, channel: str, after: int, quiet: float, timeout: float = 60
    ) -> List[Dict[str, Any]]:
        """The posts to `channel` beyond its first `after`: one turn's replies
        (tests/harness/quiet_period.py)."""
        return replies_after(lambda: self.posts(channel), after, quiet, timeout)

    # What Slack sends the assistant -----------------------------------------------------

    @staticmethod
    def message_event(
        text: str,
        user: str = "U0001",
        channel: str = "D0001",
        team: str = "T0001",
        mention: bool = False,
        thread_ts: Optional[str] = None,
        event_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """An Events API callback: a direct message, or (`mention`) an app_mention in
        a channel, as Slack sends them."""
        ts = f"{time.time():.6f}"
        event: Dict[str, Any] = {
            "type": "app_mention" if mention else "message",
            "user": user,
            "text": f"<@UBOT0001> {text}" if mention else text,
            "ts": ts,
            "channel": channel,
            "event_ts": ts,
            "team": team,
        }
        if not mention:
            event["channel_type"] = "im"
        if thread_ts:
            event["thread_ts"] = thread_ts
        return {
            "token": "unused-verification-token",
            "team_id": team,
            "api_app_id": "A0001",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{uuid.uuid4().hex[:12].upper()}",
            "event_time": int(time.time()),
        }

    @staticmethod
    def click(
        post: Dict[str, Any],
        title: str,
        user: str = "U0001",
        team: str = "T0001",
    ) -> Dict[str, Any]:
        """A block_actions interaction: `user` clicks the button titled `title` in a
        message the assistant posted (as recorded here)."""
        found = [
            (block, element)
            for block in post.get("blocks", [])
            if block.get("type") == "actions"
            for element in block.get("elements", [])
            if element["text"]["text"] == title
        ]
        if not found:
            raise LookupError(f"no button {title!r} in {post}")
        block, button = found[0]
        ts = post["ts"]  # the message's own timestamp, as Slack gave it
        container = {
            "type": "message",
            "message_ts": ts,
            "channel_id": post["channel"],
            "is_ephemeral": False,
        }
        message = {
            "type": "message",
            "ts": ts,
            "text": post.get("text", ""),
            "blocks": post.get("blocks", []),
        }
        if post.get("thread_ts"):
            container["thread_ts"] = message["thread_ts"] = post["thread_ts"]
        return {
            "type": "block_actions",
            "user": {"id": user, "team_id": team},
            "team": {"id": team},
            "channel": {"id": post["channel"]},
            "container": container,
            "message": message,
            "trigger_id": uuid.uuid4().hex,
            "actions": [
                {
                    "type": "button",
                    "action_id": button["action_id"],
                    "block_id": block.get("block_id", ""),
                    "text": button["text"],
                    "value": button["value"],
                    "action_ts": f"{time.time():.6f}",
                }
            ],
        }

    @staticmethod
    def signed(
        body: bytes, secret: str, timestamp: Optional[int] = None, content_type: str = "application/json"
    ) -> Dict[str, str]:
        """The headers Slack sends with `body`."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature(secret, stamp, body),
        }

    @staticmethod
    def encode(request: Dict[str, Any]) -> Tuple[bytes, str]:
        """An event as JSON; an interaction as Slack sends it, a form with `payload`."""
        if request.get("type") == "block_actions":
            body = urllib.parse.urlencode({"payload": json.dumps(request)}).encode()
            return body, "application/x-www-form-urlencoded"
        return json.dumps(request).encode(), "application/json"

    @classmethod
    def send(
        cls,
        rasa_url: str,
        request: Dict[str, Any],
        secret: str,
        timestamp: Optional[int] = None,
        headers: Optional[Dict[str, str]] = None,
    ) -> Tuple[int, bytes]:
        """POSTs a signed event or interaction to the assistant; its status and body."""
        body, content_type = cls.encode(request)
        sent = {**cls.signed(body, secret, timestamp, content_type), **(headers or {})}
        call = urllib.request.Request(rasa_url.rstrip("/") + WEBHOOK, data=body, headers=sent, method="POST")
        try:
            with urllib.request.urlopen(call, timeout=30) as answer:
                return answer.status, answer.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()


def rasa_messages(posts: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    """The assistant's Slack posts in the shape of Rasa's bot messages ({text,
    buttons, custom: {assessment}}), so that tools check replies the same way on every
    channel. A post's `text` is the whole message (Slack's notification text)."""
    messages = []
    for post in posts:
        message: Dict[str, Any] = {"text": post.get("text") or ""}
        buttons = [
            {"title": element["text"]["text"], "payload": element["value"]}
            for block in post.get("blocks") or []
            if block.get("type") == "actions"
            for element in block.get("elements") or []
        ]
        if buttons:
            message["buttons"] = buttons
        metadata = post.get("metadata") or {}
        if metadata.get("event_type") == ASSESSMENT_EVENT:
            message["custom"] = {"assessment": metadata.get("event_payload")}
        messages.append(message)
    return messages


def block_kit_problem(blocks: List[Dict[str, Any]]) -> str:
    """The first of Slack's Block Kit limits the blocks break, or "" (the limits the
    assistant's messages come near: counts and lengths, and the kinds it uses)."""
    if len(blocks) > 50:
        return "invalid_blocks: more than 50 blocks"
    for block in blocks:
        kind = block.get("type")
        if kind == "section":
            text = block.get("text") or {}
            if text.get("type") not in ("mrkdwn", "plain_text") or not 0 < len(text.get("text", "")) <= 3000:
                return "invalid_blocks: a section's text is empty or over 3000 characters"
        elif kind == "header":
            text = block.get("text") or {}
            if text.get("type") != "plain_text" or not 0 < len(text.get("text", "")) <= 150:
                return "invalid_blocks: a header must be plain text of at most 150 characters"
        elif kind == "context":
            if not 0 < len(block.get("elements") or []) <= 10:
                return "invalid_blocks: a context has 1 to 10 elements"
        elif kind == "actions":
            elements = block.get("elements") or []
            if not 0 < len(elements) <= 25 or len(block.get("block_id", "")) > 255:
                return "invalid_blocks: an actions block has 1 to 25 elements"
            for element in elements:
                text = (element.get("text") or {}).get("text", "")
                if element.get("type") != "button" or not 0 < len(text) <= 75:
                    return "invalid_blocks: a button's text is empty or over 75 characters"
                if len(element.get("value", "")) > 2000 or len(element.get("action_id", "")) > 255:
                    return "invalid_blocks: a button's value is over 2000 characters"
            if len({e.get("action_id") for e in elements}) != len(elements):
                return "invalid_blocks: action_ids repeat in a block"
        elif kind != "divider":
            return f"invalid_blocks: unknown block type {kind!r}"
    return ""
