"""Telegram: Rasa's connector, its API base URL from the environment."""

from __future__ import annotations

import asyncio
import os
from typing import Any, Dict, List, Optional, Text

from aiogram import Bot
from aiogram.bot.api import TelegramAPIServer
from aiogram.utils.exceptions import TelegramAPIError
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from rasa.shared.exceptions import RasaException


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
