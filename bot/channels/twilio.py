"""Twilio SMS, and WhatsApp through Twilio: Rasa's connector, buttons as numbered options."""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint
from sanic.request import Request


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
