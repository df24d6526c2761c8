"""The SQLite conversation store in trouble: locked by another process, missing at start.

The real Rasa and action servers on loopback ports, a real SQLite file. The
database is made unwritable with the immutable file attribute (`chattr +i`),
which holds even for root, who ignores permission bits.
"""

from __future__ import annotations

import http.client
import json
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import List

import pytest
import requests

from bot.channels import health
from bot.launch.processes import wait_until
from bot.launch.serve import Servers
from tests.support.servers import chattr, immutable_dir, running

# Deadlines under load: two test processes and other work beside it made readiness miss its 30 s.
pytestmark = pytest.mark.serial


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A directory in which no database file can be created until the test allows it."""
    yield from immutable_dir(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def servers(store_dir, tmp_path_factory):
    yield from running(tmp_path_factory.mktemp("servers"), f"sqlite:///{store_dir / 'tracker.db'}")


class KeptConnection:
    """One HTTP/1.1 connection to the REST webhook, kept alive across requests."""

    def __init__(self, servers: Servers) -> None:
        self.connection = http.client.HTTPConnection(servers.settings.rasa_host, servers.settings.rasa_port, timeout=60)
        self.sockets = []

    def post(self, sender: str, message: str):
        self.connection.request(
            "POST",
            "/webhooks/rest/webhook",
            json.dumps({"sender": sender, "message": message}),
            {"Content-Type": "application/json"},
        )
        response = self.connection.getresponse()
        body = json.loads(response.read())
        self.sockets.append(self.connection.sock)
        return response.status, body

    @property
    def never_reconnected(self) -> bool:
        return self.sockets[0] is not None and all(sock is self.sockets[0] for sock in self.sockets)


def user_turns(database: Path, sender: str) -> int:
    with sqlite3.connect(database) as connection:
        return connection.execute(
            "SELECT count(*) FROM events WHERE sender_id = ? AND type_name = 'user'", (sender,)
        ).fetchone()[0]


def test_a_database_missing_at_start_is_used_once_it_can_be(servers, store_dir):
    """Stock Rasa logs "Could not create tables" once and then fails every turn until restarted."""
    sender = f"late-{uuid.uuid4().hex[:8]}"
    kept = KeptConnection(servers)
    status, body = kept.post(sender, "what are the hours?")
    assert status == 503 and body == {"error": "the conversation store is unavailable; please try again shortly"}
    assert requests.get(f"{servers.rasa_url}/", timeout=5).status_code == 200  # still serving

    chattr("-i", store_dir)
    status, body = kept.post(sender, "what are the hours?")
    assert status == 200 and "9am to 5pm" in body[0]["text"]
    status, body = kept.post(sender, "and the pay?")
    assert status == 200
    assert user_turns(store_dir / "tracker.db", sender) == 2
    assert kept.never_reconnected


def test_another_process_holding_the_lock_slows_only_its_turns(servers, store_dir):
    """The finding: a write lock held for 12 s by another process froze every user, GET / included."""
    database = store_dir / "tracker.db"
    sender = f"locked-{uuid.uuid4().hex[:8]}"
    kept = KeptConnection(servers)
    assert kept.post(sender, "what are the hours?")[0] == 200  # also creates the tables if this runs alone

    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # no other connection may write until this ends
    result = {}
    turn = threading.Thread(
        target=lambda: result.update(zip(("status", "body"), kept.post(sender, "what do they do?"), strict=True))
    )
    try:
        turn.start()
        # While the turn waits for the lock, the server's event loop keeps answering.
        slowest = 0.0
        for _ in range(8):
            started = time.monotonic()
            assert requests.get(f"{servers.rasa_url}/", timeout=10).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.25)
        assert turn.is_alive(), "the turn should still be waiting for the database lock"
        assert slowest < 1.0, f"GET / took {slowest:.1f} s while another process held the database lock"
        turn.join(timeout=30)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    # SQLite's busy timeout ran out for that turn: it is refused, not lost silently ...
    assert result["status"] == 503
    # ... and the next turn on the same connection is answered and stored.
    before = user_turns(database, sender)
    status, body = kept.post(sender, "what do they do?")
    assert status == 200 and user_turns(database, sender) == before + 1
    assert kept.never_reconnected


# Another process holds the lock for over twice the store's timeout (CAREERBOT_STORE_TIMEOUT,
# default 5 s), so that a turn that waited twice would show; more clients than the store has
# worker threads (4), so that reads could queue behind the stuck writes.
LOCK_HELD_S = 12.0
CLIENTS = 8
# What a turn may take beyond the store's timeout: NLU, the action server, a busy machine.
# Less than the timeout itself, so that a second wait for the lock fails the test.
MARGIN_S = 3.0


def test_a_stuck_writer_holds_up_no_read_and_no_turn_waits_past_the_store_timeout(servers, store_dir):
    """The finding: under a 12 s lock with 4 clients the store's worker threads all waited on the
    writer, readiness probes timed out although WAL mode lets reads through, and turns waited up
    to 10.2 s against a 5 s lock timeout."""
    chattr("-i", store_dir)  # if this test runs alone
    database = store_dir / "tracker.db"
    assert KeptConnection(servers).post(f"warm-{uuid.uuid4().hex[:8]}", "what are the hours?")[0] == 200
    timeout = servers.settings.store_timeout_s

    turns = []  # (status, seconds) of every turn that began while the lock was held
    probes = []  # (status, seconds, body) of the readiness probes meanwhile
    released = threading.Event()

    def client(number: int) -> None:
        kept = KeptConnection(servers)
        time.sleep(number * 0.4)  # staggered, as real visitors are
        for _ in range(20):  # bounded
            if released.is_set():
                return
            started = time.monotonic()
            status, _body = kept.post(f"lock-{uuid.uuid4().hex[:8]}", "what do they do?")
            turns.append((status, time.monotonic() - started))

    holder = sqlite3.connect(database, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    clients = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
    try:
        for thread in clients:
            thread.start()
        until = time.monotonic() + LOCK_HELD_S
        while time.monotonic() < until:
            started = time.monotonic()
            answer = requests.get(f"{servers.rasa_url}/health/ready", timeout=30)
            probes.append((answer.status_code, time.monotonic() - started, answer.json()))
            time.sleep(0.5)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
        released.set()
        for thread in clients:
            thread.join(timeout=120)
    assert turns and probes
    # Every turn is answered or refused with a 503, never later than the timeout plus a margin.
    assert {status for status, _ in turns} <= {200, 503}, turns
    slowest = max(seconds for _, seconds in turns)
    assert slowest < timeout + MARGIN_S, f"a turn took {slowest:.1f} s with a {timeout:g} s store timeout"
    # Readiness answers within its own check timeout, and its read passes: only the write waits.
    for _, seconds, body in probes:
        assert seconds < health.CHECK_TIMEOUT_S + MARGIN_S, (seconds, body)
        assert body["checks"]["conversation_store"] == {"ok": True}, body
    # Not ready while nothing can be saved: the write check names the problem.
    assert any(status == 503 and not body["checks"]["conversation_store_writes"]["ok"] for status, _, body in probes), (
        probes
    )
    # And once the lock is gone, readiness and turns are back without a restart.
    wait_until(
        lambda: requests.get(f"{servers.rasa_url}/health/ready", timeout=10).status_code == 200,
        30,
        "readiness is 200 again",
    )
    sender = f"after-{uuid.uuid4().hex[:8]}"
    assert KeptConnection(servers).post(sender, "what do they do?")[0] == 200
    assert user_turns(database, sender) == 1


def wal_files(database: Path) -> List[Path]:
    return [database, database.with_name(database.name + "-wal"), database.with_name(database.name + "-shm")]


@pytest.fixture
def read_only_store(tmp_path, rasa_domain):
    """A store with its tables, in WAL mode with its -wal and -shm files, all three immutable."""
    from rasa.core.tracker_store import SQLTrackerStore

    database = tmp_path / "store" / "tracker.db"
    database.parent.mkdir()
    SQLTrackerStore(rasa_domain, host=f"sqlite:///{database}").engine.dispose()  # the tables
    # The last connection to close removes -wal and -shm: a process that ends without closing leaves them.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, sqlite3, sys; c = sqlite3.connect(sys.argv[1]); "
            "c.execute('PRAGMA journal_mode=WAL'); c.execute('SELECT count(*) FROM events'); os._exit(0)",
            str(database),
        ],
        check=True,
    )
    files = wal_files(database)
    assert all(path.exists() for path in files)
    for path in files:
        chattr("+i", path)
    try:
        yield database
    finally:
        for path in files:
            chattr("-i", path)


def test_readiness_is_503_while_the_store_cannot_be_written_and_200_once_it_can(read_only_store, tmp_path):
    """The finding: with the database, -wal and -shm immutable at start, readiness said 200 while
    every turn got a 503 (a read succeeds on a read-only file; only writes fail)."""
    database = read_only_store
    for servers in running(tmp_path / "servers", f"sqlite:///{database}"):
        rasa_pid = servers.rasa.pid
        answer = requests.get(f"{servers.rasa_url}/health/ready", timeout=10)
        assert answer.status_code == 503, answer.text
        checks = answer.json()["checks"]
        assert checks["conversation_store"] == {"ok": True}  # reading works ...
        assert checks["conversation_store_writes"]["ok"] is False  # ... writing does not
        status, _ = KeptConnection(servers).post(f"ro-{uuid.uuid4().hex[:8]}", "what are the hours?")
        assert status == 503  # what readiness said

        for path in wal_files(database):
            chattr("-i", path)
        last = []

        def ready(last: list = last, url: str = servers.rasa_url) -> bool:
            last[:] = [requests.get(f"{url}/health/ready", timeout=10)]
            return last[0].status_code == 200

        try:
            wait_until(ready, 30, "readiness is 200 once the store is writable")
        except TimeoutError as error:
            raise AssertionError(f"{error}; the last answer: {last[0].text}") from None
        sender = f"rw-{uuid.uuid4().hex[:8]}"
        status, body = KeptConnection(servers).post(sender, "what are the hours?")
        assert status == 200 and "9am to 5pm" in body[0]["text"]
        assert user_turns(database, sender) == 1
        assert servers.rasa.pid == rasa_pid  # no restart
