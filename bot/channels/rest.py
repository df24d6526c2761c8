"""REST: Rasa's webhook channel, with the request checked before it reaches the bot.

Stock Rasa answers an empty message with silence and a malformed body with a
500. This channel answers such requests with a clear 4xx instead, so clients
always learn what went wrong. And where the bot would stay silent (the action
server is down, say: Rasa logs the error and sends nothing), the user gets the
domain's `utter_technical_problem` instead. When the conversation store cannot
save a turn, the client gets a 503 (send it again shortly) and the log says
why. Registered in credentials.yml; same webhook path as the stock channel:
/webhooks/rest/webhook.
"""

from __future__ import annotations

import contextvars
import json
from typing import Any, Awaitable, Callable, Optional, Text, Tuple

import logging

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request


logger = logging.getLogger(__name__)

# Said when a turn produced no reply at all; its wording is in domain.yml.
SILENCE_RESPONSE = "utter_technical_problem"

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


# Set, for the request being handled, when the conversation store failed to save its turn.
_store_failure: contextvars.ContextVar[Optional[str]] = contextvars.ContextVar("store_failure", default=None)


def _on_store_error(error: Exception) -> None:
    """Rasa's fail-safe store calls this when saving fails; it then keeps the turn in memory only."""
    logger.error("conversation store unavailable, this turn is not saved: %s", str(error).splitlines()[0])
    _store_failure.set(str(error).splitlines()[0])


class ValidatingRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def validate(request: Request) -> Optional[response.HTTPResponse]:
            if not _is_webhook_post(request):
                return None
            store = request.app.ctx.agent.tracker_store
            if isinstance(store, FailSafeTrackerStore):
                store._on_tracker_store_error = _on_store_error  # Rasa offers no other way to hook it
            problem = check_payload(request.body or b"")
            if problem is None:
                return None
            status, reason = problem
            return response.json({"error": reason}, status=status)

        @blueprint.middleware("response")
        async def never_silent(request: Request, reply: response.HTTPResponse) -> Optional[response.HTTPResponse]:
            if not _is_webhook_post(request) or reply.status != 200:
                return None
            if _store_failure.get():
                # The turn could not be saved: tell the client to send it again shortly,
                # rather than answer from a conversation that will be forgotten.
                return response.json({"error": "the conversation store is unavailable; please try again shortly"},
                                     status=503, headers={"Retry-After": "5"})
            if reply.body.strip() != b"[]":
                return None
            logger.error("the bot produced no reply for this turn; sending %s", SILENCE_RESPONSE)
            agent = request.app.ctx.agent
            sender = json.loads(request.body)["sender"]
            tracker = DialogueStateTracker(sender, agent.domain.slots)
            message = await agent.nlg.generate(SILENCE_RESPONSE, tracker, self.name())
            return response.json([dict(recipient_id=sender, **{k: v for k, v in (message or {}).items() if v})])

        return blueprint


def _is_webhook_post(request: Request) -> bool:
    return request.method == "POST" and request.path.rstrip("/").endswith("/webhook")
