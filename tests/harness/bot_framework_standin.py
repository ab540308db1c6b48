"""A stand-in for Microsoft's side of a Teams bot, on 127.0.0.1, for tests and for
playing scripted conversations through the Teams channel (channels/teams.py)
without the internet.

It serves what the channel fetches and posts to:

- OpenID metadata, GET /v1/.well-known/openidconfiguration, whose `jwks_uri` is
  its own GET /v1/.well-known/keys: RSA public keys, made when it starts, each
  with a `kid` and `endorsements: ["msteams"]`;
- a token endpoint, POST [/<tenant>]/oauth2/v2.0/token (client-credentials grant),
  which records each form it gets and issues an access token if the app id and
  password are right;
- a Bot Connector, POST /v3/conversations/<id>/activities[/<id>], which takes an
  activity only with a token it issued, and records it.

and plays the Bot Connector's part towards the bot: `mint` signs a token as the
connector would (or as an attacker might), `activity` makes a Teams message, and
`deliver` posts one to the bot's webhook. `posted`, `wait_for`, `wait_until` and
`replies_to` read back what the bot answered; `text_of`, `buttons_of`,
`assessment_of` and `rasa_messages` read one of its activities.

    with BotFrameworkStandIn() as microsoft:
        env = microsoft.env()            # TEAMS_* settings for the Rasa server
        ...
        hello = microsoft.activity("hi")
        status, _ = microsoft.deliver(webhook_url, hello)     # 200 at once
        replies = microsoft.replies_to(hello["id"])            # the turn's answer
        click = buttons_of(replies[-1])[0]["payload"]          # a messageBack click
        microsoft.deliver(webhook_url, microsoft.activity(click))

Nothing here reaches the internet: every address is 127.0.0.1.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qs, unquote, urlsplit

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

ISSUER = "https://api.botframework.com"
CONNECTOR_SCOPE = "https://api.botframework.com/.default"
CHANNEL = "msteams"
# The key that would sign a token in an attack: anyone's but the stand-in's.
Key = Union[rsa.RSAPrivateKey, bytes, str]


def new_key() -> rsa.RSAPrivateKey:
    """A fresh RSA key (2048 bits), such as one not listed in the stand-in's key set."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _number(value: int) -> str:
    return _b64(value.to_bytes((value.bit_length() + 7) // 8, "big"))


def public_pem(key: rsa.RSAPrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


@dataclass
class Posted:
    """One activity the bot posted to the connector."""

    conversation_id: str
    reply_to_id: Optional[str]
    activity: Dict[str, Any]


class BotFrameworkStandIn:
    """Microsoft's side, on a free port of 127.0.0.1; start() and stop(), or `with`."""

    def __init__(
        self,
        app_id: Optional[str] = None,
        app_password: Optional[str] = None,
        tenant_id: str = "11111111-2222-4333-8444-555555555555",
    ) -> None:
        self.app_id = app_id or f"00000000-0000-4000-8000-{secrets.token_hex(6)}"
        self.app_password = app_password or secrets.token_urlsafe(24)
        self.tenant_id = tenant_id
        self.kid = ""
        self._keys: Dict[str, Tuple[rsa.RSAPrivateKey, List[str]]] = {}
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None
        self._changed = threading.Condition()
        self._posted: List[Posted] = []
        self._issued: List[str] = []
        self.token_requests: List[Dict[str, str]] = []  # each form the token endpoint got
        self.metadata_requests = 0
        self.key_requests = 0
        self.refused_posts = 0  # posts to the connector without a token it issued
        self.rejected: List[str] = []  # activities Teams would not show, and why
        # When set, the connector answers every post with this status (a connector down).
        self.connector_failure: Optional[int] = None
        self.url = ""

    # -- running ------------------------------------------------------------------

    def start(self) -> "BotFrameworkStandIn":
        if not self._keys:
            self.kid = self.add_key()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="bot-framework-standin")
        self._thread.daemon = True
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> "BotFrameworkStandIn":
        return self.start()

    def __exit__(self, *_: Any) -> None:
        self.stop()

    @property
    def service_url(self) -> str:
        """The serviceUrl of its activities (with a trailing slash, as Microsoft's have)."""
        return f"{self.url}/"

    @property
    def openid_metadata_url(self) -> str:
        return f"{self.url}/v1/.well-known/openidconfiguration"

    @property
    def token_url(self) -> str:
        return f"{self.url}/oauth2/v2.0/token"

    def env(self, *, single_tenant: bool = True) -> Dict[str, str]:
        """The TEAMS_* environment variables of a Rasa server that talks to this stand-in."""
        return {
            "TEAMS_APP_ID": self.app_id,
            "TEAMS_APP_PASSWORD": self.app_password,
            "TEAMS_TENANT_ID": self.tenant_id if single_tenant else "botframework.com",
            "TEAMS_OPENID_METADATA_URL": self.openid_metadata_url,
            "TEAMS_TOKEN_URL": self.token_url,
        }

    # -- keys and tokens -------------------------------------------------------------

    def add_key(self, kid: Optional[str] = None, endorsements: Iterable[str] = (CHANNEL,)) -> str:
        """A new signing key in the key set (as when Microsoft rotates keys); its kid."""
        kid = kid or secrets.token_urlsafe(12)
        with self._changed:
            self._keys[kid] = (new_key(), list(endorsements))
        return kid

    def key(self, kid: Optional[str] = None) -> rsa.RSAPrivateKey:
        return self._keys[kid or self.kid][0]

    def jwks(self) -> Dict[str, Any]:
        with self._changed:
            keys = list(self._keys.items())
        listed = []
        for kid, (key, endorsements) in keys:
            numbers = key.public_key().public_numbers()
            listed.append(
                {
                    "kty": "RSA",
                    "use": "sig",
                    "kid": kid,
                    "n": _number(numbers.n),
                    "e": _number(numbers.e),
                    "endorsements": endorsements,
                }
            )
        return {"keys": listed}

    def claims(self, overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
        """A connector token's claims; an override of None leaves that claim out."""
        now = int(time.time())
        claims: Dict[str, Any] = {
            "iss": ISSUER,
            "aud": self.app_id,
            # Spelt as the Bot Connector's tokens spell it (the documentation says
            # `serviceUrl`; Microsoft's SDKs read `serviceurl`).
            "serviceurl": self.service_url,
            "nbf": now - 5,
            "iat": now - 5,
            "exp": now + 3600,
        }
        for name, value in (overrides or {}).items():
            if value is None:
                claims.pop(name, None)
            else:
                claims[name] = value
        return claims

    def mint(
        self,
        claims_overrides: Optional[Mapping[str, Any]] = None,
        *,
        key: Optional[Key] = None,
        alg: str = "RS256",
        kid: Optional[str] = None,
        headers: Optional[Mapping[str, Any]] = None,
    ) -> str:
        """A token as the Bot Connector signs it: by default RS256 with the stand-in's
        key, for its app id and service URL, valid for an hour. `key` signs with
        another RSA key; `alg="none"` makes an unsigned token, and `alg="HS256"` one
        signed by HMAC with `key` (bytes or text) or, by default, with the stand-in's
        public key in PEM, the classic algorithm-confusion attack. `headers` adds to
        or replaces the JWT header."""
        payload = self.claims(claims_overrides)
        header: Dict[str, Any] = {"alg": alg, "typ": "JWT", "kid": kid or self.kid, **(headers or {})}
        if alg.upper().startswith("RS") or alg.upper().startswith("PS"):
            signer = (
                key if isinstance(key, rsa.RSAPrivateKey) else self.key(kid if kid in self._keys else None)
            )
            extra = {k: v for k, v in header.items() if k not in ("alg", "typ")}
            return jwt.encode(payload, signer, algorithm=alg, headers=extra)
        signing_input = (
            f"{_b64(json.dumps(header).encode())}.{_b64(json.dumps(payload, separators=(',', ':')).encode())}"
        )
        if alg.lower() == "none":
            return f"{signing_input}."
        digests = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}
        if alg.upper() not in digests:
            raise ValueError(f"mint cannot sign with {alg}")
        if isinstance(key, rsa.RSAPrivateKey) or key is None:
            secret = public_pem(key if isinstance(key, rsa.RSAPrivateKey) else self.key())
        else:
            secret = key.encode() if isinstance(key, str) else key
        signature = hmac.new(secret, signing_input.encode(), digests[alg.upper()]).digest()
        return f"{signing_input}.{_b64(signature)}"

    # -- Microsoft's side of the conversation ---------------------------------------

    def activity(
        self,
        text: Optional[str] = None,
        value: Optional[Any] = None,
        *,
        conversation_id: str = "a:1teams-personal-chat",
        user_id: str = "29:1teams-user",
        tenant_id: Optional[str] = None,
        activity_id: Optional[str] = None,
        activity_type: str = "message",
        channel_id: str = CHANNEL,
        service_url: Optional[str] = None,
    ) -> Dict[str, Any]:
        """A Teams activity from a person to the bot, as the Bot Connector posts it."""
        tenant = self.tenant_id if tenant_id is None else tenant_id
        activity: Dict[str, Any] = {
            "type": activity_type,
            "id": activity_id or f"1{secrets.randbelow(10**12):012d}",
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
            "serviceUrl": self.service_url if service_url is None else service_url,
            "channelId": channel_id,
            "from": {"id": user_id, "name": "Test Person", "aadObjectId": "0000-person"},
            "conversation": {"conversationType": "personal", "tenantId": tenant, "id": conversation_id},
            "recipient": {"id": f"28:{self.app_id}", "name": "Careers adviser"},
            "channelData": {"tenant": {"id": tenant}},
            "locale": "en-GB",
        }
        if text is not None:
            activity["text"] = text
            activity["textFormat"] = "plain"
        if value is not None:
            activity["value"] = value
        return activity

    def deliver(
        self,
        webhook_url: str,
        activity: Mapping[str, Any],
        token: Optional[str] = None,
        *,
        authorization: Optional[str] = None,
        timeout: float = 30,
    ) -> Tuple[int, Any]:
        """Posts an activity to the bot as the Bot Connector would: with `Authorization:
        Bearer <token>` (a fresh `mint()` by default), or the `authorization` header
        given ("" for none). The status and the JSON answer (or its text)."""
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if authorization is None:
            authorization = f"Bearer {token or self.mint()}"
        if authorization:
            headers["Authorization"] = authorization
        request = urllib.request.Request(
            webhook_url, data=json.dumps(activity).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        try:
            return status, json.loads(body or b"null")
        except ValueError:
            return status, body.decode("utf-8", "replace")

    # -- what the bot posted ----------------------------------------------------------

    def posted(self, conversation_id: Optional[str] = None) -> List[Dict[str, Any]]:
        """The activities the bot posted, oldest first, to one Teams conversation or all."""
        with self._changed:
            return [
                p.activity
                for p in self._posted
                if conversation_id is None or p.conversation_id == conversation_id
            ]

    def wait_for(
        self, n: int, conversation_id: Optional[str] = None, timeout: float = 30
    ) -> List[Dict[str, Any]]:
        """The first `n` (or more) activities posted to the conversation, waiting up to
        `timeout` seconds for them; TimeoutError if they do not come."""
        found: List[Dict[str, Any]] = []

        def enough() -> bool:
            found[:] = self.posted(conversation_id)
            return len(found) >= n

        self._wait(enough, timeout, f"{n} activities in {conversation_id or 'any conversation'}")
        return found

    def wait_until(
        self,
        predicate: Callable[[Dict[str, Any]], bool],
        conversation_id: Optional[str] = None,
        timeout: float = 30,
    ) -> Dict[str, Any]:
        """The first activity posted to the conversation that `predicate` accepts."""
        match: List[Dict[str, Any]] = []

        def found() -> bool:
            match[:] = [a for a in self.posted(conversation_id) if predicate(a)][:1]
            return bool(match)

        self._wait(found, timeout, f"a matching activity in {conversation_id or 'any conversation'}")
        return match[0]

    def replies_to(
        self,
        activity_id: str,
        until: Optional[Callable[[List[Dict[str, Any]]], bool]] = None,
        timeout: float = 30,
    ) -> List[Dict[str, Any]]:
        """The bot's replies to one activity (its turn), once `until` accepts them (by
        default: once there is one); TimeoutError if that does not happen in time."""
        replies: List[Dict[str, Any]] = []

        def done() -> bool:
            replies[:] = [a for a in self.posted() if a.get("replyToId") == activity_id]
            return until(list(replies)) if until is not None else bool(replies)

        self._wait(done, timeout, f"the replies wanted to activity {activity_id}")
        return replies

    def _wait(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        with self._changed:
            while not done():
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"the bot did not post {what} within {timeout:g} s")
                self._changed.wait(left)

    # -- the HTTP side ------------------------------------------------------------------

    def _issue_token(self, form: Dict[str, str]) -> Tuple[int, Dict[str, Any]]:
        with self._changed:
            self.token_requests.append(dict(form))
        good = (
            form.get("grant_type") == "client_credentials"
            and form.get("client_id") == self.app_id
            and hmac.compare_digest(form.get("client_secret", "").encode(), self.app_password.encode())
            and form.get("scope") == CONNECTOR_SCOPE
        )
        if not good:
            return 401, {"error": "invalid_client"}
        token = secrets.token_urlsafe(32)
        with self._changed:
            self._issued.append(token)
        return 200, {
            "token_type": "Bearer",
            "expires_in": 3600,
            "ext_expires_in": 3600,
            "access_token": token,
        }

    def _take_post(self, authorization: str, conversation_id: str, reply_to: Optional[str], body: Any) -> int:
        token = authorization[len("Bearer ") :] if authorization.startswith("Bearer ") else ""
        with self._changed:
            if not token or token not in self._issued:
                self.refused_posts += 1
                return 401
            if self.connector_failure is not None:
                return self.connector_failure
            if not isinstance(body, dict):
                return 400
            problem = activity_problem(body)
            if problem:
                self.rejected.append(problem)
                return 400
            self._posted.append(Posted(conversation_id, reply_to, body))
            self._changed.notify_all()
        return 200


def _handler_for(standin: BotFrameworkStandIn) -> type:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *_: Any) -> None:  # quiet: tests read the records instead
            pass

        def _answer(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def do_GET(self) -> None:
            path = urlsplit(self.path).path
            if path == "/v1/.well-known/openidconfiguration":
                with standin._changed:
                    standin.metadata_requests += 1
                self._answer(
                    200,
                    {
                        "issuer": ISSUER,
                        "authorization_endpoint": "https://invalid.botframework.com",
                        "jwks_uri": f"{standin.url}/v1/.well-known/keys",
                        "id_token_signing_alg_values_supported": ["RS256"],
                        "token_endpoint_auth_methods_supported": ["private_key_jwt"],
                    },
                )
            elif path == "/v1/.well-known/keys":
                with standin._changed:
                    standin.key_requests += 1
                self._answer(200, standin.jwks())
            else:
                self._answer(404, {"error": "not found"})

        def do_POST(self) -> None:
            path = urlsplit(self.path).path
            raw = self._body()
            if path.endswith("/oauth2/v2.0/token"):
                form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
                self._answer(*standin._issue_token(form))
                return
            parts = [unquote(p) for p in path.strip("/").split("/")]
            if len(parts) in (4, 5) and parts[:2] == ["v3", "conversations"] and parts[3] == "activities":
                try:
                    body = json.loads(raw or b"null")
                except ValueError:
                    body = None
                reply_to = parts[4] if len(parts) == 5 else None
                status = standin._take_post(self.headers.get("Authorization", ""), parts[2], reply_to, body)
                self._answer(status, {"id": secrets.token_hex(8)} if status == 200 else {"error": status})
                return
            self._answer(404, {"error": "not found"})

    return Handler


# -- reading the bot's activities ----------------------------------------------------


def _card_texts(element: Any) -> List[str]:
    """The text of an Adaptive Card's TextBlocks, in order."""
    found: List[str] = []
    if isinstance(element, dict):
        if element.get("type") == "TextBlock" and isinstance(element.get("text"), str):
            found.append(element["text"])
        for value in element.values():
            found.extend(_card_texts(value))
    elif isinstance(element, list):
        for item in element:
            found.extend(_card_texts(item))
    return found


def text_of(activity: Mapping[str, Any]) -> str:
    """What the person reads in one of the bot's activities: its text, or for a card
    its summary (the whole message) and then the card's own text."""
    parts = [activity.get("text") or "", activity.get("summary") or ""]
    for attachment in activity.get("attachments") or []:
        content = attachment.get("content") if isinstance(attachment, dict) else None
        if isinstance(content, dict) and not activity.get("summary"):
            parts.extend(_card_texts(content.get("body")))
            if isinstance(content.get("text"), str):
                parts.append(content["text"])
    return "\n\n".join(p for p in parts if p)


def buttons_of(activity: Mapping[str, Any]) -> List[Dict[str, str]]:
    """The buttons on one of the bot's activities, as {title, payload}: the text a
    click sends (messageBack) is the payload."""
    found: List[Dict[str, str]] = []
    for attachment in activity.get("attachments") or []:
        content = attachment.get("content") if isinstance(attachment, dict) else None
        if not isinstance(content, dict):
            continue
        for button in content.get("buttons") or []:
            if isinstance(button, dict) and button.get("type") == "messageBack":
                found.append({"title": button.get("title", ""), "payload": button.get("text", "")})
        for action in content.get("actions") or []:
            back = (action.get("data") or {}).get("msteams") if isinstance(action, dict) else None
            if isinstance(back, dict) and back.get("type") == "messageBack":
                found.append({"title": action.get("title", ""), "payload": back.get("text", "")})
    return found


def assessment_of(activity: Mapping[str, Any]) -> Optional[Dict[str, Any]]:
    """The eligibility verdict the bot sent with an activity, if any."""
    data = activity.get("channelData")
    found = data.get("careersAssessment") if isinstance(data, dict) else None
    return found if isinstance(found, dict) else None


def rasa_messages(activities: Iterable[Mapping[str, Any]]) -> List[Dict[str, Any]]:
    """The bot's activities in the shape of Rasa's bot messages ({text, buttons,
    custom: {assessment}}), for tools that check replies the same way on every channel."""
    messages = []
    for activity in activities:
        message: Dict[str, Any] = {"text": activity.get("text") or activity.get("summary") or ""}
        buttons = buttons_of(activity)
        if buttons:
            message["buttons"] = buttons
        assessment = assessment_of(activity)
        if assessment is not None:
            message["custom"] = {"assessment": assessment}
        messages.append(message)
    return messages


ADAPTIVE_ELEMENTS = {"TextBlock", "Container", "ColumnSet", "FactSet", "Image", "ActionSet", "RichTextBlock"}
ADAPTIVE_ACTIONS = {"Action.Submit", "Action.OpenUrl", "Action.Execute", "Action.ShowCard"}


def activity_problem(activity: Mapping[str, Any]) -> str:
    """Why Teams would not show an activity the bot posted (the shapes the assistant
    uses: text, hero cards with card actions, Adaptive Cards up to version 1.5), or ""."""
    if activity.get("type") != "message":
        return "not a message activity"
    attachments = activity.get("attachments") or []
    if not activity.get("text") and not attachments:
        return "a message with neither text nor attachments"
    for attachment in attachments:
        kind, content = attachment.get("contentType"), attachment.get("content")
        if not isinstance(content, dict):
            return "an attachment without content"
        if kind == "application/vnd.microsoft.card.hero":
            for button in content.get("buttons") or []:
                if button.get("type") not in ("imBack", "messageBack", "openUrl") or not button.get("title"):
                    return "a hero card button without a type Teams knows or a title"
                if button.get("type") == "messageBack" and not (button.get("text") or button.get("value")):
                    return "a messageBack button that sends nothing"
        elif kind == "application/vnd.microsoft.card.adaptive":
            if content.get("type") != "AdaptiveCard" or content.get("version") not in (
                "1.0",
                "1.1",
                "1.2",
                "1.3",
                "1.4",
                "1.5",
            ):
                return "an Adaptive Card that is not version 1.0 to 1.5"
            for element in content.get("body") or []:
                if element.get("type") not in ADAPTIVE_ELEMENTS:
                    return f"an Adaptive Card element Teams does not know: {element.get('type')}"
                if element.get("type") == "TextBlock" and not (
                    isinstance(element.get("text"), str) and element["text"].strip()
                ):
                    return "an empty TextBlock"
            for action in content.get("actions") or []:
                if action.get("type") not in ADAPTIVE_ACTIONS or not action.get("title"):
                    return "an Adaptive Card action without a type Teams knows or a title"
                back = (action.get("data") or {}).get("msteams") or {}
                if back and (back.get("type") != "messageBack" or not back.get("text")):
                    return "an Action.Submit messageBack that sends nothing"
        else:
            return f"an attachment type the bot does not use: {kind}"
    return ""
