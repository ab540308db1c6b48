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

import asyncio
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

from channels import limits, ownership
from channels.conversations import (
    REPLAY_OF,
    OneMessageOutput,
    client_message_id,
    limit_request_size,
    replay_if_handled,
)

logger = logging.getLogger(__name__)
# Lines any stranger can cause: once a minute each, with a count. engine.io logs a
# traceback for every request it cannot read (too many packets in one, a bad packet).
refusals = limits.RepeatedLogLines(logger)
_ENGINEIO_LOGS = ("engineio.server", "socketio.server")

DEFAULT_ALLOWED_ORIGINS = "http://localhost:8080"
# The event that ends a turn's replies (the widget's connection.js listens for it).
TURN_DONE = "turn_done"
# Marks an engine.io connection's environ once its socket has asked for a conversation.
_JOINED = "careers.joined_a_conversation"


def allowed_origins(value: Optional[str] = None) -> Union[str, List[str]]:
    """The origins from ALLOWED_ORIGINS (or `value`), as python-engineio takes them."""
    if value is None:
        value = os.environ.get("ALLOWED_ORIGINS", "") or DEFAULT_ALLOWED_ORIGINS
    origins = [o.strip().rstrip("/") for o in re.split(r"[,\s]+", value) if o.strip()]
    if "*" in origins:
        return "*"
    return origins or [DEFAULT_ALLOWED_ORIGINS]


def _replay_mark(kwargs: Dict[Text, Any]) -> Dict[Text, Any]:
    """`replay_of`: the id of the message whose replies these are, sent again
    (channels.conversations.replay_if_handled), so that a widget that had them
    already can leave them out."""
    replay_of = kwargs.get(REPLAY_OF)
    return {REPLAY_OF: replay_of} if isinstance(replay_of, str) else {}


class WidgetOutput(OneMessageOutput, SocketIOOutput):
    """Sends each bot message as one `bot_uttered` event to the session's room (a
    verdict's text and card too: channels.conversations.OneMessageOutput)."""

    async def send_together(
        self, recipient_id: Text, text: Text, custom: Dict[Text, Any], message: Dict[Text, Any]
    ) -> None:
        await self._send_message(recipient_id, {"text": text, "custom": custom, **_replay_mark(message)})

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self._send_message(recipient_id, {"text": text.strip(), **_replay_mark(kwargs)})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        quick_replies = [
            {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in buttons
        ]
        await self._send_message(
            recipient_id, {"text": text.strip(), "quick_replies": quick_replies, **_replay_mark(kwargs)}
        )

    async def send_custom_json(
        self, recipient_id: Text, json_message: Dict[Text, Any], **kwargs: Any
    ) -> None:
        await self._send_message(recipient_id, {"custom": json_message, **_replay_mark(kwargs)})


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
        bounds = limits.shared()
        sio = AsyncServer(
            async_mode="sanic", cors_allowed_origins=origins, max_http_buffer_size=limits.MAX_BODY_BYTES
        )
        # engine.io checks the origin; the CORS headers themselves come from Rasa's
        # `--cors` (sanic-cors, which covers every route). Both adding them would send
        # Access-Control-Allow-Origin twice, which browsers refuse.
        sio.eio._cors_headers = lambda environ: []
        for name in _ENGINEIO_LOGS:
            library_logger = logging.getLogger(name)
            if not any(isinstance(f, limits.RepeatedRecords) for f in library_logger.filters):
                library_logger.addFilter(limits.RepeatedRecords())
        self.sio = sio
        blueprint = SocketBlueprint(sio, self.socketio_path, "socketio_webhook", __name__)
        limit_request_size(blueprint)
        sessions: Dict[Text, Text] = {}  # socket id -> the conversation it joined
        addresses: Dict[Text, Text] = {}  # engine.io connection -> the client's address
        open_sockets: Counter = Counter()  # client address -> engine.io connections open
        join_deadlines: Dict[Text, "asyncio.Task[None]"] = {}  # engine.io connection -> its deadline

        served_by: Dict[Text, Any] = {}  # the Sanic app, where Rasa keeps its agent

        @blueprint.listener("before_server_start")
        async def remember_app(app: Any, _loop: Any) -> None:
            served_by["app"] = app

        async def tell(sid: Text, text: Text) -> None:
            await sio.emit(self.bot_message_evt, {"text": text}, room=sid, namespace=self.namespace)

        @blueprint.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        # Every engine.io connection counts against the cap, at the handshake, before
        # socket.io sees it: a bare WebSocket that never joins a chat is a socket held
        # open all the same. One that has not asked for its conversation within
        # SOCKET_JOIN_SECONDS is closed.
        socketio_connect = sio.eio.handlers["connect"]
        socketio_disconnect = sio.eio.handlers["disconnect"]

        async def close_unless_joined(eio_sid: Text, environ: Dict) -> None:
            await asyncio.sleep(bounds.socket_join_seconds)
            if environ.get(_JOINED):
                return
            await sio.eio.disconnect(eio_sid)
            # engine.io only sends its close packet and leaves the connection to the
            # client, which a client that ignores it holds open: drop a WebSocket.
            request = environ.get("sanic.request")
            if str(environ.get("HTTP_UPGRADE", "")).lower() == "websocket" and request is not None:
                request.transport.close()

        async def engineio_connect(eio_sid: Text, environ: Dict) -> Any:
            request = environ.get("sanic.request")
            address = bounds.client_address(getattr(request, "ip", None), environ.get("HTTP_X_FORWARDED_FOR"))
            if open_sockets[address] >= bounds.sockets_per_client:
                refusals.log(logging.WARNING, "socket.io: refused a connection over the cap of its address.")
                return limits.TOO_MANY_SOCKETS  # engine.io answers 401 with it
            open_sockets[address] += 1
            addresses[eio_sid] = address
            join_deadlines[eio_sid] = asyncio.ensure_future(close_unless_joined(eio_sid, environ))
            return await socketio_connect(eio_sid, environ)

        async def engineio_disconnect(eio_sid: Text, *reason: Any) -> Any:
            deadline = join_deadlines.pop(eio_sid, None)
            if deadline is not None and deadline is not asyncio.current_task():
                deadline.cancel()
            address = addresses.pop(eio_sid, None)
            if address is not None:
                open_sockets[address] -= 1
                if open_sockets[address] <= 0:
                    del open_sockets[address]
            return await socketio_disconnect(eio_sid, *reason)

        sio.eio.on("connect", engineio_connect)
        sio.eio.on("disconnect", engineio_disconnect)

        @sio.on("connect", namespace=self.namespace)
        async def connect(sid: Text, environ: Dict, auth: Optional[Dict]) -> bool:
            if self.jwt_key:
                token = auth.get("token") if isinstance(auth, dict) else None
                if not token:
                    return False
                from rasa.core.channels.channel import decode_bearer_token

                if not decode_bearer_token(token, self.jwt_key, self.jwt_algorithm):
                    return False
            return True

        @sio.on("disconnect", namespace=self.namespace)
        async def disconnect(sid: Text, *reason: Any) -> None:
            sessions.pop(sid, None)

        def address_of(sid: Text) -> Text:
            eio_sid = sio.manager.eio_sid_from_sid(sid, self.namespace)
            return addresses.get(eio_sid, "unknown") if eio_sid else "unknown"

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Any) -> None:
            """Joins the conversation a token names; a client without a good token
            gets a new conversation and its token (`session_confirm`)."""
            token = data.get("session_id") if isinstance(data, dict) else None
            conversation = ownership.conversation_of(token, secret)
            if conversation is None:
                if not bounds.new_conversations.allow(address_of(sid)):
                    await tell(sid, limits.TOO_MANY_CONVERSATIONS)
                    return
                token = ownership.issue_token(secret)
                conversation = ownership.conversation_of(token, secret)
            assert conversation is not None
            previous = sessions.get(sid)
            if previous and previous != conversation and self.session_persistence:
                await sio.leave_room(sid, previous, namespace=self.namespace)
            sessions[sid] = conversation
            environ = sio.get_environ(sid, self.namespace)
            if environ is not None:
                environ[_JOINED] = True
            if self.session_persistence:
                await sio.enter_room(sid, conversation, namespace=self.namespace)
            await sio.emit("session_confirm", token, room=sid, namespace=self.namespace)

        @sio.on(self.user_message_evt, namespace=self.namespace)
        async def handle_message(sid: Text, data: Any) -> None:
            if not isinstance(data, dict) or not isinstance(data.get("message", ""), str):
                refusals.log(logging.WARNING, "socket.io: ignored a message that was not {message: text}.")
                return
            sender_id = sessions.get(sid)
            if sender_id is None or (
                data.get("session_id") is not None
                and ownership.conversation_of(data.get("session_id"), secret) != sender_id
            ):
                refusals.log(
                    logging.WARNING,
                    "socket.io: ignored a message outside the socket's conversation "
                    "(send `session_request` first).",
                )
                return
            conversation = sender_id if self.session_persistence else ownership.namespaced(ownership.WEB, sid)
            output = WidgetOutput(sio, self.bot_message_evt)
            message_id = client_message_id(data.get("message_id"))
            if not bounds.messages.allow(sender_id):
                await tell(sid, limits.TOO_MANY_MESSAGES)
                return
            # "Try again" after a reply was lost: the turn ran once, its replies again.
            if (
                message_id is not None
                and data.get("retry") is True
                and await replay_if_handled(served_by["app"], conversation, message_id, output)
            ):
                await turn_done(conversation)
                return
            text, marks = limits.bounded_message(data.get("message", ""))
            message = UserMessage(
                text, output, conversation, message_id=message_id, input_channel=self.name(), metadata=marks
            )
            try:
                await on_new_message(message)
            finally:
                await turn_done(conversation)

        async def turn_done(conversation: Text) -> None:
            """Tells the widget a turn's replies have all been sent, so its typing dots
            go at once rather than after a quiet spell."""
            await sio.emit(TURN_DONE, {}, room=conversation, namespace=self.namespace)

        return blueprint
