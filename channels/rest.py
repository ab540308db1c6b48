"""The REST channel with its input checked: a malformed request gets a clear 400
instead of a server error, and a request without a sender is refused rather than
filed under Rasa's shared "default" conversation.

Same URL as Rasa's own: POST /webhooks/rest/webhook with
{"sender": "<conversation id>", "message": "<text>"}.
"""

from __future__ import annotations

from typing import Any, Dict, Optional, Text

from rasa.core.channels.rest import RestInput
from sanic.exceptions import InvalidUsage
from sanic.request import Request

MAX_SENDER_LENGTH = 128


def _body(request: Request) -> Dict[Text, Any]:
    try:
        body = request.json
    except Exception:  # sanic raises its own error type for unparsable JSON
        body = None
    if not isinstance(body, dict):
        raise InvalidUsage('Send a JSON object: {"sender": "...", "message": "..."}')
    return body


class CheckedRestInput(RestInput):
    """Rasa's REST channel, with the request body checked before use."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    async def _extract_sender(self, req: Request) -> Optional[Text]:
        sender = _body(req).get("sender")
        if isinstance(sender, int) and not isinstance(sender, bool):
            sender = str(sender)
        if not isinstance(sender, str) or not sender.strip():
            raise InvalidUsage('"sender" is required: an id for the conversation (text).')
        if len(sender) > MAX_SENDER_LENGTH:
            raise InvalidUsage(f'"sender" must be at most {MAX_SENDER_LENGTH} characters.')
        return sender

    def _extract_message(self, req: Request) -> Optional[Text]:
        message = _body(req).get("message")
        if not isinstance(message, str):
            raise InvalidUsage('"message" is required and must be text (it may be empty).')
        return message

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        metadata = _body(request).get("metadata")
        if metadata is not None and not isinstance(metadata, dict):
            raise InvalidUsage('"metadata" must be a JSON object when given.')
        return metadata
