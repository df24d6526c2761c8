"""Deleting visitors' data: retention (make purge) and deletion requests (make forget).

    python -m bot.ops.privacy purge --days N     # conversations and handoffs older than N days
    python -m bot.ops.privacy forget --sender ID # everything of one conversation id

purge deletes every session (a visitor's conversation from one session start
to the next) whose last event is older than N days, and every handoff of the
outbox created more than N days ago, whatever its status: a failed or pending
handoff holds the visitor's address, question and transcript as a sent one
does. forget deletes all the events of one conversation id and all its
handoffs. Both print what they deleted, and neither creates a database that
is not there.

On SQLite, deleted rows would otherwise stay readable in the files: in the
free space of the database file, and in the write-ahead log, which keeps the
pages as the bot wrote them. So the deleting connection overwrites what it
deletes (``secure_delete``), VACUUM then rewrites the file (removing copies
that earlier updates left in free space), and a TRUNCATE checkpoint copies the
log into the file and empties it. A running bot may hold the log in use for a
moment: the checkpoint is retried for --wal-wait seconds. If the log (or the
VACUUM) still could not be done, the command says so on one line and exits 1:
the rows are deleted, but a copy may remain until it is run again. Other
errors: one line, exit 2. PostgreSQL keeps deleted rows in its files until
VACUUM reuses the space (see docs/privacy.md).
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import sqlalchemy as sa

from bot.handoff.outbox import TABLE, handoffs
from bot.ops.store import Store, StoreError, opened

# SQLite: how long to retry emptying the write-ahead log while readers keep it in use.
WAL_WAIT_S = 30.0
# Deleted in batches: a statement can bind only so many values (SQLite's limit is 999 in older builds).
BATCH = 500


@dataclass
class Deleted:
    events: int = 0
    conversations: int = 0
    visitors: int = 0
    handoffs: Dict[str, int] = field(default_factory=dict)  # by status
    # SQLite: why a copy of the deleted data may still be in the files (then exit 1).
    problem: Optional[str] = None

    @property
    def handoff_count(self) -> int:
        return sum(self.handoffs.values())

    def handoff_summary(self) -> str:
        detail = ", ".join(f"{n} {status}" for status, n in sorted(self.handoffs.items()))
        return f"{self.handoff_count} handoffs" + (f" ({detail})" if detail else "")


def _delete_handoffs(connection: sa.engine.Connection, where: sa.sql.ColumnElement) -> Dict[str, int]:
    if not sa.inspect(connection).has_table(TABLE):
        return {}
    counts = {
        status: int(n)
        for status, n in connection.execute(
            sa.select(handoffs.c.status, sa.func.count()).where(where).group_by(handoffs.c.status)
        )
    }
    connection.execute(handoffs.delete().where(where))
    return counts


def scrub_sqlite(store: Store, wal_wait: float) -> Optional[str]:
    """VACUUM, then empty the write-ahead log; returns why either could not be done, or None."""
    problems = []
    raw = store.engine.raw_connection()
    try:
        cursor = raw.cursor()
        try:
            cursor.execute("VACUUM")
        except sqlite3.Error as error:
            problems.append(
                f"VACUUM of {store.path} failed ({error}), so copies of deleted rows may remain in its free space"
            )
        deadline = time.monotonic() + wal_wait
        while True:
            remaining = deadline - time.monotonic()
            # Short waits, retried: readers that come and go (a running bot) let it through between reads.
            cursor.execute(f"PRAGMA busy_timeout={int(max(0.0, min(1.0, remaining)) * 1000)}")
            busy, log, _ = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            if not busy and log <= 0:  # 0: the log is empty; -1: the store is not in WAL mode
                break
            if remaining <= 0:
                problems.append(
                    f"the write-ahead log {store.path}-wal still holds the deleted data: the bot or another "
                    f"reader kept it in use for {wal_wait:g} s"
                )
                break
            time.sleep(0.1)
    finally:
        raw.close()
    if not problems:
        return None
    return "; ".join(problems) + "; run the command again (ideally with the bot idle or stopped)"


def _delete_events(connection: sa.engine.Connection, ids: List[int]) -> None:
    for start in range(0, len(ids), BATCH):
        connection.execute(
            sa.text("DELETE FROM events WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids[start : start + BATCH]},
        )


def purge(tracker_url: str, days: float, now: Optional[float] = None, wal_wait: float = WAL_WAIT_S) -> Deleted:
    cutoff = (time.time() if now is None else now) - days * 86400
    deleted = Deleted()
    with opened(tracker_url, write=True, doing="change") as store:
        with store.engine.begin() as connection:
            store.require_events(connection)
            rows = connection.execute(
                sa.text("SELECT id, sender_id, type_name, timestamp FROM events ORDER BY sender_id, id")
            ).all()
            sessions: Dict[Tuple[str, int], List[Tuple[int, str, float]]] = {}
            number: Dict[str, int] = {}
            for row_id, sender, type_name, timestamp in rows:
                if type_name == "session_started":
                    number[sender] = number.get(sender, 0) + 1
                sessions.setdefault((sender, number.get(sender, 0)), []).append((row_id, type_name, timestamp or 0))

            def last_said(events: List[Tuple[int, str, float]]) -> float:
                # A session ends with the next one's start marker (and an abandoned-form
                # record), written when the visitor returns: its age is its last message's.
                said = [t for _, kind, t in events if kind in ("user", "bot")]
                return max(said or [t for _, _, t in events])

            old = [key for key, events in sessions.items() if last_said(events) < cutoff]
            ids = [row_id for key in old for row_id, _, _ in sessions[key]]
            _delete_events(connection, ids)
            remaining = {sender for sender, _ in set(sessions) - set(old)}
            talked = [key for key in old if any(kind == "user" for _, kind, _ in sessions[key])]
            deleted.events, deleted.conversations = len(ids), len(talked)
            deleted.visitors = len({sender for sender, _ in old} - remaining)
            # Every status: retention is about what a row holds, not how its delivery went.
            deleted.handoffs = _delete_handoffs(connection, handoffs.c.created_at < cutoff)
        if store.is_sqlite:
            deleted.problem = scrub_sqlite(store, wal_wait)
    return deleted


def forget(tracker_url: str, sender_id: str, wal_wait: float = WAL_WAIT_S) -> Deleted:
    deleted = Deleted()
    with opened(tracker_url, write=True, doing="change") as store:
        with store.engine.begin() as connection:
            store.require_events(connection)
            deleted.events = connection.execute(
                sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender_id}
            ).rowcount
            deleted.handoffs = _delete_handoffs(connection, handoffs.c.sender_id == sender_id)
        if store.is_sqlite:
            # Also when nothing was deleted now: a second run finishes what a busy log stopped.
            deleted.problem = scrub_sqlite(store, wal_wait)
    return deleted


def main(argv: Optional[List[str]] = None) -> int:
    from bot.settings import Settings, SettingsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    purge_args = commands.add_parser("purge", help="delete conversations and handoffs older than N days")
    purge_args.add_argument("--days", type=float, required=True)
    forget_args = commands.add_parser("forget", help="delete everything of one conversation id")
    forget_args.add_argument("--sender", required=True)
    for sub in (purge_args, forget_args):
        sub.add_argument(
            "--wal-wait",
            type=float,
            default=WAL_WAIT_S,
            metavar="SECONDS",
            help=f"SQLite: how long to retry emptying the write-ahead log while the bot reads (default {WAL_WAIT_S:g})",
        )
    args = parser.parse_args(argv)
    if args.command == "purge" and not args.days >= 0:
        print("error: --days must be 0 or more", file=sys.stderr)
        return 2
    if args.command == "forget" and not args.sender.strip():
        print("error: --sender must name a conversation id", file=sys.stderr)
        return 2
    if not args.wal_wait >= 0:
        print("error: --wal-wait must be 0 or more", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        store = settings.tracker_url_display
        if args.command == "purge":
            done = purge(settings.tracker_url, args.days, wal_wait=args.wal_wait)
            print(
                f"{store}: deleted {done.conversations} conversations older than {args.days:g} days "
                f"({done.events} events; {done.visitors} visitors left no data) and {done.handoff_summary()}"
            )
        else:
            done = forget(settings.tracker_url, args.sender, wal_wait=args.wal_wait)
            print(
                f"{store}: deleted {done.events} events and {done.handoff_summary()} of conversation "
                f"{args.sender!r}" + ("" if done.events or done.handoff_count else " (nothing was stored)")
            )
    except (SettingsError, StoreError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if done.problem:
        print(f"warning: {done.problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
