"""The REST channel, for the widget where socket.io is blocked and for other servers.

POST /webhooks/rest/webhook {"sender": "<token>", "message": "<text>"}

- A browser's conversation is named by a token the server issued (channels/ownership.py):
  POST /webhooks/rest/conversations gives one, {"token": "...", "expires_in": seconds}.
  The token goes in `sender`; a token that is not this server's, or has expired, gets
  401. The conversation is `web:<id>`, the same one the widget reaches over socket.io.
- Another server (a backend, the careers team's scripts against a live bot) sends
  `Authorization: Bearer $REST_API_TOKEN` and names its conversations itself; they are
  filed under `rest:<sender>`, so they never meet a web, Slack or Teams conversation.
- DELETE /webhooks/rest/conversation {"sender": ...}, with the same authority, deletes
  the conversation from the tracker store.
- `message_id` (optional, 8 to 64 letters, digits, `-` or `_`) names a message; sent
  again with `"retry": true` after a lost connection, a message whose turn already ran
  gets the replies it had, and is not handled twice.

Malformed requests get a 4xx JSON error saying what is wrong, never a server error.
Messages are cut, and rates limited, as channels/limits.py says; the `input_channel`,
`stream` and `metadata` fields of Rasa's own REST channel are not used.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import limits, ownership
from channels.conversations import (
    OneMessageCollector,
    client_message_id,
    delete_conversation,
    limit_request_size,
    read_json,
    refusal,
    replay_if_handled,
)

logger = logging.getLogger(__name__)


class RequestRefused(Exception):
    def __init__(self, status: int, message: Text) -> None:
        super().__init__(message)
        self.status, self.message = status, message


def _body(request: Request) -> Dict[Text, Any]:
    # JSON only: a page elsewhere can make a browser send a text/plain or form POST
    # without asking first, but not one declared as JSON (that needs CORS's consent).
    if request.content_type.split(";")[0].strip().lower() != "application/json":
        raise RequestRefused(415, 'Send the body as JSON, with "Content-Type: application/json".')
    body = read_json(request.body)
    if not isinstance(body, dict):
        raise RequestRefused(400, 'Send a JSON object: {"sender": "...", "message": "..."}')
    return body


class CheckedRestInput(RestInput):
    """The REST channel: conversations owned by a signed token or a server's own."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def owner(self, request: Request, body: Dict[Text, Any]) -> Tuple[Text, bool]:
        """The conversation id, and whether the caller is a trusted server."""
        sender = body.get("sender")
        if isinstance(sender, int) and not isinstance(sender, bool):
            sender = str(sender)
        if not isinstance(sender, str) or not sender.strip():
            raise RequestRefused(400, '"sender" is required: your conversation token (text).')
        problem = ownership.sender_problem(sender)
        if problem is not None:
            raise RequestRefused(400, f'"sender" cannot name a conversation: {problem}.')
        if ownership.bearer_matches(request.headers.get("Authorization"), self.server_token):
            return ownership.namespaced(ownership.REST_API, sender), True
        conversation = ownership.conversation_of(sender, self.secret)
        if conversation is None:
            raise RequestRefused(
                401,
                "Unknown or expired conversation token: POST /webhooks/rest/conversations "
                "for a new one (servers: send Authorization: Bearer <REST_API_TOKEN>).",
            )
        return conversation, False

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        self.secret = ownership.secret_from_environment()
        self.server_token = ownership.rest_api_token()
        bounds = limits.shared()
        webhook = Blueprint("careers_rest_webhook", __name__)
        limit_request_size(webhook)

        def address(request: Request) -> Text:
            return bounds.client_address(request.ip, request.headers.get("X-Forwarded-For"))

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/conversations", methods=["POST"])
        async def new_conversation(request: Request) -> HTTPResponse:
            if not bounds.new_conversations.allow(address(request)):
                return refusal(429, limits.TOO_MANY_CONVERSATIONS)
            token = ownership.issue_token(self.secret)
            return response.json({"token": token, "expires_in": ownership.TOKEN_MAX_AGE_SECONDS}, status=201)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            try:
                body = _body(request)
                sender, trusted = self.owner(request, body)
                text = body.get("message")
                if not isinstance(text, str):
                    raise RequestRefused(400, '"message" is required and must be text (it may be empty).')
                if body.get("metadata") is not None and not isinstance(body.get("metadata"), dict):
                    raise RequestRefused(400, '"metadata" must be a JSON object when given.')
            except RequestRefused as refused:
                return refusal(refused.status, refused.message)
            if not trusted and not bounds.messages.allow(sender):
                return refusal(429, limits.TOO_MANY_MESSAGES)
            collector = OneMessageCollector()
            # Sent again after a lost connection: the turn ran once, its replies again.
            message_id = client_message_id(body.get("message_id"))
            if (
                message_id is not None
                and body.get("retry") is True
                and await replay_if_handled(request.app, sender, message_id, collector)
            ):
                return response.json(collector.messages)
            text, marks = limits.bounded_message(text)
            try:
                await on_new_message(
                    UserMessage(
                        text,
                        collector,
                        sender,
                        message_id=message_id,
                        input_channel=self.name(),
                        metadata=marks,
                    )
                )
            except Exception:  # logged without the message: it may hold personal details
                logger.exception("REST: a message could not be handled.")
            return response.json(collector.messages)

        @webhook.route("/conversation", methods=["DELETE"])
        async def delete(request: Request) -> HTTPResponse:
            try:
                sender, _ = self.owner(request, _body(request))
            except RequestRefused as refused:
                return refusal(refused.status, refused.message)
            deleted = await delete_conversation(request.app, sender)
            if deleted is None:
                return refusal(501, "This tracker store cannot delete conversations.")
            return response.json({"deleted": True, "events": deleted})

        return webhook

    def _extract_sender(self, req: Request) -> Optional[Text]:
        raise NotImplementedError("CheckedRestInput reads the sender in owner()")

    def _extract_message(self, req: Request) -> Optional[Text]:
        raise NotImplementedError("CheckedRestInput reads the message in its webhook")

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return None
