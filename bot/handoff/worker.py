"""The outbox worker: runs inside the action server and delivers pending handoffs.

A handoff that could not be delivered is tried again after 1 s, 2 s, 4 s ...
up to CAREERBOT_HANDOFF_RETRY_MAX_S, for as long as it takes: an SMTP server
that is down delays the e-mail and it goes out when the server is back. A
destination that accepted the handoff is marked at once and never sent it
again; only what is left is retried. The worker wakes when this process
stores a handoff, and otherwise every CAREERBOT_HANDOFF_POLL_S, which also
picks up what another process stored or what a restart left pending.

Log lines name the handoff by its id, never the visitor's address.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, List, Optional, Tuple

from bot.handoff.delivery import PermanentError, post_webhook, send_email
from bot.handoff.outbox import Handoff, Outbox
from bot.redaction import redact_contacts
from bot.settings import HandoffDelivery

logger = logging.getLogger(__name__)


def _describe(error: BaseException) -> str:
    return redact_contacts(f"{type(error).__name__}: {error}")[:500]


class OutboxWorker:
    def __init__(self, outbox: Outbox, delivery: HandoffDelivery) -> None:
        self.outbox = outbox
        self.delivery = delivery
        self._wake: Optional[asyncio.Event] = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def backoff(self, attempts: int) -> float:
        return min(self.delivery.retry_max_s, 2.0 ** max(0, attempts - 1))

    def deliver(self, handoff: Handoff) -> str:
        """One attempt at every destination not yet done; returns the new status."""
        attempts = handoff.attempts + 1
        errors: List[str] = []
        refused = False
        steps: List[Tuple[str, Callable[[], None]]] = []
        # The settings refuse SMTP without a sender and a webhook without a secret.
        smtp, sender = self.delivery.smtp, self.delivery.email_from
        if smtp is not None and sender is not None and handoff.email_sent_at is None:
            steps.append(("email", lambda: send_email(smtp, sender, self.delivery.email_to, handoff)))
        url, secret = self.delivery.webhook_url, self.delivery.webhook_secret
        if url is not None and secret is not None and handoff.webhook_sent_at is None:
            steps.append(("webhook", lambda: post_webhook(url, secret, handoff)))
        for destination, send in steps:
            try:
                send()
            except PermanentError as error:
                refused = True
                errors.append(f"{destination}: {_describe(error)}")
            except Exception as error:  # noqa: BLE001 - anything else may work on the next try
                errors.append(f"{destination}: {_describe(error)}")
            else:
                self.outbox.delivered(handoff.id, destination)
                logger.info("handoff %s delivered by %s", handoff.id, destination)
        if not errors:
            self.outbox.finish(handoff.id, "sent", attempts)
            return "sent"
        summary = "; ".join(errors)
        if refused:
            self.outbox.finish(handoff.id, "failed", attempts, summary)
            logger.error("handoff %s failed for good after %d attempts: %s", handoff.id, attempts, summary)
            return "failed"
        delay = self.backoff(attempts)
        self.outbox.finish(handoff.id, "pending", attempts, summary, next_attempt_at=time.time() + delay)
        logger.warning(
            "handoff %s not delivered yet (attempt %d, next in %.0f s): %s", handoff.id, attempts, delay, summary
        )
        return "pending"

    def run_once(self, most: int = 10) -> int:
        """Delivers what is due now, one claimed row at a time; returns how many handoffs it tried.

        One at a time: a lease (LEASE_S) must outlast the attempt it covers, and
        one attempt is bounded by the delivery timeouts, a batch would not be.
        """
        tried = 0
        while tried < most:
            due = self.outbox.claim_due(limit=1)
            if not due:
                break
            self.deliver(due[0])
            tried += 1
        return tried

    def wake(self) -> None:
        """Called from any thread of this process after a handoff was stored."""
        if self._loop is not None and self._wake is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def run(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        logger.info("handoff outbox worker started")
        while True:
            self._wake.clear()
            try:
                busy = await self._loop.run_in_executor(None, self.run_once)
            except Exception as error:  # noqa: BLE001 - the database may be away; try again later
                logger.warning("handoff outbox not readable: %s", _describe(error))
                busy = 0
            if busy:
                continue
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=self.delivery.poll_s)
            except asyncio.TimeoutError:
                pass


_worker: Optional[OutboxWorker] = None


def current() -> Optional[OutboxWorker]:
    return _worker


def start(tracker_url: str, delivery: HandoffDelivery) -> Optional[OutboxWorker]:
    """The worker of this process, when delivery is configured; its owner runs `run()` in its event loop."""
    global _worker
    if not delivery.configured:
        logger.info("handoff delivery is not configured: the bot gives CAREERBOT_HANDOFF_CONTACT instead")
        return None
    _worker = OutboxWorker(Outbox(tracker_url), delivery)
    return _worker
