"""The socket.io channel for the web widget, with three faults of Rasa 3.6.21's own
channel put right (each seen against python-socketio 5.18, the version Rasa installs):

1. Allowed origins. Rasa creates its socket.io server with `cors_allowed_origins=[]`,
   which switches python-engineio's origin check off; `rasa run --cors` only adds
   CORS headers to HTTP responses, so a page on any origin could still open a
   WebSocket (browsers do not apply CORS to WebSockets) and chat. Here the server
   gets the allowed list, and engine.io refuses a handshake, polling or WebSocket,
   whose `Origin` is not on it (HTTP 400).
2. Session rooms. `AsyncServer.enter_room` became a coroutine, and Rasa calls it
   without `await`, so with `session_persistence` the socket never joined its
   session's room and the bot's replies went nowhere.
3. Custom payloads. Rasa emits a `custom` message as keyword arguments of
   `emit()`, which raises TypeError and drops the rest of the turn. Here it is sent
   as `{"custom": {...}}`, the shape the REST channel returns.

A bot message is also sent whole (one event per message, newlines kept) rather than
cut into several at blank lines, so the widget shows a verdict as one message with
its paragraphs.

The allowed origins come from the ALLOWED_ORIGINS environment variable: origins
separated by commas or spaces, `*` for any (default: http://localhost:8080). Give
Rasa the same list with `rasa run --cors` (tools/running/run.sh does both): that sends
the CORS headers, on the REST channel and here alike.
Requests with no `Origin` header (not from a browser) are let through, as CORS is a
browser's rule: what stops a script is the conversation token, not the origin.

Conversations are the server's (channels/ownership.py). `session_request` with no
token, or one the server did not sign or that has expired, gets a new conversation:
`session_confirm` carries its token, which the widget keeps and sends back on
reconnecting (`session_request` {session_id: token}) to carry on with it. The
socket joins only that conversation's room, and its `user_uttered` {message} events
go to that conversation whatever session id they name. Each address may hold
SOCKETS_PER_CLIENT sockets, start NEW_CONVERSATIONS_PER_MINUTE conversations and
send MESSAGES_PER_MINUTE messages per conversation (channels/limits.py); beyond them
the socket is refused or gets a polite `bot_uttered` saying to slow down. Messages
are cut to MAX_MESSAGE_CHARACTERS before Rasa sees or stores them, and client
metadata is dropped.
"""

from __future__ import annotations

import logging
import os
import re
from collections import Counter
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Union

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncServer
from socketio.exceptions import ConnectionRefusedError

from channels import limits, ownership
from channels.conversations import limit_request_size

logger = logging.getLogger(__name__)

DEFAULT_ALLOWED_ORIGINS = "http://localhost:8080"


def allowed_origins(value: Optional[str] = None) -> Union[str, List[str]]:
    """The origins from ALLOWED_ORIGINS (or `value`), as python-engineio takes them."""
    if value is None:
        value = os.environ.get("ALLOWED_ORIGINS", "") or DEFAULT_ALLOWED_ORIGINS
    origins = [o.strip().rstrip("/") for o in re.split(r"[,\s]+", value) if o.strip()]
    if "*" in origins:
        return "*"
    return origins or [DEFAULT_ALLOWED_ORIGINS]


class WidgetOutput(SocketIOOutput):
    """Sends each bot message as one `bot_uttered` event to the session's room."""

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text.strip()})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
        await self._send_message(recipient_id, {"text": text.strip(), "quick_replies": quick_replies})

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message})


class CheckedSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel with origins enforced and the faults above fixed."""

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def get_output_channel(self) -> Optional[WidgetOutput]:
        return WidgetOutput(self.sio, self.bot_message_evt) if self.sio else None

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        origins = allowed_origins()
        logger.info(f"socket.io accepts pages from: {origins}")
        secret = ownership.secret_from_environment()
        bounds = limits.Limits()
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=origins, max_http_buffer_size=limits.MAX_BODY_BYTES
        )
        # engine.io checks the origin; the CORS headers themselves come from Rasa's
        # `--cors` (sanic-cors, which covers every route). Both adding them would send
        # Access-Control-Allow-Origin twice, which browsers refuse.
        sio.eio._cors_headers = lambda environ: []
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        limit_request_size(blueprint)
        sessions: Dict[Text, Text] = {}  # socket id -> the conversation it joined
        addresses: Dict[Text, Text] = {}  # socket id -> the client's address
        open_sockets: Counter = Counter()  # client address -> sockets open

        async def tell(sid: Text, text: Text) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=self.namespace)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                if not token:
                    return False
                from rasa.core.channels.channel import decode_bearer_token

                if not decode_bearer_token(token, self.jwt_key, self.jwt_algorithm):
                    return False
            request = environ.get("sanic.request")
            address = bounds.client_address(getattr(request, "ip", None), environ.get("HTTP_X_FORWARDED_FOR"))
            if open_sockets[address] >= bounds.sockets_per_client:
                raise ConnectionRefusedError(limits.TOO_MANY_SOCKETS)
            open_sockets[address] += 1
            addresses[sid] = address
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text) -> None:
            sessions.pop(sid, None)
            address = addresses.pop(sid, None)
            if address is not None:
                open_sockets[address] -= 1
                if open_sockets[address] <= 0:
                    del open_sockets[address]

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            """Joins the conversation a token names; a client without a good token
            gets a new conversation and its token (`session_confirm`)."""
            token = data.get("session_id") if isinstance(data, dict) else None
            conversation = ownership.conversation_of(token, secret)
            if conversation is None:
                if not bounds.new_conversations.allow(addresses.get(sid, "unknown")):
                    await tell(sid, limits.TOO_MANY_CONVERSATIONS)
                    return
                token = ownership.issue_token(secret)
                conversation = ownership.conversation_of(token, secret)
            assert conversation is not None
            previous = sessions.get(sid)
            if previous and previous != conversation and self.session_persistence:
                await sio.leave_room(sid, previous, namespace=self.namespace)
            sessions[sid] = conversation
            if self.session_persistence:
                await sio.enter_room(sid, conversation, namespace=self.namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                logger.warning("socket.io: ignored a message that was not {message: text}.")
                return
            sender_id = sessions.get(sid)
            if sender_id is None or (
                data.get("session_id") is not None
                and ownership.conversation_of(data.get("session_id"), secret) != sender_id
            ):
                logger.warning(
                    "socket.io: ignored a message outside the socket's conversation "
                    "(send `session_request` first)."
                )
                return
            if not bounds.messages.allow(sender_id):
                await tell(sid, limits.TOO_MANY_MESSAGES)
                return
            text, marks = limits.bounded_message(data.get("message", ""))
            message = UserMessage(
                text,
                WidgetOutput(sio, self.bot_message_evt),
                sender_id if self.session_persistence else ownership.namespaced(ownership.WEB, sid),
                input_channel=self.name(),
                metadata=marks,
            )
            await on_new_message(message)

        return blueprint
