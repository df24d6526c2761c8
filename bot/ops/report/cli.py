"""The deflection report: how many questions the bot answered without a person.

    python -m bot.ops.report [--since 2026-11-01] [--until 2026-12-01] [--channel socketio]
                         [--by day|week] [--out build/report.html] [--csv DIR] [--top 20] [--review DIR]

Reads the conversations from the SQL tracker store (CAREERBOT_TRACKER_URL, a
SQLite file by default, never created here), prints a summary and writes one
self-contained HTML file (bot/ops/report/html_page.py) and, with --csv, every
table as CSV. The figures are defined in bot/ops/report/__init__.py. The unanswered list says how many
messages wait in the review inbox (bot/ops/review, `make review`).
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import List, Optional, Tuple

from bot.ops.report.csv_files import write_csv
from bot.ops.report.figures import Figures, Report, build_report, inbox_note, pct
from bot.ops.report.html_page import write_html
from bot.ops.report.loading import InboxCounter, StoredEvents
from bot.ops.store import StoreError, display_url


def summary(report: Report, top: int = 10) -> str:
    t = report.totals
    if not t.conversations:
        return "No conversations in this period."
    lines = [
        f"Conversations:   {t.conversations} ({t.visitors} visitors)",
        f"Messages:        {t.messages}",
        f"Answers:         {t.answers}",
        f"Deflection rate: {pct(t.deflection_rate)} ({t.deflected_conversations} answered without a person)",
        f"Rated unhelpful: {t.rated_unhelpful_conversations} answered, but an answer was rated not helpful",
        f"Fallback rate:   {pct(t.fallback_rate)} ({t.fallback_messages} messages it could not answer)",
        f"Handoff rate:    {pct(t.handoff_rate)} ({t.handoff_conversations} handed to a person; "
        f"{t.abandoned_handoffs} abandoned)",
        *(
            [
                f"Handoffs:        {counts['sent']} delivered, {counts['failed']} failed, {counts['pending']} pending, "
                f"{counts['resolved']} resolved by hand"
            ]
            if (counts := report.deliveries)
            else []
        ),
        "",
        "By channel:",
        *(
            f"  {name:<16} {f.conversations:>5} conversations, deflection {pct(f.deflection_rate)}, "
            f"fallback {pct(f.fallback_rate)}, handoff {pct(f.handoff_rate)}"
            for name, f in report.channels
        ),
        "",
        "By career (a conversation about two careers counts under each):",
        *(f"  {name:<30} {_split_line(f)}" for name, f in report.careers),
        "",
        "By page context (the career of the page the message was sent from):",
        *(f"  {name:<30} {_split_line(f)}" for name, f in report.pages),
        *(
            ["", "Questions by page context and the career they were about:"]
            + [
                f"  {pc.page} -> {pc.career}: {pc.questions} questions, {pc.answered} answered, {pc.not_answered} not"
                for pc in report.page_careers
            ]
        ),
        "",
        "Answers by topic (helpful / not helpful / unrated; helpful rate of the rated answers):",
        *(
            f"  {tf.label:<28} {tf.answers:>4}  ({tf.helpful} / {tf.not_helpful} / {tf.unrated})  "
            + (f"{pct(tf.helpful_rate)} of {tf.rated} rated" if tf.helpful_rate is not None else "none rated")
            for tf in report.topics
        ),
        "",
        f"Top unanswered messages (of {t.fallback_messages}):",
        *(f"  {count:>3} x {text!r}" for text, count, _ in report.unanswered[:top]),
        inbox_note(report),
        *(
            ["", "Not covered by the career's source:"]
            + [f"  {count:>3} x {career}: {said}" for career, said, count, _ in report.not_covered[:top]]
            if report.not_covered
            else []
        ),
    ]
    return "\n".join(lines)


def inbox_counter(review_dir: Path) -> Tuple[Optional[InboxCounter], str]:
    """What counts the review inbox's waiting messages in the report's pass over the store, or why there is
    none: a report without them is still a report."""
    from bot.ops.review.decisions import ReviewError
    from bot.ops.review.inbox import waiting_counter

    try:
        return waiting_counter(review_dir), ""
    except (ReviewError, OSError) as error:
        return None, str(error)


def _split_line(f: Figures) -> str:
    return (
        f"{f.conversations:>5} conversations, {f.messages} messages, {f.answers} answers, "
        f"deflection {pct(f.deflection_rate)}, could not answer {f.fallback_messages}, "
        f"handed off {f.handoff_conversations}"
    )


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r}: expected a date, YYYY-MM-DD") from None


def main(argv: Optional[List[str]] = None) -> int:
    from bot import PROJECT_DIR
    from bot.settings import Settings, SettingsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--until", type=_date, help="day after the last, YYYY-MM-DD (UTC)")
    parser.add_argument("--channel", help="only conversations on this channel (rest, socketio, slack, ...)")
    parser.add_argument(
        "--by", choices=("day", "week"), help="trend per day or per week (default: day up to 31 days, else week)"
    )
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "report.html")
    parser.add_argument("--csv", type=Path, metavar="DIR", help="also write every table as CSV into DIR")
    parser.add_argument("--top", type=int, default=20, help="how many unanswered messages to list")
    parser.add_argument(
        "--review",
        type=Path,
        metavar="DIR",
        default=PROJECT_DIR / "review",
        help="the review inbox's decisions, to count what waits in it (default: review/)",
    )
    args = parser.parse_args(argv)

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    if args.since and args.until and args.until <= args.since:
        return fail(f"--until {args.until} is not after --since {args.since} (UNTIL is the day after the last)")
    try:
        settings = Settings.from_env()
        counter, inbox_problem = inbox_counter(args.review)
        report = build_report(
            StoredEvents(settings.tracker_url),
            args.since,
            args.until,
            args.channel,
            args.by,
            top=args.top,
            inbox=counter,
        )
        report.inbox_problem = inbox_problem
        from bot.ops.handoffs import delivery_counts

        report.deliveries = delivery_counts(settings.tracker_url, report.handoffs)
    except (SettingsError, StoreError) as error:
        return fail(str(error))
    if args.channel and args.channel not in report.known_channels:
        known = ", ".join(report.known_channels) or "none yet"
        return fail(f"unknown channel {args.channel!r}; channels in the store: {known}")
    period = (
        f"{args.since or 'the first conversation'} to "
        f"{(args.until - timedelta(days=1)) if args.until else 'the last conversation'} (UTC, inclusive)"
    )
    meta = {
        "Generated": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "Store": display_url(settings.tracker_url),
        "Period": period,
        "Filters": f"channel {args.channel}" if args.channel else "none (all channels)",
        "Trend": f"per {report.granularity}",
    }
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", encoding="utf-8") as out:
            write_html(report, meta, out)
        csv_files = write_csv(report, args.csv) if args.csv else []
    except OSError as error:
        return fail(f"cannot write {error.filename or args.out}: {error.strerror or error}")
    for key, value in meta.items():
        print(f"{key}: {value}")
    print()
    print(summary(report, args.top))
    print(f"\nHTML report: {args.out}")
    for path in csv_files:
        print(f"CSV: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
