"""make handoffs: the handoffs in the outbox, with their delivery status.

    python -m bot.ops.handoffs [--status pending|sent|failed|abandoned] [--since YYYY-MM-DD] [--csv FILE|-]

One line per handoff: when, status, attempts, topic, channel, the visitor's
address (for the team; never in the logs), the last delivery error and the id.
"""

from __future__ import annotations

import argparse
import csv
import sys
from datetime import date, datetime, timezone
from typing import List, Optional, TextIO

from bot.handoff.outbox import STATUSES, Outbox

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
)


def _time(timestamp: Optional[float]) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") if timestamp else ""


def main(argv: Optional[List[str]] = None) -> int:
    from bot.ops.report import ReportError, _sqlite_file, display_url
    from bot.settings import Settings, SettingsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--status", choices=STATUSES)
    parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--csv", metavar="FILE", help="write CSV to FILE ('-': standard output)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        path = _sqlite_file(settings.tracker_url)
        if path is not None and not path.is_file():
            raise ReportError(f"no conversation store at {path} (CAREERBOT_TRACKER_URL): the file does not exist")
        since = (
            datetime(args.since.year, args.since.month, args.since.day, tzinfo=timezone.utc).timestamp()
            if args.since
            else None
        )
        handoffs = Outbox(settings.tracker_url).list(status=args.status, since=since)
    except (SettingsError, ReportError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - a database that cannot be reached: one line
        print(
            f"error: cannot read the handoffs in {display_url(settings.tracker_url)}: "
            f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}",
            file=sys.stderr,
        )
        return 2
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
        )
        for h in handoffs
    ]
    if args.csv:

        def write(handle: TextIO) -> None:
            writer = csv.writer(handle)
            writer.writerow(COLUMNS)
            writer.writerows(rows)

        if args.csv == "-":
            write(sys.stdout)
            return 0
        try:
            with open(args.csv, "w", newline="", encoding="utf-8") as handle:
                write(handle)
        except OSError as error:
            print(f"error: cannot write {args.csv}: {error.strerror or error}", file=sys.stderr)
            return 2
        print(f"{len(rows)} handoffs written to {args.csv}")
        return 0
    if not rows:
        print("No handoffs" + (f" with status {args.status}" if args.status else "") + ".")
        return 0
    for row in rows:
        created, status, attempts, topic, channel, email, _question, last_error, sent, handoff_id, _ = row
        line = f"{created}  {status:<9} {attempts:>2} tries  {topic or '-':<22} {channel or '-':<9} {email or '-'}"
        if sent:
            line += f"  sent {sent}"
        if last_error and status != "sent":
            line += f"  last error: {last_error}"
        print(f"{line}  [{handoff_id}]")
    counts = {s: sum(1 for r in rows if r[1] == s) for s in STATUSES}
    print(f"\n{len(rows)} handoffs: " + ", ".join(f"{n} {s}" for s, n in counts.items() if n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
