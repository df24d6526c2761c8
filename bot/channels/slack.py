"""Slack: Rasa's connector, its API base URL from the environment, with replays refused.

Rasa checks each request's signature and that its timestamp is within five
minutes of now, but the same signed request sent again within those five
minutes was processed again. Slack never sends one signature twice (its own
retries are new requests, signed anew, with X-Slack-Retry-Num; Rasa's
handling of those is kept), so a second one is a replay: it gets a 200 with
an empty body and `X-Slack-No-Retry: 1`, and nothing is processed. A 200
rather than an error, because the replay may be a duplicate delivery on the
way from Slack, whose original was answered: Slack should not retry it.

What a reply looks like on each platform is bot/rasa/rendering.py's job.
"""

from __future__ import annotations

import logging
import os
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient

from bot import logs
from bot.channels.validation import id_problem

logger = logging.getLogger(__name__)

# Rasa accepts a request whose timestamp is at most this far from its clock.
SLACK_WINDOW_S = 5 * 60


class SeenSignatures:
    """Signatures of accepted requests, remembered as long as Rasa would accept them again.

    A timestamp up to one window ahead of the clock is accepted until one
    window after itself, so a signature is kept for two windows after it is
    first seen; entries expire in the order they came. Only signatures that
    verified are stored, so their number is bounded by Slack's real traffic;
    beyond `limit` the oldest is forgotten first.
    """

    def __init__(self, keep_s: float = 2 * SLACK_WINDOW_S, limit: int = 100_000) -> None:
        self.keep_s = keep_s
        self.limit = limit
        self._expiry: "OrderedDict[str, float]" = OrderedDict()

    def first_time(self, signature: str, now: Optional[float] = None) -> bool:
        """Whether `signature` is new; it is remembered from now on."""
        now = time.monotonic() if now is None else now
        while self._expiry and next(iter(self._expiry.values())) <= now:
            self._expiry.popitem(last=False)
        if signature in self._expiry:
            return False
        self._expiry[signature] = now + self.keep_s
        while len(self._expiry) > self.limit:
            self._expiry.popitem(last=False)
        return True

    def __len__(self) -> int:
        return len(self._expiry)


class CareerSlackBot(SlackBot):
    def __init__(
        self,
        token: Text,
        slack_channel: Optional[Text] = None,
        thread_id: Optional[Text] = None,
        proxy: Optional[Text] = None,
    ) -> None:
        super().__init__(token, slack_channel, thread_id, proxy)
        base_url = os.environ.get("CAREERBOT_SLACK_API_URL")
        if base_url:
            self.client = AsyncWebClient(token, proxy=proxy, base_url=base_url)


class CareerSlackInput(SlackInput):
    """Slack Events API and interactivity; Rasa checks the request signature, this class refuses replays."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen = SeenSignatures()

    @classmethod
    def name(cls) -> Text:
        return "slack"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = super().blueprint(on_new_message)

        @blueprint.middleware("request")
        async def refuse_replays(request: Request) -> Optional[HTTPResponse]:
            if request.method != "POST" or not request.path.rstrip("/").endswith("/webhook"):
                return None
            if not self.is_request_from_slack_authentic(request):
                return None  # Rasa's route answers it with 400
            if self.seen.first_time(request.headers.get("X-Slack-Signature", "")):
                return None
            logger.warning("a replayed Slack request (a signature already seen) was ignored")
            return response.text("", status=200, headers={"X-Slack-No-Retry": "1"})

        return blueprint

    async def process_message(
        self,
        request: Request,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        text: Text,
        sender_id: Optional[Text],
        metadata: Optional[Dict],
    ) -> Any:
        problem = id_problem(sender_id, "user")
        if problem:
            return response.json({"error": problem}, status=400)
        logs.remember([text], [sender_id])
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return CareerSlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)
