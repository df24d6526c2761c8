"""Rasa's REST channel, with the request checked before it reaches the bot.

Stock Rasa answers an empty message with silence and a malformed body with a
500. This channel answers such requests with a clear 4xx instead, so clients
always learn what went wrong. Registered in credentials.yml; same webhook path
as the stock channel: /webhooks/rest/webhook.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request

# Longer messages are refused with 413: no career question needs more, and it
# bounds the work one request can cause.
MAX_MESSAGE_LENGTH = 2000


def check_payload(body: bytes) -> Optional[Tuple[int, str]]:
    """(status, reason) when the webhook body is unusable, else None."""
    try:
        payload: Any = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return 400, "the body is not valid UTF-8"
    except ValueError:
        return 400, "the body is not valid JSON"
    if not isinstance(payload, dict):
        return 400, "the body must be a JSON object with 'sender' and 'message'"
    sender, message = payload.get("sender"), payload.get("message")
    if not isinstance(sender, str) or not sender.strip():
        return 400, "'sender' must be a non-empty string"
    if not isinstance(message, str):
        return 400, "'message' must be a string"
    if not message.strip():
        return 400, "'message' is empty"
    if len(message) > MAX_MESSAGE_LENGTH:
        return 413, f"'message' is longer than {MAX_MESSAGE_LENGTH} characters"
    return None


class ValidatingRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def validate(request: Request) -> Optional[response.HTTPResponse]:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            problem = check_payload(request.body or b"")
            if problem is None:
                return None
            status, reason = problem
            return response.json({"error": reason}, status=status)

        return blueprint
