"""make handoffs: the handoffs in the outbox, with their delivery per destination; retry or resolve one.

    python -m bot.ops.handoffs [--status pending|sent|failed|resolved|abandoned] [--since YYYY-MM-DD] [--csv FILE|-]
    python -m bot.ops.handoffs --retry ID      # a failed one again (its refused destinations too), now
    python -m bot.ops.handoffs --resolve ID    # one dealt with by hand: no more attempts

One line per handoff: when, status, attempts, topic, channel, the visitor's
address (for the team; never in the logs), the conversation id, how each
destination went (sent, refused, or its last error) and the handoff's id.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from datetime import date, datetime, timezone
from typing import Dict, Iterable, List, Optional, TextIO

from bot.handoff.outbox import DESTINATIONS, STATUSES, Handoff, Outbox
from bot.ops.store import StoreError, display_url, sqlite_file

COLUMNS = (
    "created_utc",
    "status",
    "attempts",
    "topic",
    "channel",
    "email",
    "question",
    "last_error",
    "sent_utc",
    "id",
    "conversation_id",
    "email_status",
    "email_error",
    "webhook_status",
    "webhook_error",
    "resolved_utc",
)


class CommandError(Exception):
    """One line for the operator, and exit status 2."""


def _time(timestamp: Optional[float]) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if timestamp else ""


def _outcome(handoff: Handoff, destination: str) -> str:
    """ "sent", "refused" (for good), "waiting" (to be tried again) or "" (not tried, or not configured)."""
    state = handoff.state(destination)
    if state == "sent":
        return "sent"
    if state == "failed":
        return "refused"
    return "waiting" if handoff.error(destination) else ""


def _destinations(handoff: Handoff) -> Dict[str, str]:
    """How each destination that was tried went: "sent <time>", "refused: <error>" or "waiting: <error>"."""
    found: Dict[str, str] = {}
    for destination in DESTINATIONS:
        outcome = _outcome(handoff, destination)
        if outcome == "sent":
            found[destination] = f"sent {_time(getattr(handoff, f'{destination}_sent_at'))}"
        elif outcome:
            found[destination] = f"{outcome}: {handoff.error(destination) or 'for good'}"
    return found


def delivery_counts(tracker_url: str, handoff_ids: Iterable[str]) -> Dict[str, int]:
    """How far these handoffs got, by the outbox's status (ids no longer in the outbox are left out)."""
    import sqlalchemy as sa

    try:
        statuses = Outbox(tracker_url).statuses()
    except sa.exc.SQLAlchemyError as error:
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        raise StoreError(f"cannot read the handoff outbox in {display_url(tracker_url)}: {cause}") from None
    counts = dict.fromkeys(("sent", "failed", "pending", "resolved"), 0)
    for handoff_id in handoff_ids:
        status = statuses.get(handoff_id)
        if status in counts:
            counts[status] += 1
    return counts


def _check_store(tracker_url: str) -> None:
    path = sqlite_file(tracker_url)
    if path is not None and not path.is_file():
        raise StoreError(f"no conversation store at {path} (CAREERBOT_TRACKER_URL): the file does not exist")


def act(outbox: Outbox, action: str, handoff_id: str) -> str:
    """Retries or resolves one handoff; what happened, or CommandError saying why not."""
    handoff = outbox.get(handoff_id)
    if handoff is None:
        raise CommandError(f"no handoff with id {handoff_id!r} (make handoffs lists them with their ids)")
    before = handoff.status
    if action == "retry":
        if before in ("sent", "abandoned"):
            raise CommandError(f"handoff {handoff_id} is {before}: there is nothing to retry")
        done = outbox.retry(handoff_id)
        outcome = (
            f"handoff {handoff_id}: {before} -> pending; within CAREERBOT_HANDOFF_POLL_S the action server's "
            "worker sends it to each destination that has not accepted it yet (make handoffs shows how it went)"
        )
    else:
        if before == "resolved":
            return f"handoff {handoff_id} is already resolved"
        if before in ("sent", "abandoned"):
            raise CommandError(f"handoff {handoff_id} is {before}: there is nothing to resolve")
        done = outbox.resolve(handoff_id)
        outcome = f"handoff {handoff_id}: {before} -> resolved; it will not be tried again"
    if not done:
        # Its status is one we act on: a worker holds its lease, or it changed since we read it.
        now = outbox.get(handoff_id)
        raise CommandError(
            f"handoff {handoff_id} is being delivered right now (until {_time(now.lease_until if now else None)} "
            "UTC at the latest); run the command again after that"
        )
    return outcome


def main(argv: Optional[List[str]] = None) -> int:
    from bot.settings import Settings, SettingsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--status", choices=STATUSES)
    parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-': standard output)")
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--retry", metavar="ID", help="try a failed (or pending, or resolved) handoff again, now")
    action.add_argument("--resolve", metavar="ID", help="close a pending or failed handoff dealt with by hand")
    args = parser.parse_args(argv)
    if (args.retry or args.resolve) and (args.status or args.since or args.csv):
        parser.error("--retry and --resolve take no listing options (--status, --since, --csv)")
    url = ""
    try:
        url = Settings.from_env().tracker_url
        _check_store(url)
        outbox = Outbox(url)
        if args.retry or args.resolve:
            print(act(outbox, "retry" if args.retry else "resolve", (args.retry or args.resolve).strip()))
            return 0
        since = (
            datetime(args.since.year, args.since.month, args.since.day, tzinfo=timezone.utc).timestamp()
            if args.since
            else None
        )
        handoffs = outbox.list(status=args.status, since=since)
    except (SettingsError, StoreError, CommandError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # a database that cannot be reached, or times out: one line
        cause = str(getattr(error, "orig", None) or error).strip().splitlines()
        print(
            f"error: cannot use the handoffs in {display_url(url)}: {type(error).__name__}: "
            f"{cause[0] if cause else 'no details'}",
            file=sys.stderr,
        )
        return 2
    return show(handoffs, args.status, args.csv)


def show(handoffs: List[Handoff], status: Optional[str], csv_file: Optional[str]) -> int:
    if csv_file:
        rows = [
            (
                _time(h.created_at),
                h.status,
                h.attempts,
                h.topic or "",
                h.channel or "",
                h.email or "",
                h.question or "",
                h.last_error or "",
                _time(h.sent_at),
                h.id,
                h.sender_id,
                *(value for d in DESTINATIONS for value in (_outcome(h, d), h.error(d) or "")),
                _time(h.resolved_at),
            )
            for h in handoffs
        ]

        def write(handle: TextIO) -> None:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(rows)

        if csv_file == "-":
            try:
                write(sys.stdout)
                sys.stdout.flush()
            except BrokenPipeError:  # `| head`: the reader has what it wanted
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 0
        try:
            with open(csv_file, "w", newline="", encoding="utf-8") as handle:
                write(handle)
        except OSError as error:
            print(f"error: cannot write {csv_file}: {error.strerror or error}", file=sys.stderr)
            return 2
        print(f"{len(rows)} handoffs written to {csv_file}")
        return 0
    if not handoffs:
        print("No handoffs" + (f" with status {status}" if status else "") + ".")
        return 0
    for h in handoffs:
        line = (
            f"{_time(h.created_at)}  {h.status:<9} {h.attempts:>2} tries  {h.topic or '-':<22} "
            f"{h.channel or '-':<9} {h.email or '-'}  conversation {h.sender_id}"
        )
        parts = [f"{d} {how}" for d, how in _destinations(h).items()]
        if h.status == "pending" and h.next_attempt_at:
            parts.append(f"next try {_time(h.next_attempt_at)}")
        if h.status == "resolved":
            parts.append(f"resolved {_time(h.resolved_at)}")
        if parts:
            line += "  " + "; ".join(parts)
        print(f"{line}  [{h.id}]")
    counts = {s: sum(1 for h in handoffs if h.status == s) for s in STATUSES}
    print(f"\n{len(handoffs)} handoffs: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    if counts["failed"]:
        print(
            "A failed handoff was refused for good by a destination (its error says why). Once that is "
            "fixed: make handoffs RETRY=<id>; or, once someone has answered the visitor another way: "
            "make handoffs RESOLVE=<id>."
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
