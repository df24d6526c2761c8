"""Slack: Rasa's connector, its API base URL from the environment.

What a reply looks like on each platform is bot/rendering.py's job.
"""

from __future__ import annotations

import os
from typing import Optional, Text

from rasa.core.channels.channel import OutputChannel
from rasa.core.channels.slack import SlackBot, SlackInput
from slack_sdk.web.async_client import AsyncWebClient


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
