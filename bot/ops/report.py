"""The deflection report: how many questions the bot answered without a person.

    python -m bot.ops.report [--since 2026-11-01] [--until 2026-12-01] [--channel socketio]
                         [--out build/report.html] [--top 20]

Reads the conversations from the SQL tracker store (CAREERBOT_TRACKER_URL, a
SQLite file by default), prints a summary and writes one self-contained HTML
file with charts. The figures, defined once here and in the README:

- conversations: senders with at least one user message in the period;
- messages: user messages in the period;
- deflection rate: conversations that got at least one topic answer and were
  not handed off, over all conversations;
- fallback rate: user messages answered by the fallback (the fallback action,
  or the fallback response for a question about another job), over all messages;
- handoff rate: conversations with a recorded handoff, over all conversations;
- answers by topic: topic answers (each sets the `topic` slot);
- helpful / not helpful by topic: the "Was this helpful?" answers (`feedback` slot);
- top unanswered messages: the user messages that got the fallback, verbatim, counted.
"""

from __future__ import annotations

import argparse
import html
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Tuple

FALLBACK_ACTION = "action_fallback"
# A turn is unanswered when the bot's reply was one of these (sent by the
# fallback action, or by a topic action refusing a question about another job).
# Replies that answer nothing: a question about another job is refused, and a
# clarifying question is not yet an answer, so neither counts as deflected.
FALLBACK_RESPONSES = {"utter_fallback", "utter_fallback_offer_handoff", "utter_other_career", "utter_clarify"}


@dataclass
class Report:
    conversations: int = 0
    messages: int = 0
    answered_conversations: int = 0
    deflected_conversations: int = 0
    handoff_conversations: int = 0
    fallback_messages: int = 0
    answers_by_topic: Counter = field(default_factory=Counter)
    helpful_by_topic: Dict[str, Counter] = field(default_factory=dict)
    unanswered: Counter = field(default_factory=Counter)
    channels: Counter = field(default_factory=Counter)

    @staticmethod
    def _rate(part: int, whole: int) -> float:
        return part / whole if whole else 0.0

    @property
    def deflection_rate(self) -> float:
        return self._rate(self.deflected_conversations, self.conversations)

    @property
    def fallback_rate(self) -> float:
        return self._rate(self.fallback_messages, self.messages)

    @property
    def handoff_rate(self) -> float:
        return self._rate(self.handoff_conversations, self.conversations)


@dataclass
class Row:
    sender_id: str
    type_name: str
    timestamp: float
    action_name: Optional[str]
    data: Mapping


def load_rows(tracker_url: str) -> List[Row]:
    """Every event in the tracker store, in the order it happened per sender."""
    import sqlalchemy as sa

    engine = sa.create_engine(tracker_url)
    try:
        with engine.connect() as connection:
            if not sa.inspect(connection).has_table("events"):
                return []
            result = connection.execute(
                sa.text("SELECT sender_id, type_name, timestamp, action_name, data FROM events ORDER BY sender_id, id")
            )
            return [Row(r[0], r[1], r[2] or 0.0, r[3], json.loads(r[4] or "{}")) for r in result]
    finally:
        engine.dispose()


def _day_start(day: Optional[date]) -> Optional[float]:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() if day else None


def build_report(
    rows: Iterable[Row], since: Optional[date] = None, until: Optional[date] = None, channel: Optional[str] = None
) -> Report:
    """The figures for user messages from `since` (inclusive) to `until` (exclusive), UTC days."""
    start, end = _day_start(since), _day_start(until)
    by_sender: Dict[str, List[Row]] = {}
    for row in rows:
        if (start is not None and row.timestamp < start) or (end is not None and row.timestamp >= end):
            continue
        by_sender.setdefault(row.sender_id, []).append(row)

    report = Report()
    for events in by_sender.values():
        users = [e for e in events if e.type_name == "user"]
        if not users:
            continue
        conversation_channel = users[0].data.get("input_channel") or "unknown"
        if channel and conversation_channel != channel:
            continue
        report.conversations += 1
        report.messages += len(users)
        report.channels[conversation_channel] += 1
        answered = handed_off = False
        last_user_text: Optional[str] = None
        counted = True  # whether the current user turn was already counted as a fallback
        for event in events:
            if event.type_name == "user":
                last_user_text, counted = event.data.get("text") or "", False
            elif not counted and _is_fallback(event):
                counted = True
                report.fallback_messages += 1
                report.unanswered[last_user_text] += 1
            elif event.type_name == "slot" and event.data.get("value") is not None:
                name, value = event.data.get("name"), event.data.get("value")
                if name == "topic":
                    answered = True
                    report.answers_by_topic[value] += 1
                elif name == "handoff":
                    handed_off = True
                elif name == "feedback" and isinstance(value, dict) and value.get("topic"):
                    votes = report.helpful_by_topic.setdefault(value["topic"], Counter())
                    votes["helpful" if value.get("helpful") else "not helpful"] += 1
        report.answered_conversations += answered
        report.handoff_conversations += handed_off
        report.deflected_conversations += answered and not handed_off
    return report


def _is_fallback(event: Row) -> bool:
    if event.type_name == "action":
        return event.action_name == FALLBACK_ACTION
    if event.type_name == "bot":
        return (event.data.get("metadata") or {}).get("utter_action") in FALLBACK_RESPONSES
    return False


def summary(report: Report, top: int = 10) -> str:
    lines = [
        f"Conversations:   {report.conversations}",
        f"Messages:        {report.messages}",
        f"Deflection rate: {report.deflection_rate:.1%} ({report.deflected_conversations} answered without a person)",
        f"Fallback rate:   {report.fallback_rate:.1%} ({report.fallback_messages} messages not understood)",
        f"Handoff rate:    {report.handoff_rate:.1%} ({report.handoff_conversations} handed to a person)",
        "",
        "Answers by topic:",
        *(f"  {topic:<24} {count}" for topic, count in report.answers_by_topic.most_common()),
        "",
        "Was it helpful? (by topic)",
        *(
            f"  {topic:<24} helpful {votes['helpful']}, not helpful {votes['not helpful']}"
            for topic, votes in sorted(report.helpful_by_topic.items())
        ),
        "",
        f"Top unanswered messages (of {sum(report.unanswered.values())}):",
        *(f"  {count:>3} x {text!r}" for text, count in report.unanswered.most_common(top)),
    ]
    return "\n".join(lines)


def _bars(items: List[Tuple[str, float]], label_width: int = 190, width: int = 560) -> str:
    """A horizontal bar chart as inline SVG."""
    if not items:
        return "<p class='empty'>No data in this period.</p>"
    biggest = max(value for _, value in items) or 1
    bar_space = width - label_width - 50
    rows = []
    for i, (label, value) in enumerate(items):
        y = i * 28
        length = max(1, int(bar_space * value / biggest))
        rows.append(
            f"<text x='{label_width - 8}' y='{y + 18}' text-anchor='end'>{html.escape(label)}</text>"
            f"<rect x='{label_width}' y='{y + 5}' width='{length}' height='18' fill='#0b4f8a'/>"
            f"<text x='{label_width + length + 6}' y='{y + 18}'>{value:g}</text>"
        )
    return (
        f"<svg role='img' viewBox='0 0 {width} {len(items) * 28 + 6}' width='{width}' "
        f"xmlns='http://www.w3.org/2000/svg'>{''.join(rows)}</svg>"
    )


def to_html(report: Report, title: str, top: int = 20) -> str:
    rates = [
        ("Deflection", report.deflection_rate),
        ("Fallback", report.fallback_rate),
        ("Handoff", report.handoff_rate),
    ]
    rate_bars = _bars([(name, round(rate * 100, 1)) for name, rate in rates])
    topics = _bars(list(report.answers_by_topic.most_common()))
    feedback_rows = (
        "".join(
            f"<tr><td>{html.escape(t)}</td><td>{v['helpful']}</td><td>{v['not helpful']}</td></tr>"
            for t, v in sorted(report.helpful_by_topic.items())
        )
        or "<tr><td colspan='3'>No feedback yet.</td></tr>"
    )
    unanswered_rows = (
        "".join(
            f"<tr><td>{count}</td><td>{html.escape(text)}</td></tr>"
            for text, count in report.unanswered.most_common(top)
        )
        or "<tr><td colspan='2'>None.</td></tr>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
body {{ font: 16px/1.5 system-ui, sans-serif; color: #1f1f1f; max-width: 62rem; margin: 0 auto; padding: 24px; }}
.figures {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.figure {{ border: 1px solid #c5ccd6; border-radius: 8px; padding: 12px 16px; min-width: 9rem; }}
.figure b {{ display: block; font-size: 1.6rem; }}
table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #c5ccd6; padding: 4px 12px; text-align: left; }}
svg text {{ font: 13px system-ui, sans-serif; fill: #1f1f1f; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="figures">
<div class="figure">Conversations<b>{report.conversations}</b></div>
<div class="figure">Messages<b>{report.messages}</b></div>
<div class="figure">Deflection rate<b>{report.deflection_rate:.1%}</b></div>
<div class="figure">Fallback rate<b>{report.fallback_rate:.1%}</b></div>
<div class="figure">Handoff rate<b>{report.handoff_rate:.1%}</b></div>
</div>
<h2>Rates (%)</h2>{rate_bars}
<h2>Answers by topic</h2>{topics}
<h2>Was it helpful?</h2>
<table><tr><th>Topic</th><th>Helpful</th><th>Not helpful</th></tr>{feedback_rows}</table>
<h2>Top unanswered messages</h2>
<p>What users asked that the bot could not answer: candidates for new content.</p>
<table><tr><th>Times</th><th>Message</th></tr>{unanswered_rows}</table>
<p><small>Deflection: conversations with at least one answer and no handoff, over all conversations.
Fallback: messages answered by the fallback, over all messages. Handoff: conversations handed to a person,
over all conversations.</small></p>
</body></html>
"""


def main(argv: Optional[List[str]] = None) -> int:
    from bot import PROJECT_DIR
    from bot.settings import Settings, SettingsError

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--since", type=date.fromisoformat, help="first day, YYYY-MM-DD (UTC)")
    parser.add_argument("--until", type=date.fromisoformat, help="day after the last, YYYY-MM-DD (UTC)")
    parser.add_argument("--channel", help="only conversations on this channel (rest, socketio, slack, ...)")
    parser.add_argument("--out", type=Path, default=PROJECT_DIR / "build" / "report.html")
    parser.add_argument("--top", type=int, default=20, help="how many unanswered messages to list")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    report = build_report(load_rows(settings.tracker_url), args.since, args.until, args.channel)
    period = " to ".join(str(d) for d in (args.since, args.until) if d) or "all time"
    title = f"careerbot deflection report ({period}{', ' + args.channel if args.channel else ''})"
    print(title)
    print(summary(report, args.top))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(to_html(report, title, args.top), encoding="utf-8")
    print(f"\nHTML report: {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
