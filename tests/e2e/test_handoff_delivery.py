"""Handoff delivery end to end: real servers over REST, a real SMTP server and a webhook receiver on 127.0.0.1.

The SMTP server (aiosmtpd) starts only after the first handoff: the e-mail
waits in the outbox and goes out once the server is there, with no restart.
A webhook that refuses a handoff fails it for the webhook only; the operator
sends it again with make handoffs RETRY=<id> once the receiver is fixed.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import PROJECT_DIR
from bot.handoff.outbox import Outbox
from bot.launch.processes import wait_until
from bot.launch.serve import Servers
from tests.support.mail import Inbox, SmtpServer, WebhookReceiver
from tests.support.servers import MODEL, age_conversation, local_settings, say

SECRET = "test-webhook-secret-0123456789"


@pytest.fixture(scope="module")
def setup(tmp_path_factory, free_ports):
    workdir = tmp_path_factory.mktemp("delivery")
    smtp_port = free_ports()
    receiver = WebhookReceiver(path="/handoffs")
    env = {
        "CAREERBOT_HANDOFF_SMTP_URL": f"smtp://127.0.0.1:{smtp_port}",
        "CAREERBOT_HANDOFF_EMAIL_TO": "team@careers.example.com",
        "CAREERBOT_HANDOFF_EMAIL_FROM": "bot@careers.example.com",
        "CAREERBOT_HANDOFF_WEBHOOK_URL": receiver.url,
        "CAREERBOT_HANDOFF_WEBHOOK_SECRET": SECRET,
        "CAREERBOT_HANDOFF_RETRY_MAX_S": "1",
        "CAREERBOT_HANDOFF_POLL_S": "0.3",
        "LOG_LEVEL": "DEBUG",
    }
    settings = local_settings(f"sqlite:///{workdir / 'tracker.db'}")
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train`"
    inbox = Inbox()
    smtp = SmtpServer(inbox, smtp_port)
    logs = workdir / "logs"
    with Servers(settings, MODEL, log_dir=logs, extra_env=env) as servers:
        servers.smtp = smtp
        yield servers, inbox, receiver, Outbox(settings.tracker_url), logs
    smtp.stop()
    receiver.close()


def handoff(servers, sender, address, question):
    text = lambda messages: "\n".join(m.get("text", "") for m in messages)  # noqa: E731
    assert "$24,000" in text(say(servers, sender, "how much do they earn?"))
    assert "What email address" in text(say(servers, sender, "/request_human"))
    assert "What would you like to ask them?" in text(say(servers, sender, address))
    done = text(say(servers, sender, question))
    assert f"they will reply to {address}" in done


def only_row(outbox, sender):
    [row] = [h for h in outbox.list() if h.sender_id == sender]
    return row


def check_signature(headers, body):
    timestamp = headers["X-Careerbot-Timestamp"]
    assert abs(int(timestamp) - time.time()) < 120  # the time of the attempt
    expected = "sha256=" + hmac.new(SECRET.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["X-Careerbot-Signature"], expected)


def test_with_smtp_down_the_email_waits_and_goes_out_when_it_is_back(setup):
    servers, inbox, receiver, outbox, _ = setup
    handoff(servers, "visitor-a", "ann@visitors.example.org", "Is the licence exam hard?")
    row = only_row(outbox, "visitor-a")
    # The webhook is up: it gets the handoff; SMTP is down: the row waits with the error.
    wait_until(lambda: receiver.with_id(row.id), 60, what="the webhook")
    waiting = wait_until(lambda: (lambda r: r if r.attempts >= 2 else None)(outbox.get(row.id)), 60, what="a retry")
    assert waiting.status == "pending" and waiting.webhook_sent_at and not waiting.email_sent_at
    assert "ConnectionRefusedError" in waiting.last_error
    assert inbox.mails == []
    pid = servers.actions.pid
    servers.smtp.start()
    wait_until(lambda: outbox.get(row.id).status == "sent", 60, what="the e-mail after SMTP came back")
    assert servers.actions.pid == pid  # no restart
    [message] = inbox.with_id(row.id)
    body = message.get_content()
    for part in (
        "Is the licence exam hard?",
        "ann@visitors.example.org",
        "The pay",
        "rest",
        "Visitor: how much do they earn?",
        "Assistant: The annual pay",
        "Visitor: /request_human",
    ):
        assert part in body, part
    assert message["Reply-To"] == "ann@visitors.example.org" and message["To"] == "team@careers.example.com"
    assert len(receiver.with_id(row.id)) == 1


def test_each_handoff_arrives_once_with_its_transcript_and_a_valid_signature(setup):
    servers, inbox, receiver, outbox, _ = setup
    handoff(servers, "visitor-b", "bob@visitors.example.org", "Can I work part time?")
    row = only_row(outbox, "visitor-b")
    wait_until(lambda: outbox.get(row.id).status == "sent", 60, what="delivery")
    [(headers, body)] = receiver.with_id(row.id)
    check_signature(headers, body)
    payload = json.loads(body)
    assert {
        k: payload[k]
        for k in ("id", "type", "conversation_id", "channel", "email", "question", "topic", "topic_label", "route")
    } == {
        "id": row.id,
        "type": "careerbot.handoff",
        "conversation_id": "visitor-b",
        "channel": "rest",
        "email": "bob@visitors.example.org",
        "question": "Can I work part time?",
        "topic": "pay",
        "topic_label": "The pay",
        "route": "our careers team",
    }
    assert [(line["from"], line["text"]) for line in payload["transcript"]][:2] == [
        ("visitor", "how much do they earn?"),
        ("bot", payload["transcript"][1]["text"]),
    ]
    assert payload["transcript"][-1] == {
        "from": "visitor",
        "text": "Can I work part time?",
        "at": payload["transcript"][-1]["at"],
    }
    assert len(inbox.with_id(row.id)) == 1
    # The first handoff, delivered before, was not sent again by the later rounds of the worker.
    first = only_row(outbox, "visitor-a")
    assert (len(inbox.with_id(first.id)), len(receiver.with_id(first.id))) == (1, 1)


def test_a_restart_of_the_action_server_loses_nothing(setup):
    servers, inbox, receiver, outbox, _ = setup
    servers.smtp.stop()
    handoff(servers, "visitor-c", "cy@visitors.example.org", "Do you hire in Texas?")
    row = only_row(outbox, "visitor-c")
    wait_until(lambda: outbox.get(row.id).attempts >= 1, 60, what="a first attempt")
    servers.stop_actions()
    servers.smtp.start()
    assert outbox.get(row.id).status == "pending"
    servers.start_actions()
    wait_until(lambda: outbox.get(row.id).status == "sent", 60, what="delivery after the restart")
    assert len(inbox.with_id(row.id)) == 1 and len(receiver.with_id(row.id)) == 1


def test_an_abandoned_form_is_recorded_and_never_takes_a_later_question(setup):
    servers, inbox, receiver, outbox, _ = setup
    text = lambda messages: "\n".join(m.get("text", "") for m in messages)  # noqa: E731
    # Cancelled after the address.
    say(servers, "visitor-d", "/request_human")
    say(servers, "visitor-d", "dee@visitors.example.org")
    assert "cancelled" in text(say(servers, "visitor-d", "/cancel"))
    # Left waiting for the question; the visitor comes back two hours later.
    say(servers, "visitor-e", "/request_human")
    say(servers, "visitor-e", "eve@visitors.example.org")
    age_conversation(servers.settings.tracker_url, "visitor-e", 2 * 3600)
    assert "9am to 5pm" in text(say(servers, "visitor-e", "what are the hours?"))
    rows = {h.sender_id: h for h in outbox.list() if h.sender_id in ("visitor-d", "visitor-e")}
    assert {s: (h.status, h.email, h.question) for s, h in rows.items()} == {
        "visitor-d": ("abandoned", None, None),
        "visitor-e": ("abandoned", None, None),
    }
    from bot.ops.report.figures import build_report
    from bot.ops.report.loading import StoredEvents

    report = build_report(StoredEvents(servers.settings.tracker_url))
    assert report.totals.abandoned_handoffs == 2
    assert not [mail for mail in inbox.mails if "eve@visitors.example.org" in mail.message.get_content()]


def operator(servers, *args):
    """An operator's command of bot.ops (make handoffs, make report) against the servers' store."""
    env = {**os.environ, "CAREERBOT_TRACKER_URL": servers.settings.tracker_url}
    done = subprocess.run(
        [sys.executable, "-m", *args], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_refused_webhook_fails_alone_is_logged_and_the_operator_retries_it(setup, tmp_path):
    servers, inbox, receiver, outbox, logs = setup
    if servers.smtp.controller is None:  # when run alone: the first test starts it
        servers.smtp.start()
    receiver.status = 400  # e.g. the receiver checks a field it should not
    try:
        handoff(servers, "visitor-f", "fay@visitors.example.org", "Is there an exam?")
        row = only_row(outbox, "visitor-f")
        row = wait_until(
            lambda: (lambda r: r if r.status != "pending" else None)(outbox.get(row.id)),
            60,
            what="the webhook's refusal",
        )
    finally:
        receiver.status = 204
    # The e-mail went out; the webhook alone is failed, and not tried again by itself.
    assert (row.status, row.state("email"), row.state("webhook")) == ("failed", "sent", "failed")
    assert "HTTP 400" in row.webhook_error and len(inbox.with_id(row.id)) == 1
    log = "".join(p.read_text(errors="replace") for p in Path(logs).glob("*.log"))
    assert re.search(rf" ERROR handoff {row.id}: the webhook destination refused it for good: .*HTTP 400", log)
    listing = operator(servers, "bot.ops.handoffs", "--status", "failed")
    [line] = [x for x in listing.splitlines() if x.endswith(f"[{row.id}]")]
    assert "conversation visitor-f" in line and "email sent" in line and "webhook refused" in line
    report = operator(servers, "bot.ops.report", "--out", str(tmp_path / "report.html"))
    assert re.search(r"^Handoffs: +\d+ delivered, 1 failed, 0 pending, 0 resolved by hand$", report, re.MULTILINE)
    assert "Handoffs delivered / failed / pending" in (tmp_path / "report.html").read_text()

    assert f"{row.id}: failed -> pending" in operator(servers, "bot.ops.handoffs", "--retry", row.id)
    row = wait_until(
        lambda: (lambda r: r if r.status == "sent" else None)(outbox.get(row.id)),
        60,
        what="the webhook after the retry",
    )
    assert row.state("webhook") == "sent" and len(receiver.with_id(row.id)) == 2  # the 400, then the 204
    assert len(inbox.with_id(row.id)) == 1  # the e-mail was not sent again
    report = operator(servers, "bot.ops.report", "--out", str(tmp_path / "report.html"))
    assert re.search(r"^Handoffs: +\d+ delivered, 0 failed, 0 pending", report, re.MULTILINE)


def test_no_handoff_address_reaches_the_logs(setup):
    *_, logs = setup
    text = "".join(p.read_text(errors="replace") for p in Path(logs).glob("*.log"))
    assert "handoff" in text  # the worker did log its deliveries, by id
    for address in ("ann@", "bob@", "cy@", "dee@", "eve@", "fay@"):
        assert f"{address}visitors.example.org" not in text


def test_without_delivery_the_bot_gives_the_contact_route_and_promises_nothing(tmp_path):
    settings = local_settings(f"sqlite:///{tmp_path / 'tracker.db'}")
    env = {"CAREERBOT_HANDOFF_CONTACT": "careers@company.example.com or +1 555 010 0000"}
    with Servers(settings, MODEL, log_dir=tmp_path / "logs", extra_env=env) as servers:
        reply = "\n".join(m.get("text", "") for m in say(servers, "no-route", "/request_human"))
        assert "careers@company.example.com or +1 555 010 0000" in reply
        assert all(path.exists() for path in servers.port_files())
        assert "email address" not in reply and "will reply" not in reply
        # The next message is a question, not an address for a form.
        assert "9am to 5pm" in "\n".join(m.get("text", "") for m in say(servers, "no-route", "what are the hours?"))
    assert Outbox(settings.tracker_url).list() == []
    assert not any(path.exists() for path in servers.port_files())  # removed with the servers
