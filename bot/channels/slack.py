"""Slack: Rasa's connector, its API base URL from the environment, with retries and replays handled once.

Slack retries an event it thinks was not delivered: a new request, signed
anew, with ``X-Slack-Retry-Num`` and ``-Reason`` and the same ``event_id``.
Rasa drops only retries whose reason is ``http_timeout``; any other was
handled again (a second user turn, the answer posted twice). Here an event is
handled only the first time its id is seen, on any Rasa instance: the ids are
kept in the conversation store for an hour (bot/channels/slack_events.py).
If that store cannot be written, the event gets a 503 and is not handled, so
Slack retries it later instead of it being lost or handled twice.

Rasa checks each request's signature and that its timestamp is within five
minutes of now, but the same signed request sent again within those five
minutes was processed again. Slack never sends one signature twice, so a
second one is a replay. An event's replay carries its event id and is caught
on every instance by the above; each instance also remembers the signatures
it accepted, which catches replays of interactive payloads (button clicks,
which have no event id) sent to the same instance. A duplicate gets a 200 with
an empty body and ``X-Slack-No-Retry: 1``, and nothing is processed: a 200
rather than an error, because it may be a duplicate delivery on the way from
Slack, whose original was answered, and Slack should not retry it.

What a reply looks like on each platform is bot/rasa/rendering.py's job.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import OutputChannel, UserMessage
from rasa.core.channels.slack import SlackBot, SlackInput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy.exc import SQLAlchemyError

from bot import logs
from bot.channels.slack_events import MAX_ID_LENGTH, SeenEvents
from bot.channels.validation import id_problem
from bot.settings import PlatformAPIs, Settings

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
        base_url = PlatformAPIs.from_env().slack
        if base_url:
            self.client = AsyncWebClient(token, proxy=proxy, base_url=base_url)


def event_id(request: Request) -> Optional[str]:
    """The Events API's id of the event a request carries; None for interactivity (form-encoded, no id)."""
    if request.headers.get("content-type") != "application/json":  # as Rasa's route tells them apart
        return None
    body = request.json
    value = body.get("event_id") if isinstance(body, dict) else None
    return value if isinstance(value, str) and 0 < len(value) <= MAX_ID_LENGTH else None


class CareerSlackInput(SlackInput):
    """Slack Events API and interactivity; Rasa checks the request signature, this class drops duplicates."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen = SeenSignatures()
        self.seen_events = SeenEvents(Settings.from_env().tracker_url)

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

        @blueprint.listener("after_server_stop")
        async def close_store(_app: Sanic, _loop: Any) -> None:
            self.seen_events.close()

        return blueprint

    def _retry_rasa_drops(self, request: Request) -> bool:
        # Rasa's own rule (process_message): a retry for one of these reasons is answered and dropped.
        return bool(request.headers.get(self.retry_num_header)) and (
            request.headers.get(self.retry_reason_header) in self.errors_ignore_retry
        )

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
        event = event_id(request)
        if event is not None and not self._retry_rasa_drops(request):
            try:
                first = await self.seen_events.take_async(event)
            except SQLAlchemyError as error:
                logger.warning(
                    "Slack event %s not handled, answered 503 for Slack to retry: the store of seen "
                    "event ids failed (%s)",
                    event,
                    type(error).__name__,
                )
                return response.json({"error": "the conversation store is unavailable; retry later"}, status=503)
            if not first:
                logger.info(
                    "Slack event %s was already handled; dropped (retry %s, reason %s)",
                    event,
                    request.headers.get(self.retry_num_header) or "-",
                    request.headers.get(self.retry_reason_header) or "-",
                )
                return response.text("", status=200, headers={"X-Slack-No-Retry": "1"})
        logs.remember([text], [sender_id])
        return await super().process_message(request, on_new_message, text, sender_id, metadata)

    def get_output_channel(self, channel: Optional[Text] = None, thread_id: Optional[Text] = None) -> OutputChannel:
        return CareerSlackBot(self.slack_token, channel or self.slack_channel, thread_id, self.proxy)
