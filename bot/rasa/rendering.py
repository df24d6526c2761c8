"""Renders each reply for the channel it goes out on: the one place that knows platforms.

Responses in the domain are written once, in light markdown (`**bold**`,
`[title](https://...)`, `- ` lists) with buttons. Rasa hands every response to
the NLG with the name of the output channel; :class:`ChannelRenderingNLG`
fills the response as usual and then :func:`render` adapts it:

| channel                 | text                                     | buttons                                   |
|-------------------------|------------------------------------------|-------------------------------------------|
| socketio, rest          | markdown kept (the widget renders it)    | kept                                      |
| slack                   | Slack mrkdwn (`*bold*`, `<url|title>`)   | kept                                      |
| telegram                | plain text                               | kept (Telegram splits on blank lines)     |
| facebook                | plain text                               | at most 3, titles of at most 20 characters|
| twilio, twilio_whatsapp | plain text (WhatsApp keeps `*bold*`)     | none: numbered options in the text        |

Actions never check the channel. Wording of the SMS options comes from the
domain response ``utter_sms_options``. Buttons an action adds to a response
(a button per career, say) are rendered with the response's own; on SMS the
payloads of the numbered options are kept in the message (``sms_payloads``),
so that a numeric reply finds them.
"""

from __future__ import annotations

import copy
import re
from typing import Any, Dict, List, Optional, Text

from rasa.core.nlg import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

FACEBOOK_MAX_BUTTONS = 3
FACEBOOK_MAX_TITLE = 20
# Messenger's button template holds at most 640 characters of text; longer
# answers carry their choices as quick replies, which allow 2,000.
FACEBOOK_MAX_BUTTON_TEXT = 640
SMS_CHANNELS = ("twilio", "twilio_whatsapp")
SMS_OPTIONS_RESPONSE = "utter_sms_options"
# Where an SMS message keeps its numbered options' payloads (in the stored bot event's metadata).
SMS_PAYLOADS = "sms_payloads"

_BOLD = re.compile(r"\*\*([^*]+)\*\*")
_LINK = re.compile(r"\[([^\]]+)\]\((https?://[^)\s]+)\)")


def to_plain(text: str, bold: str = "") -> str:
    """Markdown to plain text: links as 'title (url)', bold marked with `bold` or nothing."""
    text = _LINK.sub(lambda m: f"{m.group(1)} ({m.group(2)})", text)
    return _BOLD.sub(lambda m: f"{bold}{m.group(1)}{bold}", text)


def to_slack(text: str) -> str:
    text = _LINK.sub(lambda m: f"<{m.group(2)}|{m.group(1)}>", text)
    return _BOLD.sub(lambda m: f"*{m.group(1)}*", text)


def _short(title: str, limit: int) -> str:
    return title if len(title) <= limit else title[: limit - 1].rstrip() + "…"


def render(message: Dict[str, Any], channel: Optional[str], sms_options: str = "{options}") -> Dict[str, Any]:
    """The message as it should go out on `channel` (a new dict; the input is not changed).

    `sms_options` is the template that introduces numbered options on SMS, with
    an `{options}` placeholder for the numbered lines.
    """
    message = copy.deepcopy(message)
    text: str = message.get("text") or ""
    buttons: List[Dict[str, Any]] = message.get("buttons") or []

    if channel == "slack":
        message["text"] = to_slack(text)
    elif channel == "telegram":
        message["text"] = to_plain(text)
    elif channel == "facebook":
        message["text"] = to_plain(text)
        if buttons:
            choices = [dict(b, title=_short(b["title"], FACEBOOK_MAX_TITLE)) for b in buttons]
            if len(message["text"]) > FACEBOOK_MAX_BUTTON_TEXT:
                message.pop("buttons")
                message["quick_replies"] = [
                    {"content_type": "text", "title": b["title"], "payload": b["payload"]} for b in choices
                ]
            else:
                message["buttons"] = choices[:FACEBOOK_MAX_BUTTONS]
    elif channel in SMS_CHANNELS:
        text = to_plain(text, bold="*" if channel == "twilio_whatsapp" else "")
        if buttons:
            lines = "\n".join(f"{i}. {b['title']}" for i, b in enumerate(buttons, start=1))
            text = f"{text}\n\n{sms_options.format(options=lines)}" if text else lines
            message.pop("buttons")
            message[SMS_PAYLOADS] = [b.get("payload") for b in buttons]
        message["text"] = text
    return message


def option_payload(
    domain: Domain, response_name: Optional[str], reply: str, payloads: Optional[List[Any]] = None
) -> Optional[str]:
    """The payload of numbered option `reply` ("2") of a response sent over SMS, if any.

    `payloads` are the options the message was sent with (its ``sms_payloads``);
    a message stored before they were kept falls back to the response's buttons.
    """
    if not reply.strip().isdigit():
        return None
    index = int(reply.strip()) - 1
    if isinstance(payloads, list):
        choice = payloads[index] if 0 <= index < len(payloads) else None
        return choice if isinstance(choice, str) else None
    if not response_name:
        return None
    variations = domain.responses.get(response_name) or []
    buttons = (variations[0].get("buttons") if variations else None) or []
    return buttons[index]["payload"] if 0 <= index < len(buttons) else None


class ChannelRenderingNLG(TemplatedNaturalLanguageGenerator):
    """Rasa's templated NLG, followed by :func:`render` for the output channel.

    Enabled in endpoints.yml: ``nlg: {type: bot.rasa.rendering.ChannelRenderingNLG}``.
    """

    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, domain: Optional[Domain] = None) -> None:
        super().__init__((domain or Domain.empty()).responses)

    async def generate(
        self, utter_action: Text, tracker: DialogueStateTracker, output_channel: Text, **kwargs: Any
    ) -> Optional[Dict[Text, Any]]:
        message = await super().generate(utter_action, tracker, output_channel, **kwargs)
        if message is None or output_channel not in ("slack", "telegram", "facebook") + SMS_CHANNELS:
            return message
        added = kwargs.get("buttons")
        if isinstance(added, list) and added:
            # Rasa's RemoteAction appends an action's own buttons after this call, as they
            # came: Messenger would drop all of a message's buttons past its 3, SMS would get
            # no numbered options. They are rendered here with the response's buttons, and the
            # list Rasa appends from (the same list object) is emptied.
            message["buttons"] = list(message.get("buttons") or []) + [dict(b) for b in added]
            added.clear()
        options = "{options}"
        if output_channel in SMS_CHANNELS and self.responses.get(SMS_OPTIONS_RESPONSE):
            options = self.responses[SMS_OPTIONS_RESPONSE][0]["text"]
        return render(message, output_channel, sms_options=options)
