"""The bot's input channels: Rasa's own, with what they lack added.

REST: the request is checked before it reaches the bot.

Stock Rasa answers an empty message with silence and a malformed body with a
500. This channel answers such requests with a clear 4xx instead, so clients
always learn what went wrong. And where the bot would stay silent (the action
server is down, say: Rasa logs the error and sends nothing), the user gets the
domain's `utter_technical_problem` instead. Registered in credentials.yml; same
webhook path as the stock channel: /webhooks/rest/webhook.

socket.io (the website widget): see CareerSocketIOInput.
"""

from __future__ import annotations

import inspect
import json
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple

import logging

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.shared.core.trackers import DialogueStateTracker
from sanic import Blueprint, response
from sanic.request import Request

from bot.settings import Settings

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
            problem = check_payload(request.body or b"")
            if problem is None:
                return None
            status, reason = problem
            return response.json({"error": reason}, status=status)

        @blueprint.middleware("response")
        async def never_silent(request: Request, reply: response.HTTPResponse) -> Optional[response.HTTPResponse]:
            if not _is_webhook_post(request) or reply.status != 200 or reply.body.strip() != b"[]":
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


class CareerSocketIOInput(SocketIOInput):
    """Rasa's socket.io channel for the website widget, with two repairs.

    - Origins: stock Rasa turns the socket.io server's origin check off and
      leaves CORS to `rasa run --cors`, which a WebSocket connection bypasses.
      Here the socket.io server itself checks the allow-list from
      CAREERBOT_CORS_ORIGINS, for polling and WebSocket alike.
    - Session persistence: Rasa 3.6 calls python-socketio's `enter_room`
      without awaiting it, which python-socketio 5.10+ made a coroutine, so
      replies to a persistent session never arrive (RasaHQ/rasa#13027). The
      handler is replaced by one that awaits it.
    """

    @classmethod
    def name(cls) -> Text:
        return "socketio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)
        sio = self.sio
        sio.eio.cors_allowed_origins = Settings.from_env().cors_origins

        @sio.on("session_request", namespace=self.namespace)
        async def session_request(sid: Text, data: Optional[Dict[str, Any]]) -> None:
            session_id = (data or {}).get("session_id")
            if not isinstance(session_id, str) or not session_id.strip():
                session_id = uuid.uuid4().hex
            if self.session_persistence:
                entered = sio.enter_room(sid, session_id, namespace=self.namespace)
                if inspect.isawaitable(entered):
                    await entered
            await sio.emit("session_confirm", session_id, room=sid, namespace=self.namespace)

        return blueprint
