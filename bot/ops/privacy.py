"""Deleting visitors' data: retention (make purge) and deletion requests (make forget).

    python -m bot.ops.privacy purge --days N     # conversations and finished handoffs older than N days
    python -m bot.ops.privacy forget --sender ID # everything of one conversation id

purge deletes every session (a visitor's conversation from one session start
to the next) whose last event is older than N days, and the handoffs of the
outbox older than N days that are finished (sent or abandoned); pending and
failed handoffs stay until they are dealt with. forget deletes all the events
of one conversation id and all its handoffs, whatever their status. Both
print what they deleted, and neither creates a database that is not there.
"""

from __future__ import annotations

import argparse
import sys
import time
from typing import Dict, List, Optional, Tuple

import sqlalchemy as sa

from bot.handoff.outbox import TABLE, handoffs

# Deleted in batches, so that a large purge does not hold SQLite's write lock for long.
BATCH = 500


def _engine(tracker_url: str) -> sa.engine.Engine:
    from bot.ops.report import ReportError, _sqlite_file

    path = _sqlite_file(tracker_url)
    if path is not None and not path.is_file():
        raise ReportError(f"no conversation store at {path} (CAREERBOT_TRACKER_URL): the file does not exist")
    if path is not None:
        return sa.create_engine(tracker_url, connect_args={"timeout": 30})
    return sa.create_engine(tracker_url)


def _delete_events(connection: sa.engine.Connection, ids: List[int]) -> None:
    for start in range(0, len(ids), BATCH):
        connection.execute(
            sa.text("DELETE FROM events WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)),
            {"ids": ids[start : start + BATCH]},
        )


def purge(tracker_url: str, days: float, now: Optional[float] = None) -> Dict[str, int]:
    cutoff = (time.time() if now is None else now) - days * 86400
    engine = _engine(tracker_url)
    deleted = {"events": 0, "conversations": 0, "visitors": 0, "handoffs": 0}
    try:
        with engine.begin() as connection:
            inspector = sa.inspect(connection)
            if inspector.has_table("events"):
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
                deleted.update(
                    events=len(ids), conversations=len(talked), visitors=len({sender for sender, _ in old} - remaining)
                )
            if inspector.has_table(TABLE):
                deleted["handoffs"] = connection.execute(
                    handoffs.delete().where(
                        handoffs.c.created_at < cutoff, handoffs.c.status.in_(("sent", "abandoned"))
                    )
                ).rowcount
    finally:
        engine.dispose()
    return deleted


def forget(tracker_url: str, sender_id: str) -> Dict[str, int]:
    engine = _engine(tracker_url)
    deleted = {"events": 0, "handoffs": 0}
    try:
        with engine.begin() as connection:
            inspector = sa.inspect(connection)
            if inspector.has_table("events"):
                deleted["events"] = connection.execute(
                    sa.text("DELETE FROM events WHERE sender_id = :s"), {"s": sender_id}
                ).rowcount
            if inspector.has_table(TABLE):
                deleted["handoffs"] = connection.execute(
                    handoffs.delete().where(handoffs.c.sender_id == sender_id)
                ).rowcount
    finally:
        engine.dispose()
    return deleted


def main(argv: Optional[List[str]] = None) -> int:
    from bot.ops.report import ReportError, display_url
    from bot.settings import Settings, SettingsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    purge_args = commands.add_parser("purge", help="delete conversations and finished handoffs older than N days")
    purge_args.add_argument("--days", type=float, required=True)
    forget_args = commands.add_parser("forget", help="delete everything of one conversation id")
    forget_args.add_argument("--sender", required=True)
    args = parser.parse_args(argv)
    if args.command == "purge" and args.days < 0:
        print("error: --days must be 0 or more", file=sys.stderr)
        return 2
    if args.command == "forget" and not args.sender.strip():
        print("error: --sender must name a conversation id", file=sys.stderr)
        return 2
    try:
        settings = Settings.from_env()
        store = display_url(settings.tracker_url)
        if args.command == "purge":
            done = purge(settings.tracker_url, args.days)
            print(
                f"{store}: deleted {done['conversations']} conversations older than {args.days:g} days "
                f"({done['events']} events; {done['visitors']} visitors left no data) and "
                f"{done['handoffs']} sent or abandoned handoffs"
            )
        else:
            done = forget(settings.tracker_url, args.sender)
            print(
                f"{store}: deleted {done['events']} events and {done['handoffs']} handoffs of conversation "
                f"{args.sender!r}" + ("" if done["events"] or done["handoffs"] else " (nothing was stored)")
            )
    except (SettingsError, ReportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except sa.exc.SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        print(
            f"error: cannot change the conversation store {display_url(settings.tracker_url)}: {cause}", file=sys.stderr
        )
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
