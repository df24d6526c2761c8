"""make purge and make forget on the store of running servers: what they delete is gone from the files.

Real Rasa and action servers write a real SQLite store in WAL mode and keep
it open, as in production; handoffs go to a local webhook receiver that
refuses them (400), so they end `failed`. The commands run as processes, as
`make` runs them, while the servers keep running; then the database file,
its write-ahead log and its shared-memory index are searched byte for byte
for what was deleted.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_DIR
from bot.handoff.outbox import Outbox
from bot.launch.processes import wait_until
from bot.launch.serve import Servers
from tests.support.mail import WebhookReceiver
from tests.support.servers import MODEL, local_settings, say, text


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("privacy")
    receiver = WebhookReceiver(status=400, path="/handoffs")
    env = {
        "CAREERBOT_HANDOFF_WEBHOOK_URL": receiver.url,
        "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "test-secret-for-the-webhook",
        "CAREERBOT_HANDOFF_RETRY_MAX_S": "1",
        "CAREERBOT_HANDOFF_POLL_S": "0.3",
    }
    settings = local_settings(f"sqlite:///{workdir / 'tracker.db'}")
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train`"
    with Servers(settings, MODEL, log_dir=workdir / "logs", extra_env=env) as servers:
        yield servers, Path(settings.tracker_url[len("sqlite:///") :])
    receiver.close()


def hand_off(servers, sender, address, question):
    assert "$24,000" in text(say(servers, sender, "how much do they earn?"))
    assert "What email address" in text(say(servers, sender, "/request_human"))
    assert "What would you like to ask them?" in text(say(servers, sender, address))
    assert f"they will reply to {address}" in text(say(servers, sender, question))


def store_files(db):
    return [Path(f"{db}{suffix}") for suffix in ("", "-wal", "-shm")]


def found_in_files(db, *needles):
    """Which of `needles` any of the store's files holds, byte for byte."""
    contents = [path.read_bytes() for path in store_files(db) if path.exists()]
    return [needle for needle in needles if any(needle.encode() in data for data in contents)]


def ops(servers, *args):
    env = {**os.environ, "CAREERBOT_TRACKER_URL": servers.settings.tracker_url}
    return subprocess.run(
        [sys.executable, "-m", "bot.ops.privacy", *args],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def failed_handoff(servers, sender):
    outbox = Outbox(servers.settings.tracker_url)
    return wait_until(
        lambda: [h for h in outbox.list() if h.sender_id == sender and h.status == "failed"],
        60,
        what=f"{sender}'s handoff refused by the webhook",
    )


def test_forget_leaves_no_copy_in_the_database_files(live):
    servers, db = live
    secrets = ("visitor-zoe-7f3a", "zoe.privacy@example.org", "Can you check my licence file ZOE-4411?")
    sender, address, question = secrets
    hand_off(servers, sender, address, question)
    assert "9am to 5pm" in text(say(servers, "visitor-yan", "what are the hours?"))
    failed_handoff(servers, sender)
    assert found_in_files(db, *secrets) == list(secrets)  # what the visitor gave is on disk, as stored

    done = ops(servers, "forget", "--sender", sender)
    assert done.returncode == 0, done.stderr
    assert found_in_files(db, *secrets) == []
    assert "handoffs (1 failed) of conversation 'visitor-zoe-7f3a'" in done.stdout
    # The bot kept its store open throughout and goes on storing.
    assert "$24,000" in text(say(servers, "visitor-yan", "how much do they earn?"))
    assert found_in_files(db, "visitor-yan") == ["visitor-yan"]


def test_purge_deletes_every_handoff_and_leaves_no_copy(live):
    servers, db = live
    secrets = ("visitor-xia-52c1", "xia.privacy@example.org", "Is the exam in Texas harder? XIA-9031")
    hand_off(servers, *secrets)
    failed_handoff(servers, secrets[0])

    done = ops(servers, "purge", "--days", "0")
    assert done.returncode == 0, done.stderr
    assert [h.status for h in Outbox(servers.settings.tracker_url).list()] == []
    assert found_in_files(db, *secrets) == []
    assert "1 failed" in done.stdout and "older than 0 days" in done.stdout


def test_a_reader_that_keeps_the_log_in_use_is_reported_and_a_second_run_finishes(live):
    servers, db = live
    secrets = ("visitor-wes-90be", "wes.privacy@example.org", "Who signs the forms? WES-7730")
    hand_off(servers, *secrets)
    # Another reader (a backup, a report) in the middle of a read: the log cannot be emptied under it.
    reader = sqlite3.connect(db, isolation_level=None)
    try:
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM events").fetchone()
        done = ops(servers, "forget", "--sender", secrets[0], "--wal-wait", "2")
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert "deleted" in done.stdout and "of conversation 'visitor-wes-90be'" in done.stdout
        assert done.stderr.startswith("warning: ") and len(done.stderr.strip().splitlines()) == 1
        assert f"the write-ahead log {db}-wal still holds the deleted data" in done.stderr
        assert found_in_files(db, *secrets)  # as the warning says
    finally:
        reader.close()
    again = ops(servers, "forget", "--sender", secrets[0])
    assert again.returncode == 0, again.stderr
    assert "(nothing was stored)" in again.stdout
    assert found_in_files(db, *secrets) == []
