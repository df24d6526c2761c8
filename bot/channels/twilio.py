"""Twilio SMS, and WhatsApp through Twilio: Rasa's connector, with Twilio's request signature checked,
and buttons as numbered options.

Rasa's connector answers any POST that has a `From`: anyone who knows the URL
could write into any phone number's conversation. Here every request must carry
a valid `X-Twilio-Signature` (Twilio's HMAC-SHA1 of the URL it called and the
form fields, keyed with the account's auth token), checked with the official
`twilio` library's RequestValidator; otherwise 403 and nothing is processed.

The signature covers the public URL that Twilio called. Behind a proxy the
server sees another one, so the URL checked is, in this order:
CAREERBOT_TWILIO_PUBLIC_URL (the public base, e.g. https://bot.example.com)
followed by the request's path and query, when it is set, and nothing else;
otherwise the URL as the proxy reports it in X-Forwarded-Proto /
X-Forwarded-Host, and the URL as received. Trusting those headers gives
nothing away: a signature still needs the auth token.
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text
from urllib.parse import parse_qs

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot import logs
from bot.channels.validation import id_problem
from bot.settings import PlatformAPIs

logger = logging.getLogger(__name__)


class CareerTwilioOutput(TwilioOutput):
    """Rasa's Twilio output; CAREERBOT_TWILIO_API_URL points it at another API base URL (the tests' fake)."""

    def __init__(self, account_sid: Optional[Text], auth_token: Optional[Text], twilio_number: Optional[Text]) -> None:
        super().__init__(account_sid, auth_token, twilio_number)
        base_url = PlatformAPIs.from_env().twilio
        if base_url:
            self.api.base_url = base_url


class FormFields(Dict[str, List[str]]):
    """The form fields as Twilio signed them: blank values kept (Sanic's request.form drops them)."""

    def getlist(self, name: str) -> List[str]:
        return self[name]


def signed_urls(headers: Mapping[str, str], scheme: str, path: str, query: str, public_url: Optional[str]) -> List[str]:
    """The URLs Twilio may have signed for this request (see the module docstring)."""
    tail = path + (f"?{query}" if query else "")
    if public_url:
        return [public_url.rstrip("/") + tail]
    host = headers.get("host", "")
    urls = []
    forwarded_proto = headers.get("x-forwarded-proto", "").split(",")[0].strip()
    forwarded_host = headers.get("x-forwarded-host", "").split(",")[0].strip()
    if forwarded_proto or forwarded_host:
        urls.append(f"{forwarded_proto or scheme}://{forwarded_host or host}{tail}")
    urls.append(f"{scheme}://{host}{tail}")
    return urls


def check_request(request: Request, auth_token: str, public_url: Optional[str] = None) -> Optional[HTTPResponse]:
    """A refusal when the request is not Twilio's or its sender cannot be a conversation id, else None."""
    signature = request.headers.get("x-twilio-signature")
    try:
        fields = FormFields(parse_qs((request.body or b"").decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return response.json({"error": "the body is not valid UTF-8"}, status=400)
    urls = signed_urls(
        request.headers,
        request.scheme,
        request.path,
        request.query_string,
        public_url,
    )
    validator = RequestValidator(auth_token)
    if not signature or not any(validator.validate(url, fields, signature) for url in urls):
        logger.warning("Twilio request refused: no valid X-Twilio-Signature for %s", urls[0])
        return response.json({"error": "the request has no valid X-Twilio-Signature"}, status=403)
    problem = id_problem(next(iter(fields.get("From") or []), None), "From")
    if problem:
        return response.json({"error": problem}, status=400)
    body = (fields.get("Body") or [""])[0]
    if not body.strip() and not (fields.get("Latitude") and fields.get("Longitude")):
        # A picture without text, say: nothing to answer (Rasa's connector fails on it).
        return response.empty(status=204)
    logs.remember([body], [fields["From"][0]])
    return None


class CareerTwilioInput(TwilioInput):
    """Twilio SMS. Requests are signature-checked; buttons go out as numbered options,
    and a reply of just a number is taken as that option of the bot's last message."""

    output_class = CareerTwilioOutput

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
        # Rasa names every Twilio blueprint alike, and Sanic refuses two of a
        # name: SMS and WhatsApp could not be on together.
        blueprint.name = f"{self.name()}_webhook"
        public_url = PlatformAPIs.from_env().twilio_public_url  # once, not per request

        @blueprint.middleware("request")
        async def check(request: Request) -> Optional[HTTPResponse]:
            agent_holder["agent"] = request.app.ctx.agent
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            return check_request(request, self.auth_token or "", public_url)

        return blueprint

    def get_output_channel(self) -> OutputChannel:
        return self.output_class(self.account_sid, self.auth_token, self.twilio_number)


class TwilioWhatsAppOutput(CareerTwilioOutput):
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

    from bot.rasa.rendering import SMS_PAYLOADS, option_payload

    tracker = await agent.tracker_store.retrieve(sender_id)
    if tracker is None:
        return None
    for event in reversed(tracker.events):
        if isinstance(event, BotUttered):
            metadata = event.metadata or {}
            return option_payload(agent.domain, metadata.get("utter_action"), text, metadata.get(SMS_PAYLOADS))
    return None
