"""The Microsoft Teams channel: Teams, through Azure Bot Service, posts each activity
to POST /webhooks/teams/webhook, and the replies go back through the Bot Connector.

Settings (credentials.yml passes them from the environment; docs/teams.md says how
to get each one from Azure):

- TEAMS_APP_ID, TEAMS_APP_PASSWORD: the bot's app registration (Microsoft App ID)
  and a client secret of it.
- TEAMS_TENANT_ID: for a single-tenant app (the only kind Azure creates now), the
  tenant it belongs to: replies get their token from that tenant, and an activity
  from any other tenant is refused (401). For an older multi-tenant app,
  `botframework.com` (the multi-tenant token authority): every tenant is served.
- If any of the three is empty the channel is not configured: its webhook answers
  every request with 503 and processes nothing.
- TEAMS_OPENID_METADATA_URL (default
  https://login.botframework.com/v1/.well-known/openidconfiguration) and
  TEAMS_TOKEN_URL (default
  https://login.microsoftonline.com/<tenant or botframework.com>/oauth2/v2.0/token):
  set only to point at a stand-in (tests/harness/bot_framework_standin.py) in tests.

Every request is authenticated as the Bot Framework's rules for "connector to bot"
say (BotFrameworkAuth): a Bearer JWT, signed with one of the keys the OpenID
metadata's `jwks_uri` lists (fetched with a short timeout, kept 24 hours, fetched
again when a token names an unknown key id, but at most once a minute), by RS256,
RS384 or RS512 only; issued by https://api.botframework.com for this app id; within
its validity period give or take 5 minutes; its `serviceUrl` claim the activity's
own `serviceUrl`; and, when the key lists endorsements, endorsed for the activity's
`channelId`. The activity must come from Teams (`channelId` msteams): the Azure Bot's
Web Chat and Direct Line channels carry Microsoft's tokens too, and their clients can
name any tenant. A request that fails any of these gets 401 and is not processed; the
log says why, never with the token or the message.

Rasa 3.6's own `botframework` channel differs: it takes the algorithm from the
token's own header (so a token can choose how it is checked), checks neither the
issuer nor the `serviceUrl` claim (so a token Microsoft issued for another service
URL would make the bot post its own credentials to any URL an activity names),
always asks the multi-tenant token endpoint (single-tenant apps cannot reply),
fetches keys with blocking calls, and handles each turn before answering Microsoft.

Here the webhook answers 200 at once and the turn runs in the background, so a slow
turn is never a timeout on Microsoft's side. `message` activities go to Rasa: their
text with `<at>...</at>` mentions taken out, or the payload of a button the person
clicked (buttons are `messageBack` card actions: the chat shows the title, Rasa gets
the payload). Other activity types are acknowledged and ignored, and so is an
activity id seen in the last 10 minutes (Microsoft retries). Messages are cut and
rates limited as channels/limits.py says; a person over the limit is told so, at
most once a minute, and the messages over it are dropped.

Each bot message becomes one Teams activity (TeamsOutput): text as markdown,
buttons as a hero card, and an eligibility verdict (a `custom.assessment` payload)
as an Adaptive Card drawn from its card (channels/card.py, the same card Slack and
the widget draw), with the verdict, programme and rule ids under
`channelData.careersAssessment`.
Conversations are `teams:<tenant>:<pseudonym of the Teams conversation and person>`,
an HMAC with CONVERSATION_SECRET (channels/ownership.py), so no other channel can
name one and the tracker store holds no Teams ids.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text
from urllib.parse import quote, urlsplit

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm
from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import card, limits, ownership
from channels.conversations import AfterAnswer, limit_request_size, read_json, refusal
from channels.seen import RecentIds, Seen, seen_store

logger = logging.getLogger(__name__)
# Lines any stranger can cause: once a minute each, with a count.
refusals = limits.RepeatedLogLines(logger)

# The environment variables credentials.yml passes to from_credentials, in its order
# (`python -m runtime` reads an unset one as empty).
ENVIRONMENT = (
    "TEAMS_APP_ID",
    "TEAMS_APP_PASSWORD",
    "TEAMS_TENANT_ID",
    "TEAMS_OPENID_METADATA_URL",
    "TEAMS_TOKEN_URL",
)

DEFAULT_OPENID_METADATA_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
TOKEN_URL_TEMPLATE = "https://login.microsoftonline.com/{authority}/oauth2/v2.0/token"
MULTI_TENANT_AUTHORITY = "botframework.com"
CONNECTOR_SCOPE = "https://api.botframework.com/.default"
ISSUER = "https://api.botframework.com"
TEAMS_CHANNEL = "msteams"
# Fixed here, never read from a token: a token cannot choose how it is checked.
ALGORITHMS = ("RS256", "RS384", "RS512")
CLOCK_SKEW_SECONDS = 300
KEYS_MAX_AGE_SECONDS = 24 * 3600
# The least time between two fetches of the signing keys, whatever tokens arrive.
MIN_REFRESH_SECONDS = 60
FETCH_TIMEOUT_SECONDS = 5
MAX_FETCHED_BYTES = 1024 * 1024
MAX_TOKEN_CHARACTERS = 16 * 1024
# Replies: how long one post may take, and how long before its expiry a token is renewed.
POST_TIMEOUT_SECONDS = 15
TOKEN_RENEWAL_SECONDS = 300
# Activity ids remembered, to ignore Microsoft's retries of one already taken.
DUPLICATE_WINDOW_SECONDS = 600
MAX_REMEMBERED_ACTIVITIES = 10_000
# How long a server that is stopping waits for turns under way.

ADAPTIVE_CARD = "application/vnd.microsoft.card.adaptive"
HERO_CARD = "application/vnd.microsoft.card.hero"
ADAPTIVE_CARD_VERSION = "1.4"
ASSESSMENT_CHANNEL_DATA = ("verdict", "programme", "rules")
# The tones the assessment payload names (the widget's styles) as Adaptive Card colours.
TONE_COLOURS = {"good": "Good", "caution": "Warning", "bad": "Attention"}

NOT_CONFIGURED = (
    "Microsoft Teams is not set up on this server: TEAMS_APP_ID, TEAMS_APP_PASSWORD and "
    "TEAMS_TENANT_ID (the app's tenant, or botframework.com for a multi-tenant app) "
    "must be set (docs/teams.md)."
)
UNAUTHORIZED = "The request did not carry a valid Bot Framework token for this bot."

_MENTION = re.compile(r"<at\b[^>]*>.*?</at>", re.IGNORECASE | re.DOTALL)
_TENANT = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class Unauthorized(Exception):
    """A request that failed authentication; the message says why, for the log."""


def _sha256(text: Text) -> Text:
    return hashlib.sha256(text.encode("utf-8", "replace")).hexdigest()


def _mapping(value: Any) -> Mapping[Text, Any]:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> Text:
    return value if isinstance(value, str) else ""


def normalised_url(url: Text) -> Text:
    """A service URL as compared: scheme and host in lower case, no trailing slash."""
    parts = urlsplit(url.strip())
    rest = parts.path.rstrip("/") + (f"?{parts.query}" if parts.query else "")
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}{rest}"


def bearer_token(authorization: Optional[Text]) -> Text:
    if not authorization:
        raise Unauthorized("no Authorization header")
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("the Authorization header is not a Bearer token")
    if len(token) > MAX_TOKEN_CHARACTERS or token.count(".") != 2:
        raise Unauthorized("the Bearer token is not a JWT")
    return token


class BotFrameworkAuth:
    """Checks the token on a request from the Bot Connector (Microsoft's side)."""

    def __init__(
        self,
        app_id: Text,
        openid_metadata_url: Text = DEFAULT_OPENID_METADATA_URL,
        *,
        leeway: float = CLOCK_SKEW_SECONDS,
        keys_max_age: float = KEYS_MAX_AGE_SECONDS,
        min_refresh_interval: float = MIN_REFRESH_SECONDS,
        timeout: float = FETCH_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id = app_id
        self.openid_metadata_url = openid_metadata_url
        self.leeway = leeway
        self.keys_max_age = keys_max_age
        self.min_refresh_interval = min_refresh_interval
        self.timeout = timeout
        self.clock = clock
        self.keys: Dict[Text, Dict[Text, Any]] = {}  # key id -> JWK
        self.fetches = 0  # attempts to fetch the keys, successful or not
        self._fetched_at: Optional[float] = None
        self._attempted_at: Optional[float] = None
        self._lock: Optional[asyncio.Lock] = None

    async def authenticate(
        self, authorization: Optional[Text], activity: Mapping[Text, Any]
    ) -> Dict[Text, Any]:
        """The token's claims if the request is Microsoft's for this bot; else raises
        Unauthorized saying why."""
        if not self.app_id:
            raise Unauthorized("no app id is configured")
        token = bearer_token(authorization)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise Unauthorized("the token's header cannot be read") from error
        if header.get("alg") not in ALGORITHMS:
            raise Unauthorized("the token is not signed with an allowed algorithm")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("the token names no signing key")
        jwk = await self._key(kid)
        try:
            public_key = RSAAlgorithm.from_jwk({"kty": "RSA", "n": jwk.get("n"), "e": jwk.get("e")})
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as error:
            raise Unauthorized("the signing key cannot be read") from error
        if not isinstance(public_key, RSAPublicKey):
            raise Unauthorized("the signing key is not a public key")
        try:
            claims = jwt.decode(
                token,
                key=public_key,
                algorithms=list(ALGORITHMS),
                audience=self.app_id,
                issuer=ISSUER,
                leeway=self.leeway,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("the token has expired") from error
        except jwt.ImmatureSignatureError as error:
            raise Unauthorized("the token is not valid yet") from error
        except jwt.InvalidAudienceError as error:
            raise Unauthorized("the token is for another app id") from error
        except jwt.InvalidIssuerError as error:
            raise Unauthorized("the token has the wrong issuer") from error
        except jwt.InvalidSignatureError as error:
            raise Unauthorized("the token's signature does not verify") from error
        except jwt.PyJWTError as error:
            raise Unauthorized(f"the token is not valid ({type(error).__name__})") from error
        if claims.get("iss") != ISSUER:
            raise Unauthorized("the token has the wrong issuer")
        self._check_service_url(claims, activity)
        self._check_endorsements(jwk, activity)
        return claims

    @staticmethod
    def _check_service_url(claims: Mapping[Text, Any], activity: Mapping[Text, Any]) -> None:
        # Also read by service_url_of, once checked.
        # The documentation spells the claim `serviceUrl`; Microsoft's SDKs read `serviceurl`.
        values = {v for k, v in claims.items() if k.lower() == "serviceurl"}
        service_url = activity.get("serviceUrl")
        if len(values) != 1 or not isinstance(service_url, str):
            raise Unauthorized("the token or the activity has no single service URL")
        claimed = values.pop()
        if not isinstance(claimed, str) or normalised_url(claimed) != normalised_url(service_url):
            raise Unauthorized("the token is for another service URL than the activity's")

    @staticmethod
    def _check_endorsements(jwk: Mapping[Text, Any], activity: Mapping[Text, Any]) -> None:
        if "endorsements" not in jwk:
            return
        endorsements = jwk.get("endorsements")
        channel = activity.get("channelId")
        if not isinstance(endorsements, list) or not isinstance(channel, str) or channel not in endorsements:
            raise Unauthorized("the signing key is not endorsed for the activity's channel")

    async def _key(self, kid: Text) -> Dict[Text, Any]:
        now = self.clock()
        stale = self._fetched_at is None or now - self._fetched_at > self.keys_max_age
        if self._lock is None:
            self._lock = asyncio.Lock()
        # A fetch under way is waited for (the first burst of activities after a start
        # would otherwise be refused for want of keys the first one is fetching).
        if (stale or kid not in self.keys) and (self._may_fetch(now) or self._lock.locked()):
            async with self._lock:
                # Another request may have fetched them while this one waited.
                if self._may_fetch(self.clock()):
                    if not stale:
                        logger.info("Teams: a token names an unknown signing key; fetching the keys again.")
                    await self._fetch()
        jwk = self.keys.get(kid)
        if jwk is None:
            if not self.keys:
                raise Unauthorized("there are no signing keys: the OpenID metadata could not be fetched")
            raise Unauthorized("the token names an unknown signing key")
        return jwk

    def _may_fetch(self, now: float) -> bool:
        return self._attempted_at is None or now - self._attempted_at >= self.min_refresh_interval

    async def _fetch(self) -> None:
        self._attempted_at = self.clock()
        self.fetches += 1
        try:
            timeout = aiohttp.ClientTimeout(total=self.timeout)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                metadata = await _get_json(session, self.openid_metadata_url)
                jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
                # Keys come over HTTPS, whatever the metadata says (a stand-in on
                # this machine, itself served over http, aside).
                schemes = (
                    ("https://", "http://")
                    if self.openid_metadata_url.startswith("http://")
                    else ("https://",)
                )
                if not isinstance(jwks_uri, str) or not jwks_uri.startswith(schemes):
                    raise ValueError("the OpenID metadata has no HTTPS jwks_uri")
                document = await _get_json(session, jwks_uri)
            listed = document.get("keys") if isinstance(document, dict) else None
            if not isinstance(listed, list):
                raise ValueError("the key set has no keys")
            keys = {
                key["kid"]: key
                for key in listed
                if isinstance(key, dict) and isinstance(key.get("kid"), str) and key.get("kty") == "RSA"
            }
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning(
                "Teams: could not fetch the Bot Framework signing keys (%s); %s.",
                type(error).__name__,
                "using the ones fetched before" if self.keys else "requests are refused until they can be",
            )
            return
        self.keys = keys
        self._fetched_at = self._attempted_at
        logger.info("Teams: fetched %d Bot Framework signing keys.", len(keys))


async def _get_json(session: aiohttp.ClientSession, url: Text) -> Any:
    chunks: List[bytes] = []
    size = 0
    async with session.get(url) as reply:
        reply.raise_for_status()
        async for chunk in reply.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > MAX_FETCHED_BYTES:
                raise ValueError(f"{url} sent more than {MAX_FETCHED_BYTES} bytes")
            chunks.append(chunk)
    value = read_json(b"".join(chunks))
    if value is None:
        raise ValueError(f"{url} sent no readable JSON")
    return value


def service_url_of(claims: Mapping[Text, Any]) -> Text:
    """The service URL a checked token names (the claim is spelt `serviceurl` by the
    connector, `serviceUrl` in the documentation)."""
    return next((v for k, v in claims.items() if k.lower() == "serviceurl" and isinstance(v, str)), "")


class ConnectorError(Exception):
    """A reply could not be posted to the Bot Connector."""


class BotConnector:
    """Posts replies to the Bot Connector with a token from the app's token endpoint,
    kept until shortly before it expires."""

    def __init__(
        self,
        app_id: Text,
        app_password: Text,
        token_url: Text,
        *,
        timeout: float = POST_TIMEOUT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app_id, self.app_password, self.token_url = app_id, app_password, token_url
        self.timeout = timeout
        self.clock = clock
        self._token: Optional[Text] = None
        self._renew_at = 0.0
        self._lock: Optional[asyncio.Lock] = None
        self._session: Optional[aiohttp.ClientSession] = None
        self._session_loop: Optional[asyncio.AbstractEventLoop] = None

    def _client(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._session_loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._session_loop = loop
            self._lock = None
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None

    async def token(self) -> Text:
        if self._token and self.clock() < self._renew_at:
            return self._token
        session = self._client()
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            if self._token and self.clock() < self._renew_at:
                return self._token
            form = {
                "grant_type": "client_credentials",
                "client_id": self.app_id,
                "client_secret": self.app_password,
                "scope": CONNECTOR_SCOPE,
            }
            try:
                async with session.post(self.token_url, data=form) as reply:
                    status = reply.status
                    body = await reply.json(content_type=None) if status == 200 else None
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                raise ConnectorError(f"the token endpoint failed ({type(error).__name__})") from error
            if status != 200 or not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
                raise ConnectorError(f"the token endpoint answered {status}")
            try:
                lifetime = float(body.get("expires_in", 3600))
            except (TypeError, ValueError):
                lifetime = 3600.0
            margin = min(TOKEN_RENEWAL_SECONDS, lifetime / 2)
            self._token, self._renew_at = body["access_token"], self.clock() + lifetime - margin
            return self._token

    async def reply(
        self, service_url: Text, conversation_id: Text, reply_to_id: Optional[Text], activity: Dict[Text, Any]
    ) -> None:
        """Posts `activity` to the conversation, as a reply to `reply_to_id` if given.
        Retried once after a refused token, a busy or failing connector or no answer."""
        url = f"{service_url.rstrip('/')}/v3/conversations/{quote(conversation_id, safe='')}/activities"
        if reply_to_id:
            url += f"/{quote(reply_to_id, safe='')}"
        problem = ""
        for attempt in range(2):
            if attempt:
                await asyncio.sleep(0.5)
            token = await self.token()
            try:
                async with self._client().post(
                    url, json=activity, headers={"Authorization": f"Bearer {token}"}
                ) as answer:
                    status = answer.status
            except (aiohttp.ClientError, asyncio.TimeoutError) as error:
                problem = f"no answer ({type(error).__name__})"
                continue
            if status < 300:
                return
            problem = f"it answered {status}"
            if status == 401:
                self._token = None
            elif status not in (429, 500, 502, 503, 504):
                break
        raise ConnectorError(f"the Bot Connector did not take a reply: {problem}")


def _text_block(text: Text, **style: Any) -> Dict[Text, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def _buttons(message: Mapping[Text, Any]) -> List[Dict[Text, Text]]:
    found = message.get("buttons") or message.get("quick_replies") or []
    return [
        {"title": str(b["title"]), "payload": str(b["payload"])}
        for b in (found if isinstance(found, list) else [])
        if isinstance(b, Mapping) and b.get("title") is not None and b.get("payload") is not None
    ]


def message_back(button: Mapping[Text, Text]) -> Dict[Text, Any]:
    """A card button that shows its title in the chat and sends its payload to the bot."""
    return {
        "type": "messageBack",
        "title": button["title"],
        "displayText": button["title"],
        "text": button["payload"],
    }


def hero_card(buttons: List[Dict[Text, Text]]) -> Dict[Text, Any]:
    return {"contentType": HERO_CARD, "content": {"buttons": [message_back(b) for b in buttons]}}


def _markdown(item: Mapping[Text, Text]) -> Text:
    """A card item in a TextBlock's markdown: its text, or its link shown by its title."""
    if card.URL in item:
        title = re.sub(r"([\\\[\]])", r"\\\1", item[card.TITLE])
        return f"[{title}]({item[card.URL].replace(')', '%29')})"
    return item[card.TEXT]


def verdict_card(verdict: Mapping[Text, Any], text: Text, buttons: List[Dict[Text, Text]]) -> Dict[Text, Any]:
    """An eligibility verdict's card (channels/card.py) as an Adaptive Card, with the
    message's text as its fallback and its buttons as actions."""
    body: List[Dict[Text, Any]] = [
        _text_block(verdict[card.KICKER], size="Small", isSubtle=True),
        _text_block(
            f"{verdict[card.MARK]} {verdict[card.LABEL]}".strip(),
            weight="Bolder",
            size="Large",
            color=TONE_COLOURS.get(verdict[card.TONE], "Default"),
            spacing="None",
        ),
    ]
    body.extend(_text_block(paragraph) for paragraph in verdict[card.SUMMARY])
    for section in verdict[card.SECTIONS]:
        body.append(_text_block(section[card.HEADING], weight="Bolder", spacing="Medium"))
        for item in section[card.ITEMS]:
            line = _markdown(item)
            # Reasons and steps as a list; the sources, links all, one to a line.
            shown = line if section[card.HEADING] == card.SOURCES else f"• {line}"
            body.append(_text_block(shown, spacing="Small"))
    content: Dict[Text, Any] = {
        "type": "AdaptiveCard",
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "version": ADAPTIVE_CARD_VERSION,
        "fallbackText": text.strip(),
        "body": body,
        "msteams": {"width": "Full"},
    }
    if buttons:
        content["actions"] = [
            {
                "type": "Action.Submit",
                "title": b["title"],
                "data": {
                    "msteams": {"type": "messageBack", "displayText": b["title"], "text": b["payload"]},
                    "payload": b["payload"],
                },
            }
            for b in buttons
        ]
    return {"contentType": ADAPTIVE_CARD, "content": content}


def teams_message(message: Mapping[Text, Any]) -> Optional[Dict[Text, Any]]:
    """One Teams message activity (without its addresses) for a Rasa bot message, or
    None if it has nothing to show."""
    text = _text(message.get("text")).strip()
    buttons = _buttons(message)
    custom = _mapping(message.get("custom"))
    assessment = _mapping(custom.get(card.ASSESSMENT))
    verdict = card.card_of(custom, text)
    image = _text(message.get("image"))
    activity: Dict[Text, Any] = {"type": "message", "textFormat": "markdown"}
    attachments: List[Dict[Text, Any]] = []
    if verdict is not None:
        # The card says it all; the text is what a client that cannot show cards shows.
        attachments.append(verdict_card(verdict, text, buttons))
        if text:
            activity["summary"] = text
        # What the verdict was, for tools; not the reasons, which repeat what the
        # person said about themselves.
        shown = {key: assessment[key] for key in ASSESSMENT_CHANNEL_DATA if key in assessment}
        activity["channelData"] = {"careersAssessment": shown}
    else:
        if text:
            activity["text"] = text
        if buttons:
            attachments.append(hero_card(buttons))
    if image.startswith("https://"):
        attachments.append({"contentType": HERO_CARD, "content": {"images": [{"url": image}]}})
    if not attachments and not text:
        return None
    if attachments:
        activity["attachments"] = attachments
    return activity


class TeamsOutput(OutputChannel):
    """Sends the bot's messages of one turn as replies to the activity that started it."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    def __init__(
        self, connector: BotConnector, activity: Mapping[Text, Any], service_url: Optional[Text] = None
    ) -> None:
        self.connector = connector
        self.service_url = service_url or _text(activity.get("serviceUrl"))
        self.conversation_id = _text(_mapping(activity.get("conversation")).get("id"))
        self.reply_to_id = _text(activity.get("id")) or None
        bot, person = _mapping(activity.get("recipient")), _mapping(activity.get("from"))
        self.bot = {k: bot[k] for k in ("id", "name") if isinstance(bot.get(k), str)}
        self.person = {k: person[k] for k in ("id", "name") if isinstance(person.get(k), str)}

    def addressed(self, body: Dict[Text, Any]) -> Dict[Text, Any]:
        activity = {
            **body,
            "from": self.bot,
            "recipient": self.person,
            "conversation": {"id": self.conversation_id},
        }
        if self.reply_to_id:
            activity["replyToId"] = self.reply_to_id
        return activity

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        body = teams_message(message)
        if body is not None:
            await self.post(body)

    async def post(self, body: Dict[Text, Any]) -> None:
        """Posts one activity; a failure is logged, never raised into Rasa's turn."""
        try:
            await self.connector.reply(
                self.service_url, self.conversation_id, self.reply_to_id, self.addressed(body)
            )
        except ConnectorError as error:
            logger.warning("Teams: a reply was lost: %s.", error)

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": buttons})

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"custom": json_message})

    async def send_image_url(self, recipient_id: Text, image: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"image": image})


def tenant_of(activity: Mapping[Text, Any]) -> Text:
    """The Microsoft 365 tenant an activity comes from, or "" if it names none."""
    tenant = _mapping(_mapping(activity.get("channelData")).get("tenant")).get("id")
    return _text(tenant) or _text(_mapping(activity.get("conversation")).get("tenantId"))


def message_text(activity: Mapping[Text, Any]) -> Text:
    """What a message activity says to the bot: a clicked button's payload, or its
    text without @mentions."""
    value = _mapping(activity.get("value"))
    for payload in (value.get("payload"), _mapping(value.get("msteams")).get("text")):
        if isinstance(payload, str) and payload.strip():
            return payload.strip()
    return _MENTION.sub(" ", _text(activity.get("text"))).strip()


def conversation_id(activity: Mapping[Text, Any], secret: bytes) -> Text:
    """The Rasa conversation of this person in this Teams conversation: short, in the
    Teams namespace whatever the ids in the activity hold, and without them."""
    tenant = tenant_of(activity).lower() or "none"
    if not _TENANT.match(tenant):
        tenant = f"t{_sha256(tenant)[:16]}"
    teams_conversation = _text(_mapping(activity.get("conversation")).get("id"))
    person = _text(_mapping(activity.get("from")).get("id"))
    return ownership.namespaced(
        ownership.TEAMS, f"{tenant}:{ownership.pseudonym(secret, tenant, teams_conversation, person)}"
    )


class RecentActivities:
    """Activities taken already (channels/seen.py: in Redis when the server has
    one, else in its memory), by conversation and activity id."""

    def __init__(self, store: Optional[Seen] = None) -> None:
        self.store: Seen = (
            store if store is not None else RecentIds(DUPLICATE_WINDOW_SECONDS, MAX_REMEMBERED_ACTIVITIES)
        )

    def seen_before(self, activity: Mapping[Text, Any]) -> bool:
        """Whether the activity was seen already; remembers it if not."""
        activity_id = _text(activity.get("id"))
        if not activity_id:
            return False
        key = _sha256(f"{_text(_mapping(activity.get('conversation')).get('id'))}|{activity_id}")[:32]
        return not self.store.first_time(key)


class TeamsInput(InputChannel):
    """Microsoft Teams, through Azure Bot Service: POST /webhooks/teams/webhook."""

    @classmethod
    def name(cls) -> Text:
        return "teams"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        settings = credentials or {}

        def setting(key: Text) -> Text:
            value = settings.get(key)
            return str(value).strip() if value is not None else ""

        return cls(
            setting("app_id"),
            setting("app_password"),
            tenant_id=setting("tenant_id"),
            openid_metadata_url=setting("openid_metadata_url"),
            token_url=setting("token_url"),
        )

    def __init__(
        self,
        app_id: Text = "",
        app_password: Text = "",
        *,
        tenant_id: Text = "",
        openid_metadata_url: Text = "",
        token_url: Text = "",
    ) -> None:
        self.app_id, self.app_password, self.tenant_id = app_id, app_password, tenant_id
        # A multi-tenant app says so: an empty tenant is a setting forgotten, not a
        # choice to take every organisation's messages.
        self.multi_tenant = tenant_id.lower() == MULTI_TENANT_AUTHORITY
        self.openid_metadata_url = openid_metadata_url or DEFAULT_OPENID_METADATA_URL
        self.token_url = token_url or TOKEN_URL_TEMPLATE.format(authority=quote(tenant_id, safe=""))
        self.configured = bool(app_id and app_password and tenant_id)
        self.auth = BotFrameworkAuth(app_id, self.openid_metadata_url)
        self.connector = BotConnector(app_id, app_password, self.token_url)
        self.recent = RecentActivities(seen_store("teams"))
        self.secret = b""  # CONVERSATION_SECRET, read when the server starts
        self.after_answer = AfterAnswer()

    def get_output_channel(self) -> Optional[OutputChannel]:
        return None  # a Teams reply needs the activity it answers

    def check_origin(self, activity: Mapping[Text, Any]) -> None:
        """Teams only (the Azure Bot's Web Chat and Direct Line channels carry tokens
        Microsoft signed too, and let their clients name any tenant); and for a
        single-tenant app, its own tenant only."""
        if activity.get("channelId") != TEAMS_CHANNEL:
            raise Unauthorized("the activity is not from Microsoft Teams")
        if not self.multi_tenant and tenant_of(activity).lower() != self.tenant_id.lower():
            raise Unauthorized("the activity is from another tenant than the app's")

    async def _handle(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]], message: UserMessage
    ) -> None:
        def with_output(replies: OutputChannel) -> Awaitable[Any]:
            message.output_channel = replies
            return on_new_message(message)

        try:
            await self.after_answer.turn(message.sender_id, message.output_channel, with_output)
        except Exception:  # logged without the message: it may hold personal details
            logger.exception("Teams: a message could not be handled.")

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        self.secret = ownership.secret_from_environment()
        bounds = limits.shared()
        notices = limits.RateLimiter(per_minute=1, burst=1)  # "slow down", once a minute at most
        webhook = Blueprint("careers_teams_webhook", __name__)
        limit_request_size(webhook)
        if not self.configured:
            logger.warning(
                "Teams: not configured (TEAMS_APP_ID, TEAMS_APP_PASSWORD, TEAMS_TENANT_ID); "
                "its webhook answers 503."
            )

        self.after_answer.drain_on_stop(webhook)

        @webhook.listener("after_server_stop")
        async def close(_app: Any, _loop: Any) -> None:
            await self.connector.close()

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok", "configured": self.configured})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if not self.configured:
                return refusal(503, NOT_CONFIGURED)
            authorization = request.headers.get("Authorization")
            try:
                bearer_token(authorization)
                activity = read_json(request.body)
                # Checked before the body is looked at: an unreadable one names no
                # service URL, so its token cannot match and it gets 401 like any other.
                claims = await self.auth.authenticate(
                    authorization, activity if isinstance(activity, dict) else {}
                )
                if not isinstance(activity, dict):
                    return refusal(400, "Send a Bot Framework activity: a JSON object.")
                self.check_origin(activity)
            except Unauthorized as refused:
                refusals.log(logging.WARNING, "Teams: refused a request (401): %s.", refused, kind="401")
                return refusal(401, UNAUTHORIZED)
            ok = response.json({}, status=200)
            if activity.get("type") != "message":
                return ok
            if not _text(_mapping(activity.get("conversation")).get("id")) or not _text(
                _mapping(activity.get("from")).get("id")
            ):
                return refusal(400, "The activity names no conversation or sender.")
            if self.recent.seen_before(activity):
                refusals.log(logging.INFO, "Teams: ignored an activity seen before (a retry).")
                return ok
            text = message_text(activity)
            if not text:
                return ok
            sender = conversation_id(activity, self.secret)
            # Replies go to the service URL Microsoft signed, not the activity's copy.
            output = TeamsOutput(self.connector, activity, service_url_of(claims))
            if not bounds.messages.allow(sender):
                if notices.allow(sender):
                    self.after_answer.start(
                        output.post({"type": "message", "text": limits.TOO_MANY_MESSAGES})
                    )
                return ok
            text, marks = limits.bounded_message(text)
            message = UserMessage(text, output, sender, input_channel=self.name(), metadata=marks)
            self.after_answer.start(self._handle(on_new_message, message))
            return ok

        return webhook
