"""make handoffs: the listing, RETRY and RESOLVE, an outbox table of the first release, a database that never answers.

The old table is the one the first release created (its DDL is copied here),
on SQLite and on a real PostgreSQL; the unresponsive database is a TCP
listener on 127.0.0.1 that accepts connections and never says a word.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import pytest
import sqlalchemy as sa

from bot import PROJECT_DIR
from bot.handoff.outbox import STATEMENT_TIMEOUT_S, TABLE, Handoff, Outbox
from bot.handoff.worker import OutboxWorker
from bot.ops import handoffs as cli
from bot.settings import HandoffDelivery
from bot.settings import SmtpServer as SmtpDestination
from tests.support.mail import Inbox, SmtpServer, WebhookReceiver

# careerbot_handoffs as the first release (before the per-destination columns) created it.
OLD_TABLE = """
CREATE TABLE careerbot_handoffs (
    id VARCHAR(36) NOT NULL, sender_id VARCHAR(255) NOT NULL, created_at FLOAT NOT NULL,
    status VARCHAR(16) NOT NULL, attempts INTEGER NOT NULL, next_attempt_at FLOAT, lease_until FLOAT,
    last_error TEXT, sent_at FLOAT, email_sent_at FLOAT, webhook_sent_at FLOAT, email VARCHAR(320),
    question TEXT, topic VARCHAR(64), channel VARCHAR(64), route TEXT, transcript TEXT, PRIMARY KEY (id))
"""
OLD_INDEXES = [
    f"CREATE INDEX ix_careerbot_handoffs_{c} ON careerbot_handoffs ({c})" for c in ("status", "sender_id", "created_at")
]
OLD_COLUMNS = {
    "id",
    "sender_id",
    "created_at",
    "status",
    "attempts",
    "next_attempt_at",
    "lease_until",
    "last_error",
    "sent_at",
    "email_sent_at",
    "webhook_sent_at",
    "email",
    "question",
    "topic",
    "channel",
    "route",
    "transcript",
}
TO, FROM = "team@careers.example.com", "bot@careers.example.com"


@pytest.fixture(scope="module")
def postgres():
    from bot.devtools.cluster import Postgres

    server = Postgres().create()
    yield server
    server.close()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.services)])
def store_url(request, tmp_path):
    """An empty store of each kind: a SQLite file, or a new database on the module's PostgreSQL."""
    if request.param == "sqlite":
        (tmp_path / "store.db").touch()
        return f"sqlite:///{tmp_path / 'store.db'}"
    server = request.getfixturevalue("postgres")
    name = f"t{time.monotonic_ns()}"
    admin = sa.create_engine(server.url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f"CREATE DATABASE {name}"))
    admin.dispose()
    return server.url.rsplit("/", 1)[0] + f"/{name}"


def columns(url):
    engine = sa.create_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(TABLE)}
    finally:
        engine.dispose()


def run(monkeypatch, capsys, url, *args):
    """make handoffs with these options, in this process: exit status, standard output, standard error."""
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", url)
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_an_outbox_of_the_first_release_is_read_then_upgraded_and_finished(store_url, monkeypatch, capsys, free_ports):
    now = time.time()
    legacy = [
        # E-mail sent, the webhook refused: the first release failed the whole handoff.
        dict(
            id="old-failed",
            status="failed",
            attempts=1,
            email_sent_at=now - 50,
            last_error="webhook: PermanentError: webhook answered HTTP 400",
        ),
        # The webhook took it, the e-mail waits for SMTP.
        dict(
            id="old-pending",
            status="pending",
            attempts=2,
            next_attempt_at=now - 1,
            webhook_sent_at=now - 50,
            last_error="email: ConnectionRefusedError: [Errno 111] Connection refused",
        ),
        dict(
            id="old-sent", status="sent", attempts=1, email_sent_at=now - 50, webhook_sent_at=now - 50, sent_at=now - 50
        ),
    ]
    engine = sa.create_engine(store_url)
    with engine.begin() as connection:
        for statement in [OLD_TABLE, *OLD_INDEXES]:
            connection.execute(sa.text(statement))
        for number, row in enumerate(legacy):
            values = dict(
                dict.fromkeys(["next_attempt_at", "last_error", "sent_at", "email_sent_at", "webhook_sent_at"]), **row
            )
            values.update(
                sender_id=f"visitor-{number}",
                created_at=now - 60 + number,
                email="ann@visitors.example.org",
                question="Is it hard?",
                topic="licensing",
                channel="rest",
                route="our careers team",
                transcript="[]",
            )
            connection.execute(
                sa.text(f"INSERT INTO {TABLE} ({', '.join(values)}) VALUES ({', '.join(':' + k for k in values)})"),
                values,
            )
    engine.dispose()

    # Listed as it is, without a write.
    status, out, _ = run(monkeypatch, capsys, store_url)
    assert status == 0 and columns(store_url) == OLD_COLUMNS
    lines = {line.split("[")[-1].rstrip("]"): line for line in out.splitlines() if line.endswith("]")}
    assert (
        "email sent" in lines["old-failed"]
        and "webhook refused: PermanentError: webhook answered HTTP 400" in (lines["old-failed"])
        and "conversation visitor-0" in lines["old-failed"]
    )
    assert "webhook sent" in lines["old-pending"] and "email waiting: ConnectionRefusedError" in lines["old-pending"]
    assert "3 handoffs: 1 pending, 1 sent, 1 failed" in out and "RETRY=<id>" in out

    # The worker upgrades the table, and finishes what the first release left: each destination once.
    inbox, hook = Inbox(), WebhookReceiver()
    smtp = SmtpServer(inbox, free_ports()).start()
    worker = OutboxWorker(
        Outbox(store_url),
        HandoffDelivery(
            smtp=SmtpDestination("127.0.0.1", smtp.port),
            email_to=(TO,),
            email_from=FROM,
            webhook_url=hook.url,
            webhook_secret="k" * 16,
            retry_max_s=1,
        ),
    )
    try:
        assert worker.run_once() == 1
        assert columns(store_url) > OLD_COLUMNS
        assert Outbox(store_url).get("old-pending").status == "sent"
        assert (len(inbox.with_id("old-pending")), len(hook.with_id("old-pending"))) == (1, 0)
        assert Outbox(store_url).get("old-failed").status == "failed"  # not retried by itself
        status, out, _ = run(monkeypatch, capsys, store_url, "--retry", "old-failed")
        assert status == 0 and "old-failed: failed -> pending" in out
        assert worker.run_once() == 1
    finally:
        smtp.stop()
        hook.close()
    row = Outbox(store_url).get("old-failed")
    assert (row.status, row.state("email"), row.state("webhook")) == ("sent", "sent", "sent")
    assert (len(inbox.with_id("old-failed")), len(hook.with_id("old-failed"))) == (0, 1)
    assert not inbox.with_id("old-sent") and not hook.with_id("old-sent")
    if store_url.startswith("postgresql"):
        with Outbox(store_url).engine.connect() as connection:
            assert connection.execute(sa.text("SHOW statement_timeout")).scalar() == f"{STATEMENT_TIMEOUT_S}s"


def test_retry_and_resolve_act_on_one_handoff_or_say_why_not(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    outbox = Outbox(url)
    for name, status in [
        ("sent-1", "pending"),
        ("failed-1", "pending"),
        ("left-1", "abandoned"),
        ("busy-1", "pending"),
    ]:
        outbox.add(
            Handoff(
                id=name,
                sender_id=f"conv-{name}",
                created_at=time.time(),
                status=status,
                email=None if status == "abandoned" else "ann@visitors.example.org",
            )
        )
    outbox.delivered("sent-1", "email")
    outbox.finish("sent-1", "sent", 1)
    outbox.refused("failed-1", "webhook", "PermanentError: webhook answered HTTP 410")
    outbox.finish("failed-1", "failed", 1, "webhook: PermanentError: webhook answered HTTP 410")

    def act(*args):
        return run(monkeypatch, capsys, url, *args)

    status, out, _ = act("--status", "failed")
    [line] = [x for x in out.splitlines() if x.endswith("[failed-1]")]
    assert "conversation conv-failed-1" in line and "webhook refused: PermanentError: webhook answered HTTP 410" in line
    assert act("--retry", "nope")[::2] == (
        2,
        "error: no handoff with id 'nope' (make handoffs lists them with their ids)\n",
    )
    assert act("--retry", "sent-1")[::2] == (2, "error: handoff sent-1 is sent: there is nothing to retry\n")
    assert act("--resolve", "left-1")[::2] == (2, "error: handoff left-1 is abandoned: there is nothing to resolve\n")
    assert [h.id for h in outbox.claim_due()] == ["busy-1"]  # a worker holds its lease now
    status, _, err = act("--resolve", "busy-1")
    assert status == 2 and "busy-1 is being delivered right now" in err
    assert outbox.get("busy-1").status == "pending"

    status, out, _ = act("--resolve", "failed-1")
    assert status == 0 and "failed-1: failed -> resolved" in out
    assert outbox.get("failed-1").status == "resolved"
    assert "failed-1" not in [h.id for h in outbox.claim_due(now=time.time() + 10**6)]
    assert act("--resolve", "failed-1")[:2] == (0, "handoff failed-1 is already resolved\n")
    status, out, _ = act("--status", "resolved")
    assert status == 0 and "resolved" in out and "[failed-1]" in out
    status, out, _ = act("--retry", "failed-1")
    assert status == 0 and "failed-1: resolved -> pending" in out
    row = outbox.get("failed-1")
    assert (row.status, row.attempts, row.state("webhook"), row.webhook_error) == ("pending", 0, "pending", None)
    assert [h.id for h in outbox.claim_due()] == ["failed-1"]  # due now

    with pytest.raises(SystemExit) as exit_:
        act("--retry", "failed-1", "--status", "failed")
    assert exit_.value.code == 2 and "take no listing options" in capsys.readouterr().err


def test_make_handoffs_passes_retry_and_resolve_on(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    Outbox(url).add(Handoff(id="h-1", sender_id="visitor", created_at=time.time(), status="pending"))
    env = {"PATH": "/usr/bin:/bin", "CAREERBOT_TRACKER_URL": url, "HOME": str(tmp_path)}
    for option, changed in [("RESOLVE", "pending -> resolved"), ("RETRY", "resolved -> pending")]:
        # The command make would run (-n: nothing of the set-up is run), then that command.
        recipe = subprocess.run(
            ["make", "-s", "-n", "handoffs", f"{option}=h-1"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        command = recipe[recipe.index(".venv/bin/python -m bot.ops.handoffs") :]
        done = subprocess.run(
            ["sh", "-c", command], cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=120
        )
        assert (done.returncode, done.stderr) == (0, "") and f"h-1: {changed}" in done.stdout


@pytest.fixture
def silent_database():
    """A PostgreSQL URL whose port accepts connections and never answers, as a hung server does."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    accepted, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:  # the timeout: look at `stop` again
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"postgresql://careerbot:pg-s3cret@127.0.0.1:{listener.getsockname()[1]}/careerbot", accepted
    stop.set()
    thread.join(timeout=5)
    for connection in accepted:
        connection.close()
    listener.close()


def test_an_unresponsive_database_gets_a_one_line_error_not_a_hang(silent_database):
    url, accepted = silent_database
    env = {"PATH": "/usr/bin:/bin", "CAREERBOT_TRACKER_URL": url, "RASA_TELEMETRY_ENABLED": "false"}
    commands = [[], ["--retry", "h-1"], ["--resolve", "h-1"]]
    running = [
        subprocess.Popen(
            [sys.executable, "-m", "bot.ops.handoffs", *args],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for args in commands
    ]
    try:
        # The connect timeout is 10 s; a command still waiting after 90 s on a busy machine hangs.
        results = [process.communicate(timeout=90) for process in running]
    finally:
        for process in running:
            if process.poll() is None:
                process.kill()
    assert len(accepted) >= 3  # each one did connect, and then waited for an answer
    for process, (out, err) in zip(running, results, strict=True):
        assert process.returncode == 2 and out == ""
        [line] = err.splitlines()
        assert line.startswith("error: cannot use the handoffs in postgresql://careerbot:***@127.0.0.1:")
        assert "timeout expired" in line and "pg-s3cret" not in line

    # The action server's worker, on the same engine settings, gives up too (and tries again at its next poll).
    outcome = []

    def claim():
        try:
            Outbox(url).claim_due()
        except sa.exc.OperationalError as error:
            outcome.append(str(error.orig))

    thread = threading.Thread(target=claim, daemon=True)
    thread.start()
    thread.join(timeout=90)
    assert not thread.is_alive() and "timeout expired" in outcome[0]
