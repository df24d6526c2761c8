"""The outbox worker against real local servers: aiosmtpd with a login, and a webhook receiver.

What a refusal does (failed, never retried), what a temporary error does
(pending, tried again later), and that each destination is sent once.
"""

from __future__ import annotations

import time

import pytest
from aiosmtpd.smtp import AuthResult

from bot.handoff.outbox import Handoff, Outbox
from bot.handoff.worker import OutboxWorker
from bot.settings import HandoffDelivery
from bot.settings import SmtpServer as SmtpDestination
from tests.support.mail import Inbox, SmtpServer, WebhookReceiver


def authenticate(server, session, envelope, mechanism, auth_data):
    return AuthResult(success=auth_data.login == b"bot" and auth_data.password == b"s3cret:pw",
                      auth_data=auth_data.login)


@pytest.fixture
def smtp(free_ports):
    started = []

    def start(answer="250 OK"):
        server = SmtpServer(Inbox(answer), free_ports(), authenticator=authenticate, auth_require_tls=False).start()
        started.append(server)
        return server.inbox, server.port

    yield start
    for server in started:
        server.stop()


def new_handoff(outbox, name="h1"):
    handoff = Handoff(id=name, sender_id="visitor", created_at=time.time(), status="pending",
                      email="ann@visitors.example.org", question="Is it hard?", topic="licensing", channel="rest",
                      route="our careers team",
                      transcript=[{"from": "visitor", "text": "do I need a license?", "at": time.time()}])
    assert outbox.add(handoff) and not outbox.add(handoff)  # the same id twice is one row
    return handoff


def delivery(smtp_port=None, webhook=None, password="s3cret:pw"):
    return HandoffDelivery(
        smtp=SmtpDestination("127.0.0.1", smtp_port, username="bot", password=password) if smtp_port else None,
        email_to=("team@careers.example.com",), email_from="bot@careers.example.com",
        webhook_url=webhook.url if webhook else None, webhook_secret="k" * 16 if webhook else None,
        retry_max_s=1)


def test_an_email_with_a_login_is_sent_once(tmp_path, smtp):
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    inbox, port = smtp()
    worker = OutboxWorker(outbox, delivery(port))
    new_handoff(outbox)
    assert worker.run_once() == 1
    assert worker.run_once() == 0  # nothing due: it was sent
    [mail] = inbox.mails
    message = mail.message
    assert mail.login == b"bot"
    assert message["Subject"] == "Website visitor's question (The licence)"
    body = message.get_content()
    assert "Question: Is it hard?" in body and "Reply to: ann@visitors.example.org" in body
    assert "Visitor: do I need a license?" in body
    row = outbox.get("h1")
    assert (row.status, row.attempts, row.last_error) == ("sent", 1, None) and row.sent_at


def test_a_wrong_password_is_retried_not_dropped(tmp_path, smtp):
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    inbox, port = smtp()
    worker = OutboxWorker(outbox, delivery(port, password="wrong"))
    new_handoff(outbox)
    worker.run_once()
    row = outbox.get("h1")
    # (aiosmtpd answers a failed login by letting smtplib's next mechanism time out: the error varies.)
    assert (row.status, row.attempts) == ("pending", 1) and row.last_error.startswith("email: ")
    assert row.next_attempt_at > row.created_at and inbox.mails == []


def test_a_refusal_fails_for_good_and_a_webhook_outage_is_retried(tmp_path, smtp):
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    _, port = smtp("550 mailbox unavailable")
    refused = OutboxWorker(outbox, delivery(port))
    new_handoff(outbox, "refused")
    refused.run_once()
    row = outbox.get("refused")
    assert row.status == "failed" and "550" in row.last_error and "ann@" not in row.last_error
    down = WebhookReceiver(status=503)
    worker = OutboxWorker(outbox, delivery(webhook=down))
    new_handoff(outbox, "later")
    worker.run_once()
    row = outbox.get("later")
    assert (row.status, row.attempts) == ("pending", 1) and "503" in row.last_error
    down.status = 204
    while outbox.get("later").status == "pending":  # due again after the backoff (1 s here)
        worker.run_once()
        time.sleep(0.2)
    assert outbox.get("later").status == "sent" and len(down.bodies) == 2  # the 503, then the accepted one
    assert outbox.get("refused").status == "failed"  # never retried


def test_a_destination_that_accepted_is_not_sent_again_when_the_other_fails(tmp_path, smtp):
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    inbox, port = smtp()
    hook = WebhookReceiver(status=500)
    worker = OutboxWorker(outbox, delivery(port, webhook=hook))
    new_handoff(outbox)
    worker.run_once()
    assert len(inbox.mails) == 1 and outbox.get("h1").status == "pending"
    hook.status = 204
    while outbox.get("h1").status == "pending":
        worker.run_once()
        time.sleep(0.2)
    assert len(inbox.mails) == 1 and len(hook.bodies) == 2
