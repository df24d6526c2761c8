"""The bot's input channels: Rasa's own, with what they lack added.

REST: the request is checked before it reaches the bot.

Stock Rasa answers an empty message with silence and a malformed body with a
500. This channel answers such requests with a clear 4xx instead, so clients
always learn what went wrong. And where the bot would stay silent (the action
server is down, say: Rasa logs the error and sends nothing), the user gets the
domain's `utter_technical_problem` instead. When the conversation store cannot
save a turn, the client gets a 503 (send it again shortly) and the log says why. Registered in credentials.yml; same
webhook path as the stock channel: /webhooks/rest/webhook.

socket.io (the website widget): see CareerSocketIOInput.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import json
import os
import uuid
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text, Tuple

import logging

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from rasa.core.channels.slack import SlackBot, SlackInput
from rasa.core.channels.socketio import SocketIOInput
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from rasa.core.tracker_store import FailSafeTrackerStore
from rasa.shared.exceptions import RasaException
from slack_sdk.web.async_client import AsyncWebClient
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


# --- Messaging platforms -------------------------------------------------------------
# Rasa's own connectors, registered under their usual names. The subclasses only
# let the platform API's base URL come from the environment (a proxy, or the
# local fake platforms of the tests), and add what the README promises per
# platform. What a reply looks like on each platform is bot/rendering.py's job.


class CareerSlackBot(SlackBot):
    def __init__(self, token: Text, slack_channel: Optional[Text] = None,
                 thread_id: Optional[Text] = None, proxy: Optional[Text] = None) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        base_url = os.environ.get("CAREERBOT_SLACK_API_URL")
        if base_url:
            self.client = AsyncWebClient(token, proxy=proxy, base_url=base_url)


class CareerSlackInput(SlackInput):
    """Slack Events API and interactivity; Rasa checks the request signature."""

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def get_output_channel(self, channel: Optional[Text] = None,
                           thread_id: Optional[Text] = None) -> OutputChannel:
        return CareerSlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)


class CareerTelegramOutput(TelegramOutput):
    def __init__(self, access_token: Optional[Text]) -> None:
        base_url = os.environ.get("CAREERBOT_TELEGRAM_API_URL")
        if base_url:
            Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(base_url))
        else:
            super().__init__(access_token)

    async def send_text_with_buttons(self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]],
                                     button_type: Optional[Text] = "inline", **kwargs: Any) -> None:
        """Like plain text, a message with buttons is split on blank lines; the buttons go last."""
        *parts, last = text.strip().split("\n\n")
        for part in parts:
            await self.send_message(recipient_id, part)
        await super().send_text_with_buttons(recipient_id, last, buttons, button_type, **kwargs)


class CareerTelegramInput(TelegramInput):
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def get_output_channel(self) -> TelegramOutput:
        # Rasa registers the webhook with asyncio.run() and then reuses that
        # bot, whose HTTP session belongs to the closed loop ("Event loop is
        # closed" on the first update). Register with a bot of its own instead.
        async def register() -> None:
            setup = CareerTelegramOutput(self.access_token)
            try:
                await setup.set_webhook(url=self.webhook_url)
            finally:
                await setup.close()

        try:
            asyncio.run(register())
        except TelegramAPIError as error:
            raise RasaException(f"Failed to set the Telegram webhook: {error}") from error
        return CareerTelegramOutput(self.access_token)


class CareerTwilioInput(TwilioInput):
    """Twilio SMS. Buttons go out as numbered options; a reply of just a number
    is taken as that option of the bot's last message."""

    output_class = TwilioOutput

    @classmethod
    def name(cls) -> Text:
        return "twilio"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        agent_holder: Dict[str, Any] = {}

        async def with_options(message: UserMessage) -> Any:
            agent = agent_holder.get("agent")
            if agent is not None and message.text:
                payload = await numbered_option(agent, message.sender_id, message.text)
                if payload:
                    message.text = payload
            return await on_new_message(message)

        blueprint = super().blueprint(with_options)

        @blueprint.middleware("request")
        async def keep_agent(request: Request) -> None:
            agent_holder["agent"] = request.app.ctx.agent

        return blueprint

    def get_output_channel(self) -> OutputChannel:
        return self.output_class(self.account_sid, self.auth_token, self.twilio_number)


class TwilioWhatsAppOutput(TwilioOutput):
    """Twilio's output under its own name, so replies are rendered for WhatsApp."""

    @classmethod
    def name(cls) -> Text:
        return "twilio_whatsapp"


class CareerTwilioWhatsAppInput(CareerTwilioInput):
    """WhatsApp through Twilio: the same connector on its own webhook and number."""

    output_class = TwilioWhatsAppOutput

    @classmethod
    def name(cls) -> Text:
        return "twilio_whatsapp"


async def numbered_option(agent: Any, sender_id: Text, text: Text) -> Optional[Text]:
    """The payload a numeric SMS reply picks from the bot's last message, if any."""
    if not text.strip().isdigit():
        return None
    from rasa.shared.core.events import BotUttered

    from bot.rendering import option_payload

    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return None
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            return option_payload(agent.domain, (event.metadata or {}).get("utter_action"), text)
    return None
