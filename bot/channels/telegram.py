"""Telegram: Rasa's connector, its API base URL from the environment, with forged updates refused.

Anyone who can reach the webhook could post an update naming any chat, and the
bot would write to that chat. So the webhook is registered with a secret token
(``setWebhook``'s ``secret_token``, TELEGRAM_SECRET_TOKEN), which Telegram
sends back in ``X-Telegram-Bot-Api-Secret-Token``; a request without it, or
with another, gets a 403 whatever its body, with nothing stored or sent. The
same holds for Rasa's ``/set_webhook`` route, which would otherwise let anyone
re-register the webhook. Rasa's connector asks Telegram's ``getMe`` for the
bot's username on every update (its ``verify`` check); here that is asked once,
at start, where a token of another bot stops the start.

A chat id becomes the conversation id. Telegram's are integers; an update
whose chat id is anything else did not come from Telegram and gets a 400,
with nothing processed. Updates with no message (a channel post, say), which
Rasa's connector fails on with a 500 that Telegram would retry, are
acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from aiogram import Bot, types
from aiogram.bot import api
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.exceptions import RasaException
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.channels.validation import id_problem
from bot.settings import PlatformAPIs, telegram_secret_problem

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


class CareerTelegramOutput(TelegramOutput):
    def __init__(
        self, access_token: Optional[Text], secret_token: Optional[Text] = None, me: Optional[types.User] = None
    ) -> None:
        base_url = PlatformAPIs.from_env().telegram
        if base_url:
            Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(base_url))
        else:
            super().__init__(access_token)
        self._secret_token = secret_token
        self._me = me

    async def get_me(self) -> types.User:
        """The bot's own user, asked of Telegram once: it does not change while the token stays."""
        if self._me is None:
            self._me = await super().get_me()
        return self._me

    async def set_webhook(self, url: Text) -> bool:
        """Registers the webhook with the secret token (aiogram 2.15 predates Telegram's secret_token)."""
        payload = {"url": url}
        if self._secret_token:
            payload["secret_token"] = self._secret_token
        return bool(await self.request(api.Methods.SET_WEBHOOK, payload))

    async def send_text_with_buttons(
        self,
        recipient_id: Text,
        text: Text,
        buttons: List[Dict[Text, Any]],
        button_type: Optional[Text] = "inline",
        **kwargs: Any,
    ) -> None:
        """Like plain text, a message with buttons is split on blank lines; the buttons go last."""
        *parts, last = text.strip().split("\n\n")
        for part in parts:
            await self.send_message(recipient_id, part)
        await super().send_text_with_buttons(recipient_id, last, buttons, button_type, **kwargs)


def update_message(update: Any) -> Optional[Dict[str, Any]]:
    """The message of an update that Rasa's connector handles (button, edited or new), if any."""
    if not isinstance(update, dict):
        return None
    callback = update.get("callback_query")
    candidates = [
        callback.get("message") if isinstance(callback, dict) else None,
        update.get("edited_message"),
        update.get("message"),
    ]
    return next((m for m in candidates if isinstance(m, dict)), None)


def check_update(update: Any) -> Optional[HTTPResponse]:
    """A refusal when the update cannot be handled, else None."""
    if isinstance(update, str):  # Rasa's connector accepts JSON sent as a JSON string too
        try:
            update = json.loads(update)
        except ValueError:
            update = None
    if not isinstance(update, dict):
        return response.json({"error": "the body must be a Telegram update object"}, status=400)
    message = update_message(update)
    if message is None:
        return response.text("success")
    chat = message.get("chat")
    chat_id = chat.get("id") if isinstance(chat, dict) else None
    if not isinstance(chat_id, int) or isinstance(chat_id, bool):
        return response.json({"error": "'chat.id' must be a number"}, status=400)
    problem = id_problem(str(chat_id), "chat.id")
    if problem:
        return response.json({"error": problem}, status=400)
    callback = update.get("callback_query")
    logs.remember([message.get("text"), callback.get("data") if isinstance(callback, dict) else None], [str(chat_id)])
    return None


class CareerTelegramInput(TelegramInput):
    def __init__(
        self,
        access_token: Optional[Text],
        verify: Optional[Text],
        webhook_url: Optional[Text],
        debug_mode: bool = True,
        secret_token: Text = "",
    ) -> None:
        super().__init__(access_token, verify, webhook_url, debug_mode)
        problem = telegram_secret_problem("the Telegram channel's secret_token (TELEGRAM_SECRET_TOKEN)", secret_token)
        if problem:
            raise RasaException(problem)
        if not webhook_url:
            raise RasaException("the Telegram channel needs webhook_url (TELEGRAM_WEBHOOK_URL): the public HTTPS URL")
        self.secret_token = secret_token
        self.webhook_url: Text = webhook_url

    @classmethod
    def name(cls) -> Text:
        return "telegram"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "CareerTelegramInput":
        if not credentials:
            cls.raise_missing_credentials_exception()
        assert credentials is not None  # the line above raises
        return cls(
            credentials.get("access_token"),
            credentials.get("verify"),
            credentials.get("webhook_url"),
            secret_token=credentials.get("secret_token") or "",
        )

    def has_secret(self, request: Request) -> bool:
        """Whether the request carries the secret token, compared in constant time."""
        given = request.headers.get(SECRET_HEADER, "")
        return hmac.compare_digest(given.encode("utf-8", "surrogateescape"), self.secret_token.encode())

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check(request: Request) -> Optional[HTTPResponse]:
            path = request.path.rstrip("/")
            if not path.endswith(("/webhook", "/set_webhook")):
                return None  # the channel's health route
            if not self.has_secret(request):
                logger.warning("Telegram request refused: no valid %s", SECRET_HEADER)
                return response.json({"error": f"the request has no valid {SECRET_HEADER}"}, status=403)
            if request.method != "POST" or not path.endswith("/webhook"):
                return None
            return check_update(request.json)

        return blueprint

    def get_output_channel(self) -> TelegramOutput:
        # Rasa registers the webhook with asyncio.run() and then reuses that
        # bot, whose HTTP session belongs to the closed loop ("Event loop is
        # closed" on the first update). Register with a bot of its own instead.
        async def register() -> types.User:
            setup = CareerTelegramOutput(self.access_token, self.secret_token)
            try:
                me = await setup.get_me()
                if me.username != self.verify:
                    # Rasa's connector would answer every update "failed" and do nothing else.
                    raise RasaException(
                        f"TELEGRAM_BOT_USERNAME is {self.verify!r}, but TELEGRAM_TOKEN belongs to the bot "
                        f"{me.username!r}"
                    )
                await setup.set_webhook(self.webhook_url)
                return me
            finally:
                await setup.close()

        try:
            me = asyncio.run(register())
        except TelegramAPIError as error:
            raise RasaException(f"Failed to set the Telegram webhook: {error}") from error
        return CareerTelegramOutput(self.access_token, self.secret_token, me)
