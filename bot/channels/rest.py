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
from typing import Any, Awaitable, Callable, Optional, Text, Tuple

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, Sanic, response
from sanic.exceptions import PayloadTooLarge
from sanic.request import Request

from bot.channels.validation import MAX_MESSAGE_LENGTH, id_problem
from bot.rasa import internals
from bot.settings import Settings

logger = logging.getLogger(__name__)

# Said when a turn produced no reply at all; its wording is in domain.yml.
SILENCE_RESPONSE = "utter_technical_problem"

# A webhook body is an object with a few fields and, at most, shallow
# metadata. Deeper JSON is refused before it is parsed: Python's parser
# recurses, and 100,000 levels made it raise a RecursionError (a 500).
MAX_JSON_DEPTH = 16


def json_too_deep(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether `text` opens more than `limit` nested arrays or objects (outside strings)."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


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
    return None


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


class ValidatingRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
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
            problem = check_caller(request, settings) or check_payload(request.body or b"")
            if problem is None:
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
                return _error(
                    503, "the conversation store is unavailable; please try again shortly", {"Retry-After": "5"}
                )
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
