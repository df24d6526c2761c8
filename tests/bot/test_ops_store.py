"""Every ops command (report, report-views, purge, forget) on a store that cannot serve it:
one line on stderr and a non-zero exit, never a traceback, never a wait without end.

The commands run as `make` runs them, as processes; a generous process timeout
turns a hang into a failure (no timing is asserted).
"""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import threading

import pytest

from bot import PROJECT_DIR

COMMANDS = {
    "report": ["bot.ops.report", "--out", "{tmp}/report.html"],
    "report-views": ["bot.ops.report_views"],
    "purge": ["bot.ops.privacy", "purge", "--days", "30"],
    "forget": ["bot.ops.privacy", "forget", "--sender", "someone"],
}
# Far above the commands' own timeouts (bot/ops/store.py): reached only if a command hangs.
HANG_S = 150


def run_all(url, tmp_path):
    """Every command at once (they spend their time waiting), each as its own process."""
    env = {**os.environ, "CAREERBOT_TRACKER_URL": url}
    started = {
        name: subprocess.Popen(
            [sys.executable, "-m", *(a.format(tmp=tmp_path) for a in args)],
            cwd=PROJECT_DIR,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name, args in COMMANDS.items()
    }
    results = {}
    try:
        for name, process in started.items():
            out, err = process.communicate(timeout=HANG_S)
            results[name] = (process.returncode, out, err)
    finally:
        for process in started.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def assert_one_line_errors(results, *expected):
    for name, (code, out, err) in results.items():
        assert code == 2, (name, code, out, err)
        assert out == "" and len(err.strip().splitlines()) == 1 and err.startswith("error: "), (name, err)
        assert "Traceback" not in err
        for part in expected:
            assert part in err, (name, err)


@pytest.fixture
def silent_port():
    """A TCP port on 127.0.0.1 that accepts connections and never says a word."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(32)
    listener.settimeout(0.2)
    held, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except socket.timeout:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1], held
    stop.set()
    thread.join()
    for connection in held:
        connection.close()
    listener.close()


def test_a_database_that_accepts_and_never_answers(silent_port, tmp_path):
    port, held = silent_port
    url = f"postgresql://bot:hunter2@127.0.0.1:{port}/careerbot"
    results = run_all(url, tmp_path)
    assert len(held) >= len(COMMANDS)  # each command did connect, and then got no answer
    assert_one_line_errors(
        results,
        f"the conversation store postgresql://bot:***@127.0.0.1:{port}/careerbot",
        "timeout expired (no answer within 10 s)",
    )
    assert all("hunter2" not in err for _, _, err in results.values())


@pytest.mark.parametrize(
    "kind, message",
    [
        ("empty", "is empty (0 bytes): not a database the bot wrote"),
        ("text", "is not a SQLite database"),
        ("other database", "has no events table: not a store the bot wrote"),
    ],
)
def test_a_file_that_is_not_a_conversation_store(tmp_path, kind, message):
    path = tmp_path / "careerbot.db"
    if kind == "empty":
        path.touch()
    elif kind == "text":
        path.write_text("these are not the conversations you are looking for\n" * 100)
    else:
        with sqlite3.connect(path) as connection:
            connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
        connection.close()
    before = path.read_bytes()
    results = run_all(f"sqlite:///{path}", tmp_path)
    assert_one_line_errors(results, f"{path}", message)
    assert path.read_bytes() == before  # nothing written into it, no table created
    assert not (tmp_path / "report.html").exists()


@pytest.mark.services
def test_postgresql_sessions_end_when_another_holds_a_lock(tmp_path):
    """A real PostgreSQL where another session holds the events table locked: every command gives up."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.devtools.cluster import Postgres
    from bot.ops.store import LOCK_TIMEOUT_S, STATEMENT_TIMEOUT_S, opened

    postgres = Postgres().create()
    engine = sa.create_engine(postgres.url)
    try:
        table = SQLTrackerStore.SQLEvent.__table__
        table.metadata.create_all(engine, tables=[table])
        with opened(postgres.url, write=False, doing="read") as store, store.engine.connect() as connection:
            settings = [
                connection.execute(sa.text(f"SHOW {name}")).scalar() for name in ("statement_timeout", "lock_timeout")
            ]
        assert settings == [f"{STATEMENT_TIMEOUT_S // 60}min", f"{LOCK_TIMEOUT_S}s"]
        with engine.connect() as holder:
            locking = holder.begin()
            holder.execute(sa.text("LOCK TABLE events IN ACCESS EXCLUSIVE MODE"))
            results = run_all(postgres.url, tmp_path)
            locking.rollback()
        assert_one_line_errors(
            results,
            f"the conversation store {postgres.url}",
            f"canceling statement due to lock timeout (lock_timeout {LOCK_TIMEOUT_S} s)",
        )
    finally:
        engine.dispose()
        postgres.close()
