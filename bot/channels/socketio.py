"""socket.io: the channel of the website widget (bot/widget)."""

from __future__ import annotations

import inspect
import uuid
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.socketio import SocketIOInput
from sanic import Blueprint

from bot.settings import Settings


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
