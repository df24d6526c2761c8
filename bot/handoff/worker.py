"""The outbox worker: runs inside the action server and delivers pending handoffs.

A handoff that could not be delivered is tried again after 1 s, 2 s, 4 s ...
up to CAREERBOT_HANDOFF_RETRY_MAX_S, for as long as it takes: an SMTP server
that is down delays the e-mail and it goes out when the server is back. A
destination that accepted the handoff is marked at once and never sent it
again; only what is left is retried. A destination that refuses it for good
(an SMTP 5xx, a webhook 4xx other than 408 and 429) is marked failed, logged
at ERROR and not tried again until an operator asks (make handoffs RETRY=<id>);
the other destinations are still delivered and retried. The worker wakes
when this process stores a handoff, and otherwise every
CAREERBOT_HANDOFF_POLL_S, which also picks up what another process stored,
what a restart left pending or what an operator retried.

Log lines name the handoff by its id, never the visitor's address.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Callable, Dict, List, Optional, Tuple

from bot.handoff.delivery import PermanentError, post_webhook, send_email
from bot.handoff.outbox import DESTINATIONS, Handoff, Outbox
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
        """One attempt at every configured destination not yet done; returns the new status.

        Each destination has its own outcome: one that accepted is marked at
        once, one that refused for good is marked failed and not tried again
        (the others still are), one that may work later is retried with backoff.
        """
        attempts = handoff.attempts + 1
        retry: Dict[str, str] = {}
        steps: List[Tuple[str, Callable[[], None]]] = []
        # The settings refuse SMTP without a sender and a webhook without a secret.
        smtp, sender = self.delivery.smtp, self.delivery.email_from
        if smtp is not None and sender is not None:
            steps.append(("email", lambda: send_email(smtp, sender, self.delivery.email_to, handoff)))
        url, secret = self.delivery.webhook_url, self.delivery.webhook_secret
        if url is not None and secret is not None:
            steps.append(("webhook", lambda: post_webhook(url, secret, handoff)))
        # Refused in an earlier attempt (while another destination was still being retried).
        refused = {d: handoff.error(d) or "refused" for d, _ in steps if handoff.state(d) == "failed"}
        for destination, send in steps:
            if handoff.state(destination) != "pending":
                continue
            try:
                send()
            except PermanentError as error:
                refused[destination] = _describe(error)
                self.outbox.refused(handoff.id, destination, refused[destination])
                logger.error(
                    "handoff %s: the %s destination refused it for good: %s "
                    "(the other destinations go on; once fixed: make handoffs RETRY=%s)",
                    handoff.id,
                    destination,
                    refused[destination],
                    handoff.id,
                )
            except Exception as error:  # anything else may work on the next try
                retry[destination] = _describe(error)
            else:
                self.outbox.delivered(handoff.id, destination)
                logger.info("handoff %s delivered by %s", handoff.id, destination)
        errors = {**retry, **refused}
        summary = "; ".join(f"{d}: {errors[d]}" for d in DESTINATIONS if d in errors) or None
        if retry:
            delay = self.backoff(attempts)
            self.outbox.finish(
                handoff.id, "pending", attempts, summary, next_attempt_at=time.time() + delay, errors=retry
            )
            logger.warning(
                "handoff %s not delivered yet (attempt %d, next in %.0f s): %s", handoff.id, attempts, delay, summary
            )
            return "pending"
        if refused:
            self.outbox.finish(handoff.id, "failed", attempts, summary)
            return "failed"
        self.outbox.finish(handoff.id, "sent", attempts)
        return "sent"

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
            except Exception as error:  # the database may be away; try again later
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
