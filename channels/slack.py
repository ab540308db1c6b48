"""Slack: the assistant in direct messages and where it is mentioned, with every
request checked as coming from Slack.

POST /webhooks/slack/webhook takes both Slack's Events API (direct messages and
mentions) and its interactivity requests (a click on one of the assistant's
buttons). The Slack app manifest in deploy/slack/manifest.yml points both there.

- **Only Slack gets in.** Every request must carry `X-Slack-Signature`, an
  HMAC-SHA256 of `v0:<timestamp>:<body>` with the app's signing secret, and an
  `X-Slack-Request-Timestamp` within five minutes of this server's clock. Anything
  else gets 401 and is not read further; an unsigned retry of an old request is as
  stale as the original.
- **Answered at once, replied to afterwards.** Slack waits three seconds for an
  answer and then sends the event again. The request is acknowledged as soon as it
  is checked, and the turn runs in the background; replies are posted with the Web
  API (chat.postMessage) into the thread the message came from (a mention in a
  channel starts one).
- **One answer per event.** Events already seen (their ids, for ten minutes) are
  acknowledged and ignored, so Slack's retries never produce a second answer; a
  person's second click on one message is ignored too. The ids are kept in the
  Redis of the production profile, shared by every server, or else in the server's
  memory (channels/seen.py).
- **Conversations** are `slack:<workspace>:<pseudonym>`: per workspace, per Slack
  conversation and per person, so nobody reaches another's conversation and no other
  channel can address one. The pseudonym is an HMAC of the Slack conversation and user
  ids with CONVERSATION_SECRET (channels/ownership.py), so the tracker store and the
  report hold no Slack user ids.
- **What people see.** Text as Block Kit sections; buttons as Block Kit buttons
  whose value is the button's payload (clicking one sends it, and the message then
  shows what was chosen instead of the buttons; in a channel thread only the person
  who asked can click them); the eligibility verdict (a message whose `custom` holds
  an `assessment`) as one message, drawn from its card (channels/card.py, the same
  card Teams and the widget draw): the verdict, the summary, why, what next and the
  sources as links. The verdict, programme and rule ids also travel as the message's
  metadata (`careers_assessment`), for scripted tests and other tools.
- **What the assistant reads.** The text as the person sees it: Slack's markup
  (mentions, links, `&amp;`) made plain.

Settings, from the environment through credentials.yml: SLACK_BOT_TOKEN (the bot
token, `xoxb-...`), SLACK_SIGNING_SECRET, and SLACK_API_URL (the Web API's address;
only tests change it). Without a token and secret the channel answers 503 and does
nothing. docs/slack.md says how to create the app.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import time
from typing import Any, Awaitable, Callable, Dict, Iterable, List, Optional, Text, Tuple
from urllib.parse import parse_qs

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncRateLimitErrorRetryHandler,
    async_default_handlers,
)
from slack_sdk.web.async_client import AsyncWebClient

from channels import card, limits, ownership
from channels.conversations import AfterAnswer, limit_request_size, read_json, refusal
from channels.seen import seen_store

logger = logging.getLogger(__name__)
# Lines any stranger can cause: once a minute each, with a count.
refusals = limits.RepeatedLogLines(logger)

# Environment variables, read by credentials.yml.
SLACK_BOT_TOKEN = "SLACK_BOT_TOKEN"
SLACK_SIGNING_SECRET = "SLACK_SIGNING_SECRET"
SLACK_API_URL = "SLACK_API_URL"
ENVIRONMENT = (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET, SLACK_API_URL)

DEFAULT_API_URL = "https://slack.com/api/"
MAX_REQUEST_AGE_SECONDS = 5 * 60
# The metadata event type under which a verdict's assessment is attached.
ASSESSMENT_EVENT = "careers_assessment"
ASSESSMENT_METADATA = ("verdict", "programme", "rules")
# Block Kit's limits: characters in a section, in a button's text and value; blocks
# and buttons per message.
SECTION_CHARACTERS = 3000
BUTTON_TEXT_CHARACTERS = 75
BUTTON_VALUE_CHARACTERS = 2000
MAX_BLOCKS = 50
BUTTONS_PER_BLOCK = 25
ACTION_PREFIX = "careers_button_"
NOT_YOUR_BUTTONS = (
    "Those buttons are for the person who asked. Mention me with your own question and I'll answer you."
)

_MENTION = re.compile(r"<@[A-Z0-9]+(?:\|[^>]*)?>")
# Slack's markup in what people write: links <url|label>, channels <#C1|name>,
# special mentions <!here>.
_LINK = re.compile(r"<((?:https?|mailto):[^|>\s]+)(?:\|([^>]*))?>")
_CHANNEL = re.compile(r"<#[A-Z0-9]+(?:\|([^>]*))?>")
_SPECIAL = re.compile(r"<![^>]*>")
# The block holding the assistant's buttons names whose they are (owner_tag).
_BUTTONS_BLOCK = re.compile(r"careers_([0-9a-f]{12})_[0-9]+")
_SLACK_ID = re.compile(r"^[A-Za-z0-9._-]{1,40}$")


# Checking requests -----------------------------------------------------------------


def signature(secret: Text, timestamp: Text, body: bytes) -> Text:
    """The `X-Slack-Signature` Slack sends with `body` at `timestamp`."""
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def owner_tag(secret: bytes, conversation: Text) -> Text:
    """A short tag, written on a message's buttons, of the conversation they belong to:
    in a channel thread, only the person who asked can click them."""
    return hmac.new(secret, f"buttons:{conversation}".encode(), hashlib.sha256).hexdigest()[:12]


def is_from_slack(
    secret: Text,
    timestamp: Optional[Text],
    sent_signature: Optional[Text],
    body: bytes,
    now: Optional[float] = None,
) -> bool:
    """True if the request was signed with the signing secret in the last five minutes."""
    if not secret or not timestamp or not sent_signature:
        return False
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    now = time.time() if now is None else now
    if abs(now - sent_at) > MAX_REQUEST_AGE_SECONDS:
        return False
    return hmac.compare_digest(sent_signature.encode(), signature(secret, timestamp, body).encode())


# Reading what Slack sends ----------------------------------------------------------


class Incoming:
    """A message or click to hand to Rasa: who, where, what, and where to reply."""

    def __init__(
        self, team: Text, channel: Text, user: Text, text: Text, thread_ts: Optional[Text], key: Text
    ) -> None:
        self.team, self.channel, self.user, self.text = team, channel, user, text
        self.thread_ts, self.key = thread_ts, key
        # A click: the message holding the buttons, the title of the one clicked, and
        # whose buttons they were (owner_tag of that conversation).
        self.clicked_message: Optional[Dict[Text, Any]] = None
        self.clicked_title: Text = ""
        self.owner: Text = ""

    def conversation(self, secret: bytes) -> Text:
        """`slack:<workspace>:<pseudonym of the Slack conversation and the person>`."""
        return ownership.namespaced(
            ownership.SLACK, f"{self.team}:{ownership.pseudonym(secret, self.team, self.channel, self.user)}"
        )


def _id(value: Any) -> Text:
    """A Slack id or timestamp as sent, or "" if it is not one."""
    return value if isinstance(value, str) and _SLACK_ID.match(value) else ""


def _object(value: Any) -> Dict[Text, Any]:
    return value if isinstance(value, dict) else {}


def plain(text: Text) -> Text:
    """What a person wrote, as they see it: Slack's mentions of the assistant and
    special mentions taken out, links and channel names as shown, &, < and > back."""
    text = _MENTION.sub(" ", text)
    text = _LINK.sub(lambda m: m.group(2) or m.group(1).removeprefix("mailto:"), text)
    text = _CHANNEL.sub(lambda m: f"#{m.group(1)}" if m.group(1) else "", text)
    text = _SPECIAL.sub(" ", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&").strip()


def message_event(body: Dict[Text, Any]) -> Optional[Incoming]:
    """A direct message to the assistant or a mention of it, from an Events API
    callback; None for anything else (its own messages, edits, joins, other events)."""
    event = _object(body.get("event"))
    kind = event.get("type")
    direct = kind == "message" and event.get("channel_type") == "im"
    if not (direct or kind == "app_mention"):
        return None
    if event.get("bot_id") or event.get("subtype"):
        return None  # the assistant's own posts, edits, deletions, joins
    team = _id(body.get("team_id") or event.get("team"))
    user, channel, ts = _id(event.get("user")), _id(event.get("channel")), _id(event.get("ts"))
    text = event.get("text")
    if not (team and user and channel and ts) or not isinstance(text, str):
        return None
    # A mention in a channel is answered in a thread; a direct message only in one
    # it came from.
    thread = _id(event.get("thread_ts")) or (None if direct else ts)
    text = plain(text)
    # One key for a message however it arrives (a mention in a DM comes as both).
    return Incoming(team, channel, user, text, thread, f"message:{channel}:{ts}")


def button_click(payload: Dict[Text, Any]) -> Optional[Incoming]:
    """A click on one of the assistant's buttons, from an interactivity request."""
    if payload.get("type") != "block_actions":
        return None
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions:
        return None
    action = _object(actions[0])
    value = action.get("value")
    if not str(action.get("action_id", "")).startswith(ACTION_PREFIX) or not isinstance(value, str):
        return None
    team = _id(_object(payload.get("team")).get("id"))
    user = _id(_object(payload.get("user")).get("id"))
    channel = _id(_object(payload.get("channel")).get("id"))
    container, message = _object(payload.get("container")), _object(payload.get("message"))
    ts = _id(container.get("message_ts") or message.get("ts"))
    if not (team and user and channel and ts):
        return None
    thread = _id(container.get("thread_ts") or message.get("thread_ts")) or None
    # One click per person per message: a double click is one answer.
    click = Incoming(team, channel, user, value, thread, f"click:{channel}:{ts}:{user}")
    click.clicked_message = message or None
    owner = _BUTTONS_BLOCK.fullmatch(str(action.get("block_id", "")))
    click.owner = owner.group(1) if owner else ""
    click.clicked_title = str(_object(action.get("text")).get("text", ""))
    return click


# Showing the assistant's messages --------------------------------------------------


def escaped(text: Text) -> Text:
    """Text for Slack's mrkdwn: &, < and > would otherwise start a control sequence."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _pieces(text: Text, limit: int = SECTION_CHARACTERS) -> List[Text]:
    """`text` in pieces that are at most `limit` characters once escaped, cut at a
    line break or space where there is one (so an escape is never cut in two)."""
    pieces = []
    while len(escaped(text)) > limit:
        low, high = 1, min(len(text), limit)  # the longest start that fits: in [low, high]
        while low < high:
            middle = (low + high + 1) // 2
            low, high = (middle, high) if len(escaped(text[:middle])) <= limit else (low, middle - 1)
        cut = low
        space = max(text.rfind("\n", 0, cut), text.rfind(" ", 0, cut))
        cut = space if space > cut // 2 else cut
        pieces.append(text[:cut].rstrip())
        text = text[cut:].lstrip()
    return pieces + [text] if text else pieces


def _section(mrkdwn: Text) -> Dict[Text, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}}


def _sections(text: Text) -> List[Dict[Text, Any]]:
    """Plain `text` as sections: one per paragraph, long ones in pieces within
    Slack's limit."""
    return [_section(escaped(piece)) for p in text.split("\n\n") for piece in _pieces(p.strip())]


def _lines(heading: Text, lines: List[Text]) -> List[Dict[Text, Any]]:
    """A bold heading and lines already in Slack's markup, as few sections as fit."""
    blocks, current = [], f"*{heading}*"
    for line in lines:
        line = line[: SECTION_CHARACTERS - 1]
        if len(current) + 1 + len(line) > SECTION_CHARACTERS:
            blocks.append(_section(current))
            current = line
        else:
            current = f"{current}\n{line}"
    blocks.append(_section(current))
    return blocks


def _buttons(buttons: Iterable[Any], owner: Text) -> List[Dict[Text, Any]]:
    elements = []
    for number, button in enumerate(buttons):
        if not isinstance(button, dict):
            continue
        title, payload = button.get("title"), button.get("payload")
        if not isinstance(title, str) or not isinstance(payload, str) or not title.strip():
            continue
        if len(payload) > BUTTON_VALUE_CHARACTERS:
            continue
        elements.append(
            {
                "type": "button",
                "text": {"type": "plain_text", "text": title[:BUTTON_TEXT_CHARACTERS], "emoji": True},
                "value": payload,
                "action_id": f"{ACTION_PREFIX}{number}",
            }
        )
    return [
        {
            "type": "actions",
            "block_id": f"careers_{owner}_{start}",
            "elements": elements[start : start + BUTTONS_PER_BLOCK],
        }
        for start in range(0, len(elements), BUTTONS_PER_BLOCK)
    ]


def _mrkdwn(item: Dict[Text, Text]) -> Text:
    """A card item in Slack's markup: its text, or its link shown by its title."""
    if card.URL in item:
        return f"<{item[card.URL]}|{escaped(item[card.TITLE])}>"
    return escaped(item[card.TEXT])


def verdict_blocks(verdict: Dict[Text, Any]) -> List[Dict[Text, Any]]:
    """A verdict's card (channels/card.py) in Block Kit: what it is for, the verdict,
    the summary, then each section under its bold heading, the sources after a
    divider as links."""
    blocks: List[Dict[Text, Any]] = [
        {"type": "context", "elements": [{"type": "mrkdwn", "text": escaped(verdict[card.KICKER])}]},
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": f"{verdict[card.MARK]} {verdict[card.LABEL]}".strip()[:150],
                "emoji": True,
            },
        },
    ]
    for paragraph in verdict[card.SUMMARY]:
        blocks += _sections(paragraph)
    for section in verdict[card.SECTIONS]:
        lines = [_mrkdwn(item) for item in section[card.ITEMS]]
        if section[card.HEADING] == card.SOURCES:
            blocks.append({"type": "divider"})
        else:
            lines = [f"• {line}" for line in lines]
        blocks += _lines(section[card.HEADING], lines)
    return blocks


def slack_message(message: Dict[Text, Any], owner: Text = "0" * 12) -> Optional[Dict[Text, Any]]:
    """One of Rasa's bot messages ({text, buttons, custom, ...}) as the arguments of
    chat.postMessage (without the channel), its buttons tagged with `owner`
    (owner_tag); None if there is nothing to show."""
    text = message["text"] if isinstance(message.get("text"), str) else ""
    buttons = message.get("buttons") or message.get("quick_replies") or []
    custom = message.get("custom")
    assessment = custom.get(card.ASSESSMENT) if isinstance(custom, dict) else None
    verdict = card.verdict_card(assessment, text)
    post: Dict[Text, Any] = {}
    if isinstance(assessment, dict) and verdict is not None:
        blocks = verdict_blocks(verdict)
        # What the verdict was, for tools; not the reasons, which repeat what the
        # person said about themselves.
        summary = {key: assessment.get(key) for key in ASSESSMENT_METADATA if key in assessment}
        post["metadata"] = {"event_type": ASSESSMENT_EVENT, "event_payload": summary}
    else:
        blocks = _sections(text)
    actions = _buttons(buttons if isinstance(buttons, list) else [], owner)
    if not blocks and not actions:
        return None
    # Within Slack's limit on blocks, the buttons are kept.
    post["blocks"] = blocks[: max(MAX_BLOCKS - len(actions), 0)] + actions[:MAX_BLOCKS]
    # The notification and screen-reader text: the whole message, plain.
    post["text"] = (text or "The assistant replied.")[:SECTION_CHARACTERS]
    return post


def chosen(message: Dict[Text, Any], title: Text) -> Optional[List[Dict[Text, Any]]]:
    """The blocks of a message whose button was clicked: its buttons replaced by what
    was chosen, so a button cannot be clicked twice."""
    blocks = message.get("blocks")
    if not isinstance(blocks, list):
        return None
    kept = [b for b in blocks if isinstance(b, dict) and b.get("type") != "actions"]
    if len(kept) == len(blocks):
        return None
    kept.append({"type": "context", "elements": [{"type": "mrkdwn", "text": escaped(f"You chose: {title}")}]})
    return kept


# The channel -----------------------------------------------------------------------


def slack_error(error: Exception) -> Text:
    """What went wrong, for the log: Slack's error code (`not_in_channel`,
    `invalid_auth`, ...) or the exception's type, never the request."""
    response = getattr(error, "response", None)
    try:
        code = response.get("error") if response is not None else None
    except Exception:
        code = None
    return f"{type(error).__name__}: {code}" if isinstance(code, str) else type(error).__name__


class SlackOutput(OutputChannel):
    """Posts the assistant's messages into one Slack conversation (and thread)."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def __init__(
        self, client: AsyncWebClient, channel: Text, thread_ts: Optional[Text], owner: Text = "0" * 12
    ) -> None:
        self.client, self.channel, self.thread_ts, self.owner = client, channel, thread_ts, owner

    async def post(self, arguments: Dict[Text, Any]) -> None:
        if self.thread_ts:
            arguments = {**arguments, "thread_ts": self.thread_ts}
        try:
            await self.client.chat_postMessage(channel=self.channel, **arguments)
        except Exception as error:  # Slack down or refusing: logged, the turn goes on
            logger.warning("Slack: a reply could not be posted (%s).", slack_error(error))

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        arguments = slack_message(message, self.owner)
        if arguments is not None:
            await self.post(arguments)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})


class SlackInput(InputChannel):
    """Slack's Events API and interactivity, at /webhooks/slack/webhook."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            str(credentials.get("bot_token") or ""),
            str(credentials.get("signing_secret") or ""),
            str(credentials.get("api_url") or "") or DEFAULT_API_URL,
        )

    def __init__(self, bot_token: Text, signing_secret: Text, api_url: Text = DEFAULT_API_URL) -> None:
        self.bot_token, self.signing_secret = bot_token, signing_secret
        self.api_url = api_url if api_url.endswith("/") else api_url + "/"
        self.seen = seen_store("slack")
        self.secret = b""  # CONVERSATION_SECRET, read when the server starts
        self.bounds = limits.shared()
        # "You're sending messages faster...": once a minute at most per conversation.
        self.notices = limits.RateLimiter(per_minute=1, burst=1)
        self._client: Optional[AsyncWebClient] = None
        self.after_answer = AfterAnswer()  # turns (and updates) after Slack's answer

    @property
    def configured(self) -> bool:
        return bool(self.bot_token and self.signing_secret)

    @property
    def client(self) -> AsyncWebClient:
        if self._client is None:  # made on first use, inside the server's event loop
            self._client = AsyncWebClient(
                token=self.bot_token,
                base_url=self.api_url,
                timeout=10,
                # Slack's rate limit (429) is waited out once, as it asks, besides the
                # default retry of a dropped connection.
                retry_handlers=[
                    *async_default_handlers(),
                    AsyncRateLimitErrorRetryHandler(max_retry_count=1),
                ],
            )
        return self._client

    def read(self, request: Request) -> Tuple[Optional[Dict[Text, Any]], Optional[Dict[Text, Any]]]:
        """The Events API body, or the interactivity payload (one of them), from a
        checked request; (None, None) if it is neither."""
        kind = request.content_type.split(";")[0].strip().lower()
        if kind == "application/json":
            body = read_json(request.body)
            return (body, None) if isinstance(body, dict) else (None, None)
        if kind == "application/x-www-form-urlencoded":
            try:
                form = parse_qs(request.body.decode())
            except ValueError:  # not UTF-8
                return None, None
            payload = read_json(form["payload"][0]) if form.get("payload") else None
            return (None, payload) if isinstance(payload, dict) else (None, None)
        return None, None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        self.secret = ownership.secret_from_environment()
        slack = Blueprint("careers_slack_webhook", __name__)
        limit_request_size(slack)

        self.after_answer.drain_on_stop(slack)

        @slack.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok" if self.configured else "not configured"})

        @slack.route("/webhook", methods=["POST"])
        async def webhook(request: Request) -> HTTPResponse:
            if not self.configured:
                return refusal(503, "Slack is not set up on this server.")
            headers = request.headers
            if not is_from_slack(
                self.signing_secret,
                headers.get("X-Slack-Request-Timestamp"),
                headers.get("X-Slack-Signature"),
                request.body,
            ):
                refusals.log(
                    logging.WARNING, "Slack: a request without a valid, recent signature was refused."
                )
                return refusal(401, "Not signed by Slack, or too old.")
            body, payload = self.read(request)
            if body is not None and body.get("type") == "url_verification":
                return response.json({"challenge": str(body.get("challenge", ""))})
            incoming = None
            if body is not None and body.get("type") == "event_callback":
                event_id = body.get("event_id")
                if isinstance(event_id, str) and not self.seen.first_time(f"event:{event_id}"):
                    return response.text("", headers={"X-Slack-No-Retry": "1"})
                incoming = message_event(body)
            elif payload is not None:
                incoming = button_click(payload)
            elif body is None:
                return refusal(400, "Send a Slack event or interaction.")
            if incoming is not None and self.seen.first_time(incoming.key):
                self.after_answer.start(self.handle(incoming, on_new_message))
            return response.text("")  # Slack asks for 200 within three seconds

        return slack

    async def handle(
        self, incoming: Incoming, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        """One turn, after Slack has had its answer."""
        conversation = incoming.conversation(self.secret)
        owner = owner_tag(self.secret, conversation)
        output = SlackOutput(self.client, incoming.channel, incoming.thread_ts, owner)
        try:
            if incoming.clicked_message is not None:
                if incoming.owner != owner:
                    await self.not_yours(incoming)
                    return
                # Not awaited: the turn must take its place in the conversation's
                # queue before anything typed after the click.
                self.after_answer.start(self.mark_chosen(incoming))
            if not self.bounds.messages.allow(conversation):
                if self.notices.allow(conversation):
                    await output.send_response(conversation, {"text": limits.TOO_MANY_MESSAGES})
                return
            text, marks = limits.bounded_message(incoming.text)
            await self.after_answer.turn(
                conversation,
                output,
                lambda replies: on_new_message(
                    UserMessage(text, replies, conversation, input_channel=self.name(), metadata=marks)
                ),
            )
        except Exception:  # logged without the message: it may hold personal details
            logger.exception("Slack: a message could not be handled.")

    async def mark_chosen(self, click: Incoming) -> None:
        message = click.clicked_message or {}
        blocks = chosen(message, click.clicked_title)
        if blocks is None or not isinstance(message.get("ts"), str):
            return
        try:
            await self.client.chat_update(
                channel=click.channel, ts=message["ts"], blocks=blocks, text=str(message.get("text") or "")
            )
        except Exception as error:
            logger.warning("Slack: the clicked message could not be updated (%s).", slack_error(error))

    async def not_yours(self, click: Incoming) -> None:
        """Someone clicked buttons offered to another person (in a channel thread):
        only they are told, and nothing else happens."""
        try:
            await self.client.chat_postEphemeral(
                channel=click.channel, user=click.user, text=NOT_YOUR_BUTTONS, thread_ts=click.thread_ts
            )
        except Exception as error:
            logger.warning("Slack: a notice could not be posted (%s).", slack_error(error))

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # replies need the Slack conversation a message came from
