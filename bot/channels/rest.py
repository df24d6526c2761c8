"""REST: Rasa's webhook channel, with the request checked before it reaches the bot.

Stock Rasa answers an empty message with silence and a malformed body with a
500, and lets any conversation id through to the conversation store, where a
lone surrogate or a NUL once made the whole server exit. This channel refuses
such requests at the door with a clear 4xx, so clients always learn what went
wrong and nothing a client sends reaches the store unchecked. Where the bot
would stay silent (the action server is down, say: Rasa logs the error and
sends nothing), the user gets the domain's `utter_technical_problem` instead.
When the conversation store cannot save a turn, the client gets a 503 (send it
again shortly) and the log says why.

Sending again is safe when the body carries `message_id`, the client's own id
for the message (8 to 64 letters, digits, '-' or '_'). It becomes the turn's
Rasa message id, stored with the turn, and a message whose id the
conversation already holds is not handled again: the answer is the replies to
the first copy (another text under that id is a 409). The check runs against
the conversation store inside the conversation's lock (bot/rasa/internals.py,
answer_once), so it holds for a copy sent while the first is being answered,
to another instance, or after a restart: a client that lost the answer to a
timeout or a dropped connection sends the same body again. Copies that reach
two instances at the same instant are answered once too: the Redis lock store
they share gives the lock to one at a time (bot/rasa/lock_store.py).

REST is for server-to-server use: whoever calls it names the conversation
(`sender`) and is trusted to. Two optional guards keep browsers out of it: a
request with an `Origin` header (every cross-site browser POST has one) must
come from an allowed page origin, and with CAREERBOT_REST_TOKEN set every
request must carry `Authorization: Bearer <token>`.

Registered in credentials.yml; same webhook path as the stock channel:
/webhooks/rest/webhook.
"""

from __future__ import annotations

import hmac
import json
import logging
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from bot.channels.validation import (
    MAX_JSON_DEPTH,
    MAX_MESSAGE_LENGTH,
    RETRY_AFTER_S,
    STORE_UNAVAILABLE,
    id_problem,
    json_too_deep,
    message_id_problem,
    metadata_problem,
    text_problem,
)
from bot.rasa import internals
from bot.settings import Settings

logger = logging.getLogger(__name__)

# Said when a turn produced no reply at all; its wording is in domain.yml.
SILENCE_RESPONSE = "utter_technical_problem"


def check_payload(body: bytes) -> Optional[Tuple[int, str]]:
    """(status, reason) when the webhook body is unusable, else None."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return 400, "the body is not valid UTF-8"
    if json_too_deep(text):
        return 400, f"the body nests JSON more than {MAX_JSON_DEPTH} levels deep"
    try:
        payload: Any = json.loads(text)
    except ValueError:
        return 400, "the body is not valid JSON"
    if not isinstance(payload, dict):
        return 400, "the body must be a JSON object with 'sender' and 'message'"
    sender, message = payload.get("sender"), payload.get("message")
    problem = id_problem(sender, "sender")
    if problem:
        return 400, problem
    if not isinstance(message, str):
        return 400, "'message' must be a string"
    if not message.strip():
        return 400, "'message' is empty"
    if len(message) > MAX_MESSAGE_LENGTH:
        return 413, f"'message' is longer than {MAX_MESSAGE_LENGTH} characters"
    # Rasa also reads `input_channel` from the body and stores it with the turn.
    problem = (
        text_problem(message, "message")
        or message_id_problem(payload.get("message_id"))
        or (id_problem(payload["input_channel"], "input_channel") if payload.get("input_channel") is not None else None)
        or metadata_problem(payload.get("metadata"))
    )
    return (400, problem) if problem else None


def check_caller(request: Request, settings: Settings) -> Optional[Tuple[int, str]]:
    """(status, reason) when the request does not come from an allowed caller, else None."""
    if settings.rest_token is not None:
        given = request.headers.get("authorization", "")
        expected = f"Bearer {settings.rest_token}"
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return 401, "this webhook needs 'Authorization: Bearer <CAREERBOT_REST_TOKEN>'"
    origin = request.headers.get("origin")
    if origin is not None and "*" not in settings.cors_origins and origin.rstrip("/") not in settings.cors_origins:
        return 403, "this origin is not accepted: the webhook is for server-to-server use"
    media_type = (request.content_type or "").split(";", 1)[0].strip().lower()
    if media_type != "application/json":
        return 415, "the body must be sent as Content-Type: application/json"
    return None


def _error(status: int, reason: str, headers: Optional[dict] = None) -> response.HTTPResponse:
    return response.json({"error": reason}, status=status, headers=headers)


@dataclass
class _Turn:
    """What the turn of the webhook request being handled needs from its body, and what became of it."""

    message_id: Optional[str]
    once: Optional[internals.Once] = None


# Set at the start of every webhook request, so never left from an earlier request (Sanic
# serves the requests of one kept-alive connection in one context), and read by its turn.
_turn: ContextVar[Optional[_Turn]] = ContextVar("careerbot_rest_turn", default=None)


class ValidatingRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        async def with_client_message_id(message: UserMessage) -> None:
            # Rasa's webhook makes the UserMessage with an id of its own; the client's replaces it.
            turn = _turn.get()
            if turn is not None and turn.message_id is not None:
                message.message_id = turn.message_id
                turn.once = internals.answer_once(message)
            await on_new_message(message)

        blueprint = super().blueprint(with_client_message_id)
        settings = Settings.from_env()

        @blueprint.listener("before_server_start")
        async def limit_bodies(app: Sanic, _loop: Any) -> None:
            # Sanic stops reading a body at this size, for every route of the
            # server; connections read it when they are made, after this.
            app.config.REQUEST_MAX_SIZE = settings.max_body_bytes

        @blueprint.exception(PayloadTooLarge)
        async def too_large(request: Request, exception: Exception) -> response.HTTPResponse:
            return _error(413, f"the body is larger than {settings.max_body_bytes} bytes")

        @blueprint.middleware("request")
        async def validate(request: Request) -> Optional[response.HTTPResponse]:
            if not _is_webhook_post(request):
                return None
            request.ctx.store_failures = internals.track_store_failures()
            _turn.set(None)
            problem = check_caller(request, settings) or check_payload(request.body or b"")
            if problem is None:
                request.ctx.turn = _Turn(json.loads(request.body).get("message_id"))
                _turn.set(request.ctx.turn)
                return None
            status, reason = problem
            return _error(status, reason, {"WWW-Authenticate": "Bearer"} if status == 401 else None)

        @blueprint.middleware("response")
        async def never_silent(request: Request, reply: response.HTTPResponse) -> Optional[response.HTTPResponse]:
            if not _is_webhook_post(request) or reply.status != 200:
                return None
            if getattr(request.ctx, "store_failures", None):
                # The turn could not be saved: tell the client to send it again shortly,
                # rather than answer from a conversation that will be forgotten.
                return _error(503, STORE_UNAVAILABLE, {"Retry-After": str(RETRY_AFTER_S)})
            turn = getattr(request.ctx, "turn", None)
            if turn is not None and turn.once is not None and turn.once.conflict:
                return _error(409, "'message_id' was already used in this conversation for another message")
            if (reply.body or b"").strip() != b"[]":
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
