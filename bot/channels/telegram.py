"""Telegram: Rasa's connector, its API base URL from the environment, with the chat id checked.

A chat id becomes the conversation id. Telegram's are integers; an update
whose chat id is anything else did not come from Telegram and gets a 400,
with nothing processed. Updates with no message (a channel post, say), which
Rasa's connector fails on with a 500 that Telegram would retry, are
acknowledged and ignored.
"""

from __future__ import annotations

import asyncio
import json
import os
from typing import Any, Awaitable, Callable, Dict, List, Optional, Text

from aiogram import Bot
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


class CareerTelegramOutput(TelegramOutput):
    def __init__(self, access_token: Optional[Text]) -> None:
        base_url = os.environ.get("CAREERBOT_TELEGRAM_API_URL")
        if base_url:
            Bot.__init__(self, access_token, server=TelegramAPIServer.from_base(base_url))
        else:
            super().__init__(access_token)

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
    @classmethod
    def name(cls) -> Text:
        return "telegram"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def check(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            return check_update(request.json)

        return blueprint

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
