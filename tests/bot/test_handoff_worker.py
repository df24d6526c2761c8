"""The outbox worker against real local servers: aiosmtpd with a login, and a webhook receiver.

What a refusal does (that destination failed, never retried by itself; the
others still delivered), what a temporary error does (pending, tried again
later), that each destination is sent once, that a crash after the SMTP server
accepted the e-mail sends the same Message-ID again, and that the webhook
receiver of docs/handoff-webhook.md accepts a real delivery and refuses a replay.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import logging
import os
import re
import socket
import sqlite3
import subprocess
import sys
import time

import pytest
from aiosmtpd.smtp import AuthResult

from bot import PROJECT_DIR
from bot.handoff.delivery import PermanentError, post_webhook
from bot.handoff.outbox import LEASE_S, Handoff, Outbox
from bot.handoff.worker import OutboxWorker
from bot.launch.processes import wait_until
from bot.settings import HandoffDelivery
from bot.settings import SmtpServer as SmtpDestination
from tests.support.mail import Inbox, SmtpServer, WebhookReceiver

SECRET = "k" * 16


def authenticate(server, session, envelope, mechanism, auth_data):
    return AuthResult(
        success=auth_data.login == b"bot" and auth_data.password == b"s3cret:pw", auth_data=auth_data.login
    )


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
    handoff = Handoff(
        id=name,
        sender_id="visitor",
        created_at=time.time(),
        status="pending",
        email="ann@visitors.example.org",
        question="Is it hard?",
        topic="licensing",
        channel="rest",
        route="our careers team",
        transcript=[{"from": "visitor", "text": "do I need a license?", "at": time.time()}],
    )
    assert outbox.add(handoff) and not outbox.add(handoff)  # the same id twice is one row
    return handoff


def delivery(smtp_port=None, webhook=None, password="s3cret:pw"):
    return HandoffDelivery(
        smtp=SmtpDestination("127.0.0.1", smtp_port, username="bot", password=password) if smtp_port else None,
        email_to=("team@careers.example.com",) if smtp_port else (),
        email_from="bot@careers.example.com" if smtp_port else None,
        webhook_url=webhook.url if webhook else None,
        webhook_secret=SECRET if webhook else None,
        retry_max_s=1,
    )


def run_until_settled(worker, outbox, name, timeout=30.0):
    """Runs the worker until the handoff is no longer pending (its backoff is 1 s at most here)."""

    def settled():
        worker.run_once()
        row = outbox.get(name)
        return row if row.status != "pending" else None

    return wait_until(settled, timeout, what=f"handoff {name} no longer pending")


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
    assert run_until_settled(worker, outbox, "later").status == "sent"  # due again after the backoff (1 s here)
    assert len(down.bodies) == 2  # the 503, then the accepted one
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
    assert run_until_settled(worker, outbox, "h1").status == "sent"
    assert len(inbox.mails) == 1 and len(hook.bodies) == 2


@pytest.mark.parametrize(
    "status, outcome",
    [(400, "failed"), (401, "failed"), (404, "failed"), (408, "pending"), (429, "pending"), (500, "pending")],
)
def test_a_webhook_4xx_is_final_except_408_and_429(tmp_path, status, outcome):
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    hook = WebhookReceiver(status=status)
    new_handoff(outbox)
    OutboxWorker(outbox, delivery(webhook=hook)).run_once()
    row = outbox.get("h1")
    assert (row.status, row.state("webhook")) == (outcome, outcome)
    assert f"HTTP {status}" in row.webhook_error
    hook.close()


def test_a_webhook_refusal_fails_the_webhook_only_and_a_retry_sends_it_once_fixed(tmp_path, smtp, caplog):
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    inbox, port = smtp()
    hook = WebhookReceiver(status=400)
    worker = OutboxWorker(outbox, delivery(port, webhook=hook))
    new_handoff(outbox)
    with caplog.at_level(logging.INFO, logger="bot.handoff.worker"):
        assert worker.run_once() == 1
    row = outbox.get("h1")
    assert (row.status, row.state("email"), row.state("webhook")) == ("failed", "sent", "failed")
    assert "HTTP 400" in row.webhook_error and row.email_error is None and len(inbox.mails) == 1
    [error] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert "h1" in error and "webhook" in error and "HTTP 400" in error and "RETRY=h1" in error
    assert "ann@" not in caplog.text
    # Not tried again by itself, however long the backoff.
    assert outbox.claim_due(now=time.time() + 10**6) == [] and len(hook.requests) == 1
    hook.status = 204
    assert outbox.retry("h1")
    row = run_until_settled(worker, outbox, "h1")
    assert (row.status, row.state("email"), row.state("webhook")) == ("sent", "sent", "sent")
    assert len(inbox.mails) == 1 and len(hook.requests) == 2  # the e-mail was not sent again
    hook.close()


def test_a_webhook_refusal_does_not_stop_the_email_retries(tmp_path, free_ports):
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    port = free_ports()
    server = SmtpServer(Inbox(), port, authenticator=authenticate, auth_require_tls=False)  # down at first
    hook = WebhookReceiver(status=400)
    worker = OutboxWorker(outbox, delivery(port, webhook=hook))
    new_handoff(outbox)
    worker.run_once()
    row = outbox.get("h1")
    assert (row.status, row.state("email"), row.state("webhook")) == ("pending", "pending", "failed")
    assert "ConnectionRefusedError" in row.email_error and "HTTP 400" in row.webhook_error
    server.start()
    try:
        row = run_until_settled(worker, outbox, "h1")
    finally:
        server.stop()
    assert (row.status, row.state("email"), row.state("webhook")) == ("failed", "sent", "failed")
    assert len(server.inbox.mails) == 1 and len(hook.requests) == 1
    hook.close()


# One attempt of the worker in a process of its own, which the test kills.
WORKER = """
import sys
from bot.handoff.outbox import Outbox
from bot.handoff.worker import OutboxWorker
from bot.settings import HandoffDelivery, SmtpServer
delivery = HandoffDelivery(smtp=SmtpServer("127.0.0.1", int(sys.argv[2])), email_to=("team@careers.example.com",),
                           email_from="bot@careers.example.com")
OutboxWorker(Outbox(sys.argv[1]), delivery).run_once()
"""


class HoldingInbox(Inbox):
    """Accepts the first message after locking the store: the worker cannot mark it sent until the lock ends."""

    def __init__(self, database):
        super().__init__()
        self.lock = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
        self.quits = 0

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook)
        if not self.mails:
            self.lock.execute("BEGIN EXCLUSIVE")
        return await super().handle_DATA(server, session, envelope)

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 (aiosmtpd's hook)
        self.quits += 1  # the client had the 250 for its message: it quits only after that
        return "221 Bye"


def test_a_crash_after_the_smtp_server_accepted_sends_the_same_message_id_again(tmp_path, free_ports):
    database = tmp_path / "store.db"
    outbox = Outbox(f"sqlite:///{database}")
    new_handoff(outbox, "crash")
    inbox = HoldingInbox(database)
    server = SmtpServer(inbox, free_ports()).start()
    worker = subprocess.Popen(
        [sys.executable, "-c", WORKER, f"sqlite:///{database}", str(server.port)],
        cwd=PROJECT_DIR,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Accepted by SMTP (the worker saw the 250 and quit); it now waits to mark it sent, and is killed there.
        wait_until(lambda: inbox.quits or worker.poll() is not None, 60, what="the first e-mail accepted")
        assert worker.poll() is None, "the worker ended before it was killed"
        worker.kill()
        worker.wait(timeout=30)
        inbox.lock.execute("ROLLBACK")
        row = outbox.get("crash")
        assert (row.status, row.email_sent_at) == ("pending", None)
        # Two minutes later the dead worker's lease has run out, and another worker sends it again.
        [due] = outbox.claim_due(now=time.time() + LEASE_S + 1)
        again = HandoffDelivery(
            smtp=SmtpDestination("127.0.0.1", server.port),
            email_to=("team@careers.example.com",),
            email_from="bot@careers.example.com",
        )
        assert OutboxWorker(outbox, again).deliver(due) == "sent"
    finally:
        if worker.poll() is None:
            worker.kill()
        server.stop()
        inbox.lock.close()
    first, second = (mail.message for mail in inbox.mails)
    # The same Message-ID both times, with nothing of the time or the process in it: mail clients show one.
    assert first["Message-ID"] == second["Message-ID"] == "<crash@careerbot.handoff>"
    assert first["X-Careerbot-Handoff-Id"] == second["X-Careerbot-Handoff-Id"] == "crash"


# The receiver of docs/handoff-webhook.md, run as it is written there.
WEBHOOK_DOC = PROJECT_DIR / "docs" / "handoff-webhook.md"


@pytest.fixture(scope="module")
def example_receiver(tmp_path_factory):
    """The documented receiver's code as a file, and imported as a module."""
    [code] = re.findall(r"```python\n(.*?)```", WEBHOOK_DOC.read_text(encoding="utf-8"), re.DOTALL)
    path = tmp_path_factory.mktemp("receiver") / "receiver.py"
    path.write_text(code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("example_receiver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return path, module


def test_the_documented_verify_accepts_a_real_delivery_and_refuses_a_replay(tmp_path, example_receiver):
    _, receiver = example_receiver
    outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
    hook = WebhookReceiver()
    new_handoff(outbox)
    OutboxWorker(outbox, delivery(webhook=hook)).run_once()
    hook.close()
    [(headers, body)] = hook.requests
    timestamp, signature, secret = headers["X-Careerbot-Timestamp"], headers["X-Careerbot-Signature"], SECRET.encode()
    sent = int(timestamp)
    assert abs(sent - time.time()) < 60  # the time of the attempt
    assert receiver.verify(secret, timestamp, signature, body)
    assert receiver.verify(secret, timestamp, signature, body, now=sent + 300)
    assert not receiver.verify(secret, timestamp, signature, body, now=sent + 301)  # replayed 5 minutes later
    assert not receiver.verify(secret, timestamp, signature, body, now=sent - 301)
    assert not receiver.verify(secret, str(sent + 60), signature, body)  # a new time on the old signature
    assert not receiver.verify(secret, timestamp, signature, body.replace(b"Is it hard?", b"Is it hard!"))
    assert not receiver.verify(b"another secret of 16+", timestamp, signature, body)
    assert not receiver.verify(secret, None, signature, body) and not receiver.verify(secret, timestamp, None, body)
    assert not receiver.verify(secret, "1e9", signature, body) and not receiver.verify(
        secret, "9" * 5000, signature, body
    )
    # A signature of the body alone, as before the timestamp was signed, does not pass.
    assert not receiver.verify(secret, timestamp, "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest(), body)


def test_the_documented_receiver_takes_a_delivery_once_and_refuses_a_forgery(tmp_path, example_receiver, free_ports):
    path, _ = example_receiver
    port = free_ports()
    process = subprocess.Popen(
        [sys.executable, str(path), str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CAREERBOT_HANDOFF_WEBHOOK_SECRET": SECRET},
    )

    def listening():
        assert process.poll() is None, process.communicate()[1]
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    url = f"http://127.0.0.1:{port}/"
    try:
        wait_until(listening, 30, what="the example receiver")
        outbox = Outbox(f"sqlite:///{tmp_path / 'store.db'}")
        new_handoff(outbox)
        worker = OutboxWorker(outbox, HandoffDelivery(webhook_url=url, webhook_secret=SECRET, retry_max_s=1))
        assert worker.run_once() == 1 and outbox.get("h1").status == "sent"
        post_webhook(url, SECRET, outbox.get("h1"))  # delivered again, as after a lost answer: taken once
        with pytest.raises(PermanentError, match="HTTP 401"):
            post_webhook(url, "not the secret, forged", outbox.get("h1"))
    finally:
        process.terminate()
        out, _ = process.communicate(timeout=30)
    assert out.count("handoff h1: 'Is it hard?', reply to ann@visitors.example.org") == 1
