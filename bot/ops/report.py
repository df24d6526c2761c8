"""The deflection report: how many questions the bot answered without a person.

    python -m bot.ops.report [--since 2026-11-01] [--until 2026-12-01] [--channel socketio]
                         [--by day|week] [--out build/report.html] [--csv DIR] [--top 20]

Reads the conversations from the SQL tracker store (CAREERBOT_TRACKER_URL, a
SQLite file by default, never created here), prints a summary and writes one
self-contained HTML file (inline SVG charts, each with a table; no script, no
CDN). The figures, defined once here and in docs/handoff-and-report.md:

- conversation: one session of one visitor (Rasa starts a new session after
  60 minutes without a message) with at least one visitor message; it belongs
  to the day of its first message and to that message's channel. visitors:
  distinct conversation ids among them;
- messages: the visitor's messages in those conversations (button clicks too);
- answer: a topic answer the bot gave, known by its id (a bot message with
  an `answer_id`, sent by the topic actions); a question about another job or
  a clarifying question is not an answer;
- helpful / not helpful / unrated: of the answers, those whose first "Was
  this helpful?" click said yes, said no, or that were never rated. A click
  rates the answer it was shown under, even a late one; a second click on the
  same answer changes nothing. Helpful rate (per topic): helpful over the
  rated answers, shown with how many were rated; unrated answers are not
  counted against a topic, and a topic with none rated has no rate;
- deflected: a conversation with at least one answer, no handoff and no
  answer rated not helpful; answered but rated not helpful: at least one
  answer, no handoff, and an answer rated not helpful. Deflection rate:
  deflected over all conversations;
- fallback rate: visitor messages answered by the fallback (the fallback
  action, or a refusal of another job, or a clarifying question), or told that
  the career's source does not cover their topic with no answer from what it
  does cover ("could not answer"), over all messages;
- handoff rate: conversations with a submitted handoff, over all
  conversations; abandoned handoffs: forms left (cancelled, or the session
  ended) after the visitor gave an address and before the question;
  handoffs delivered / failed / pending (and resolved by hand): the submitted
  handoffs by their status in the outbox table (bot/handoff/outbox.py);
- career: each visitor message is about one career: the one its first answer
  was about, else the one the bot set replying (a topic not covered, another
  job refused), else the page's when the visitor moved to another career's
  page, else the conversation's current one (the last one set or answered
  about), else the page's, else
  "(not recorded)"; each answer counts under its own career (answers stored
  before answers named their career: "(not recorded)"), a handoff under its
  message's. Every figure is split by career over those parts of the
  conversations, so a conversation about two careers counts under each;
- page context: the career of the page a message was sent from
  (metadata.context.career, a career id), "(other page context)" for a
  context that names none, "(no page context)"; figures are split by it the
  same way, and the questions are counted per page and career;
- not covered: the topics a career's source does not cover that the bot said
  so for, counted per career;
- top unanswered messages: the messages that got the fallback, counted;
  not-helpful answers: the answers rated not helpful, with the question before
  them. Both link to the conversation's transcript in the report.

Every record (answer, vote, handoff) has an id and counts once, in the
conversation where it first appears. E-mail addresses, phone numbers and runs
of 6 or more digits are redacted in everything the report writes.
"""

from __future__ import annotations

import argparse
import csv
import html
import json
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from bot.ops.store import StoreError, display_url, opened
from bot.redaction import redact_contacts

ReportError = StoreError

FALLBACK_ACTION = "action_fallback"
# Replies that answer nothing: the fallback, a refused question about another
# job, and a clarifying question (not yet an answer).
FALLBACK_RESPONSES = {
    "utter_fallback",
    "utter_fallback_offer_handoff",
    "utter_fallback_site",
    "utter_fallback_offer_handoff_site",
    "utter_other_career",
    "utter_clarify",
}
# A topic the career's source does not cover: the bot could not answer it for that career.
NOT_COVERED_RESPONSES = {"utter_not_covered", "utter_not_covered_only"}
# What a figure is split by when the store does not say: answers stored before answers named
# their career, messages in conversations that never settled on one; messages without a page.
NOT_RECORDED = "(not recorded)"
NO_PAGE = "(no page context)"
OTHER_PAGE = "(other page context)"  # a context that names no career: plain text, other keys, not an id
CAREER_ID = re.compile(r"[a-z][a-z0-9_]*")  # as bot/knowledge.py names careers: their file names


ANSWER_PREFIX = "utter_answer_"


def legacy_topic(response: str) -> str:
    """utter_answer_licensing_state -> licensing: the longest prefix that names a topic in the domain."""
    from bot import domain_text

    parts = response[len(ANSWER_PREFIX) :].split("_")
    for end in range(len(parts), 0, -1):
        candidate = "_".join(parts[:end])
        if f"utter_topic_ask_{candidate}" in domain_text.responses():
            return candidate
    return "_".join(parts)


@dataclass
class Row:
    id: int
    sender_id: str
    type_name: str
    timestamp: float
    action_name: Optional[str]
    data: Mapping


def load_rows(tracker_url: str) -> List[Row]:
    """Every event in the store, per sender in the order stored. Read-only; never creates a database."""
    import sqlalchemy as sa

    with opened(tracker_url, write=False, doing="read") as store, store.engine.connect() as connection:
        store.require_events(connection)
        result = connection.execute(
            sa.text("SELECT id, sender_id, type_name, timestamp, action_name, data FROM events ORDER BY sender_id, id")
        )
        return [Row(r[0], r[1], r[2], r[3] or 0.0, r[4], store.event_data(r[0], r[5])) for r in result]


load_store = load_rows


@dataclass
class Answer:
    id: str
    topic: str
    at: float
    question: str
    rating: Optional[bool] = None  # the first click: True helpful, False not helpful
    career: str = NOT_RECORDED  # the career it is about (answers stored before careers were recorded: none)
    page: str = NO_PAGE  # the page context of the question it answered


@dataclass
class Turn:
    """One visitor message and what the bot did with it; `career` is known once the turn is read."""

    text: str = ""
    at: float = 0.0
    page: str = NO_PAGE  # the page context's label: the page's career, or that there was none
    page_career: Optional[str] = None
    message: bool = True  # False: records read before the session's first visitor message
    career: str = NOT_RECORDED
    answered: bool = False
    fallback: bool = False
    handoffs: List[str] = field(default_factory=list)
    abandoned: List[str] = field(default_factory=list)
    not_covered: List[str] = field(default_factory=list)  # what the career's source does not cover, as said
    # While reading: the first answer's career, the career the turn set (the `career` slot, or the career a
    # not-covered reply names), the career in force before it (the last one set or answered about).
    answer_career: Optional[str] = None
    slot_career: Optional[str] = None
    career_before: Optional[str] = None
    previous_page_career: Optional[str] = None
    legacy: List[Tuple[int, str, float]] = field(default_factory=list)
    has_answer_id: bool = False


@dataclass
class Conversation:
    sender_id: str
    number: int = 0
    channel: str = "unknown"
    started: float = 0.0  # its first message's time; a conversation is counted from its first message
    messages: int = 0
    fallbacks: List[str] = field(default_factory=list)
    answers: List[Answer] = field(default_factory=list)
    handoffs: List[str] = field(default_factory=list)
    abandoned: List[str] = field(default_factory=list)
    transcript: List[Tuple[str, str, float]] = field(default_factory=list)
    turns: List[Turn] = field(default_factory=list)

    @property
    def answered(self) -> bool:
        return bool(self.answers)

    @property
    def handed_off(self) -> bool:
        return bool(self.handoffs)

    @property
    def rated_unhelpful(self) -> bool:
        return self.answered and not self.handed_off and any(a.rating is False for a in self.answers)

    @property
    def deflected(self) -> bool:
        return self.answered and not self.handed_off and not any(a.rating is False for a in self.answers)

    def split(self, turn_key: Callable[[Turn], str], answer_key: Callable[[Answer], str]) -> Dict[str, "Conversation"]:
        """The conversation cut by career (or page): each part has the messages, records and answers of one key."""
        parts: Dict[str, Conversation] = {}

        def part(key: str) -> Conversation:
            return parts.setdefault(key, Conversation(self.sender_id, self.number, self.channel, self.started))

        for turn in self.turns:
            if not (turn.message or turn.handoffs or turn.abandoned):
                continue
            p = part(turn_key(turn))
            p.messages += turn.message
            if turn.fallback:
                p.fallbacks.append(turn.text)
            p.handoffs.extend(turn.handoffs)
            p.abandoned.extend(turn.abandoned)
        for answer in self.answers:
            part(answer_key(answer)).answers.append(answer)
        return parts


def _career_id(value: Any) -> Optional[str]:
    """A career id as the knowledge names careers (its file name); anything else is no career."""
    return value if isinstance(value, str) and len(value) <= 64 and CAREER_ID.fullmatch(value) else None


def page_of(metadata: Any) -> Tuple[str, Optional[str]]:
    """The page context of a visitor message: its label and the page's career (metadata.context.career)."""
    context = metadata.get("context") if isinstance(metadata, dict) else None
    if context is None or context == "" or context == {}:
        return NO_PAGE, None
    career = _career_id(context.get("career")) if isinstance(context, dict) else None
    return (career, career) if career else (OTHER_PAGE, None)


def _close(turn: Optional[Turn], answers: Dict[str, Answer], conversation: Conversation) -> None:
    """Settles a turn's career, in the order the actions choose one (actions/base.py choose_career):
    the career it was answered about, else the career it set, else a page the visitor moved to, else
    the career in force (the last one set or answered about in the session), else the page's; answers
    stored before ids are counted here, once the turn shows that none of its messages has an id."""
    if turn is None:
        return
    if not turn.has_answer_id:
        for row_id, topic, at in turn.legacy:
            key = f"row-{row_id}"
            if key not in answers:
                answers[key] = Answer(key, topic, at, turn.text, page=turn.page)
                conversation.answers.append(answers[key])
                turn.answered = True
                turn.answer_career = turn.answer_career or NOT_RECORDED
    moved = turn.page_career if turn.page_career != turn.previous_page_career else None
    turn.career = (
        turn.answer_career or turn.slot_career or moved or turn.career_before or turn.page_career or NOT_RECORDED
    )


def _pending(turn: Optional[Turn], conversation: Conversation, in_force: Optional[str]) -> Turn:
    """The turn being read; records before the session's first message get one with no message of its own."""
    if turn is None:
        turn = Turn(message=False, career_before=in_force)
        conversation.turns.append(turn)
    return turn


def conversations_of(rows: Iterable[Row]) -> List[Conversation]:
    """Splits each sender's events into sessions and reads each record once (by its id)."""
    by_sender: Dict[str, List[Row]] = {}
    for row in rows:
        by_sender.setdefault(row.sender_id, []).append(row)
    found: List[Conversation] = []
    for sender, events in by_sender.items():
        seen_records = set()
        votes: Dict[str, bool] = {}
        answers: Dict[str, Answer] = {}
        sessions = [Conversation(sender)]
        counted = True
        last_user = ""
        turn: Optional[Turn] = None
        in_force: Optional[str] = None  # the career slot's value in this session
        previous_page: Optional[str] = None

        for event in events:
            current = sessions[-1]
            if event.type_name == "session_started":
                _close(turn, answers, current)
                turn, in_force, previous_page = None, None, None
                if current.messages or current.answers or current.handoffs or current.abandoned:
                    sessions.append(Conversation(sender))
                continue
            if event.type_name == "user":
                _close(turn, answers, current)
                if not current.messages:
                    current.started = event.timestamp
                    current.channel = event.data.get("input_channel") or "unknown"
                current.messages += 1
                last_user, counted = event.data.get("text") or "", False
                current.transcript.append(("visitor", last_user, event.timestamp))
                page, page_career = page_of(event.data.get("metadata"))
                turn = Turn(
                    last_user,
                    event.timestamp,
                    page,
                    page_career,
                    career_before=in_force,
                    previous_page_career=previous_page,
                )
                current.turns.append(turn)
                previous_page = page_career
            elif event.type_name == "bot":
                meta = event.data.get("metadata")
                meta = meta if isinstance(meta, dict) else {}
                current.transcript.append(("bot", event.data.get("text") or "", event.timestamp))
                turn = _pending(turn, current, in_force)
                response = str(meta.get("utter_action") or "")
                if response in NOT_COVERED_RESPONSES:
                    turn.not_covered.append(str(meta.get("topics") or "?"))
                    said = _career_id(meta.get("career"))
                    if said:  # the career the gap is in, where the reply names it
                        turn.slot_career = in_force = said
                if not counted and (
                    response in FALLBACK_RESPONSES or (response in NOT_COVERED_RESPONSES and not turn.answered)
                ):
                    # A topic the career's source does not cover is a question the bot could not answer,
                    # unless the same message got an answer from what the source does cover.
                    counted = True
                    current.fallbacks.append(last_user)
                    turn.fallback = True
                answer_id, topic = meta.get("answer_id"), meta.get("topic")
                if answer_id:
                    turn.has_answer_id = True
                elif response.startswith(ANSWER_PREFIX):
                    # Stored before answers had ids: the bot message still shows the answer
                    # (never re-written at a session start), keyed by its row; counted when the
                    # turn is closed, since today a turn's further answer messages carry no id.
                    turn.legacy.append((event.id, legacy_topic(response), event.timestamp))
                if answer_id and answer_id not in answers:
                    career = _career_id(meta.get("career")) or NOT_RECORDED
                    answers[answer_id] = Answer(
                        answer_id, topic or "unknown", event.timestamp, last_user, career=career, page=turn.page
                    )
                    current.answers.append(answers[answer_id])
                    turn.answered = True
                    turn.answer_career = turn.answer_career or career
                    # A conversation on the default career sets no `career` slot: its answers say where it is.
                    in_force = career if career != NOT_RECORDED else None
            elif event.type_name == "action" and event.action_name == FALLBACK_ACTION:
                pass  # its reply (a FALLBACK_RESPONSES message) is what counts the turn
            elif event.type_name == "slot":
                name, value = event.data.get("name"), event.data.get("value")
                if name == "handoff" and isinstance(value, dict):
                    key = value.get("id") or json.dumps(value, sort_keys=True)  # records before ids: by content
                    if key not in seen_records:
                        seen_records.add(key)
                        turn = _pending(turn, current, in_force)
                        abandoned = value.get("status") == "abandoned"
                        (current.abandoned if abandoned else current.handoffs).append(key)
                        (turn.abandoned if abandoned else turn.handoffs).append(key)
                elif name == "feedback" and isinstance(value, dict) and value.get("answer_id"):
                    votes.setdefault(value["answer_id"], bool(value.get("helpful")))
                elif name == "career":
                    in_force = _career_id(value)
                    if turn is not None and in_force:
                        turn.slot_career = in_force
        _close(turn, answers, sessions[-1])
        for answer_id, helpful in votes.items():
            if answer_id in answers:
                answers[answer_id].rating = helpful
        found.extend(s for s in sessions if s.messages)
    found.sort(key=lambda c: (c.started, c.sender_id))
    for number, conversation in enumerate(found, 1):
        conversation.number = number
    return found


@dataclass
class Figures:
    conversations: int = 0
    visitors: int = 0
    messages: int = 0
    answers: int = 0
    answered_conversations: int = 0
    deflected_conversations: int = 0
    rated_unhelpful_conversations: int = 0
    handoff_conversations: int = 0
    handoffs: int = 0
    abandoned_handoffs: int = 0
    fallback_messages: int = 0

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

    @classmethod
    def of(cls, conversations: Sequence[Conversation]) -> "Figures":
        f = cls()
        f.conversations = len(conversations)
        f.visitors = len({c.sender_id for c in conversations})
        for c in conversations:
            f.messages += c.messages
            f.answers += len(c.answers)
            f.answered_conversations += c.answered
            f.deflected_conversations += c.deflected
            f.rated_unhelpful_conversations += c.rated_unhelpful
            f.handoff_conversations += c.handed_off
            f.handoffs += len(c.handoffs)
            f.abandoned_handoffs += len(c.abandoned)
            f.fallback_messages += len(c.fallbacks)
        return f


@dataclass
class TopicFigures:
    topic: str
    label: str
    answers: int = 0
    helpful: int = 0
    not_helpful: int = 0
    unrated: int = 0

    @property
    def rated(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def helpful_rate(self) -> Optional[float]:
        """Helpful over the rated answers; None when none was rated (an unrated answer is no verdict)."""
        return self.helpful / self.rated if self.rated else None


@dataclass
class PageCareer:
    """The visitor messages sent from one page context that the bot took to be about one career."""

    page: str
    career: str
    questions: int = 0
    answered: int = 0
    not_answered: int = 0


@dataclass
class Report:
    totals: Figures
    conversations: List[Conversation]
    trend: List[Tuple[str, Figures]]
    channels: List[Tuple[str, Figures]]
    topics: List[TopicFigures]
    unanswered: List[Tuple[str, int, List[int]]]
    not_helpful: List[Tuple[str, str, int]]
    known_channels: List[str]
    granularity: str
    # The submitted handoffs by their delivery in the outbox (sent, failed, pending, resolved); main() reads it.
    deliveries: Dict[str, int] = field(default_factory=dict)
    # The figures per career and per page context (the conversations cut by the career or page of each
    # message and answer), the topics per career, the questions per page and career they were answered
    # about, and what the careers' sources did not cover.
    careers: List[Tuple[str, Figures]] = field(default_factory=list)
    pages: List[Tuple[str, Figures]] = field(default_factory=list)
    career_topics: List[Tuple[str, TopicFigures]] = field(default_factory=list)
    page_careers: List[PageCareer] = field(default_factory=list)
    not_covered: List[Tuple[str, str, int, List[int]]] = field(default_factory=list)


def _day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, timezone.utc).date()


def _day_start(day: Optional[date]) -> Optional[float]:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() if day else None


def _bucket(day: date, granularity: str) -> date:
    return day - timedelta(days=day.weekday()) if granularity == "week" else day


def build_report(
    rows: Iterable[Row],
    since: Optional[date] = None,
    until: Optional[date] = None,
    channel: Optional[str] = None,
    granularity: Optional[str] = None,
    label: Optional[Callable[[str], str]] = None,
    top: int = 20,
) -> Report:
    """The figures for conversations that started from `since` (inclusive) to `until` (exclusive), UTC days."""
    from bot import domain_text

    label = label or domain_text.topic_label
    everything = conversations_of(rows)
    known = sorted({c.channel for c in everything})
    start, end = _day_start(since), _day_start(until)
    chosen = [
        c
        for c in everything
        if (start is None or c.started >= start)
        and (end is None or c.started < end)
        and (channel is None or c.channel == channel)
    ]
    if granularity is None:
        days = {_day(c.started) for c in chosen}
        span = (max(days) - min(days)).days + 1 if days else 0
        granularity = "day" if span <= 31 else "week"
    buckets: Dict[date, List[Conversation]] = {}
    if chosen:
        first = _bucket(since or _day(chosen[0].started), granularity)
        last = _bucket((until - timedelta(days=1)) if until else _day(chosen[-1].started), granularity)
        step = timedelta(days=7 if granularity == "week" else 1)
        day = first
        while day <= last:  # every period, the empty ones too: a gap is a finding
            buckets[day] = []
            day += step
        for c in chosen:
            buckets.setdefault(_bucket(_day(c.started), granularity), []).append(c)
    trend = [(d.isoformat(), Figures.of(cs)) for d, cs in sorted(buckets.items())]
    by_channel: Dict[str, List[Conversation]] = {}
    for c in chosen:
        by_channel.setdefault(c.channel, []).append(c)
    channels = sorted(
        ((name, Figures.of(cs)) for name, cs in by_channel.items()), key=lambda item: (-item[1].conversations, item[0])
    )
    topics: Dict[str, TopicFigures] = {}
    career_topics: Dict[Tuple[str, str], TopicFigures] = {}
    unanswered: Dict[str, Tuple[int, List[int]]] = {}
    not_helpful: List[Tuple[str, str, int]] = []
    for c in chosen:
        for a in c.answers:
            t = topics.setdefault(a.topic, TopicFigures(a.topic, label(a.topic)))
            ct = career_topics.setdefault((a.career, a.topic), TopicFigures(a.topic, t.label))
            for tf in (t, ct):
                tf.answers += 1
                if a.rating is True:
                    tf.helpful += 1
                elif a.rating is False:
                    tf.not_helpful += 1
                else:
                    tf.unrated += 1
            if a.rating is False:
                not_helpful.append((t.label, redact_contacts(a.question), c.number))
        for text in c.fallbacks:
            key = redact_contacts(text)
            count, refs = unanswered.get(key, (0, []))
            unanswered[key] = (count + 1, refs + ([c.number] if c.number not in refs else []))
    top_unanswered = sorted(((t, n, refs) for t, (n, refs) in unanswered.items()), key=lambda x: (-x[1], x[0]))
    careers = _split_figures(chosen, lambda t: t.career, lambda a: a.career)
    pages = _split_figures(chosen, lambda t: t.page, lambda a: a.page)
    page_careers: Dict[Tuple[str, str], PageCareer] = {}
    gaps: Dict[Tuple[str, str], Tuple[int, List[int]]] = {}
    for c in chosen:
        for turn in c.turns:
            for said in turn.not_covered:
                count, refs = gaps.get((turn.career, said), (0, []))
                gaps[(turn.career, said)] = (count + 1, refs + ([c.number] if c.number not in refs else []))
            if not turn.message:
                continue
            pc = page_careers.setdefault((turn.page, turn.career), PageCareer(turn.page, turn.career))
            pc.questions += 1
            pc.answered += turn.answered
            pc.not_answered += turn.fallback
    return Report(
        totals=Figures.of(chosen),
        conversations=chosen,
        trend=trend,
        channels=channels,
        topics=sorted(topics.values(), key=lambda t: (-t.answers, t.label)),
        unanswered=top_unanswered[:top],
        not_helpful=not_helpful,
        known_channels=known,
        granularity=granularity,
        careers=careers,
        pages=pages,
        career_topics=[
            (career, tf)
            for (career, _), tf in sorted(career_topics.items(), key=lambda i: (i[0][0], -i[1].answers, i[1].label))
        ],
        page_careers=sorted(page_careers.values(), key=lambda p: (-p.questions, p.page, p.career)),
        not_covered=sorted(
            ((career, said, n, refs) for (career, said), (n, refs) in gaps.items()), key=lambda g: (-g[2], g[0], g[1])
        ),
    )


def _split_figures(
    conversations: Sequence[Conversation], turn_key: Callable[[Turn], str], answer_key: Callable[[Answer], str]
) -> List[Tuple[str, Figures]]:
    """Figures per key, each over the parts of the conversations with that key: a conversation about two
    careers counts once under each, with the messages, answers and handoffs of each."""
    parts: Dict[str, List[Conversation]] = {}
    for c in conversations:
        for key, part in c.split(turn_key, answer_key).items():
            parts.setdefault(key, []).append(part)
    return sorted(((k, Figures.of(ps)) for k, ps in parts.items()), key=lambda i: (-i[1].conversations, i[0]))


def _pct(rate: float) -> str:
    return f"{rate * 100:.1f} %"


def summary(report: Report, top: int = 10) -> str:
    t = report.totals
    if not t.conversations:
        return "No conversations in this period."
    lines = [
        f"Conversations:   {t.conversations} ({t.visitors} visitors)",
        f"Messages:        {t.messages}",
        f"Answers:         {t.answers}",
        f"Deflection rate: {_pct(t.deflection_rate)} ({t.deflected_conversations} answered without a person)",
        f"Rated unhelpful: {t.rated_unhelpful_conversations} answered, but an answer was rated not helpful",
        f"Fallback rate:   {_pct(t.fallback_rate)} ({t.fallback_messages} messages it could not answer)",
        f"Handoff rate:    {_pct(t.handoff_rate)} ({t.handoff_conversations} handed to a person; "
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
            f"  {name:<16} {f.conversations:>5} conversations, deflection {_pct(f.deflection_rate)}, "
            f"fallback {_pct(f.fallback_rate)}, handoff {_pct(f.handoff_rate)}"
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
            + (f"{_pct(tf.helpful_rate)} of {tf.rated} rated" if tf.helpful_rate is not None else "none rated")
            for tf in report.topics
        ),
        "",
        f"Top unanswered messages (of {t.fallback_messages}):",
        *(f"  {count:>3} x {text!r}" for text, count, _ in report.unanswered[:top]),
        *(
            ["", "Not covered by the career's source:"]
            + [f"  {count:>3} x {career}: {said}" for career, said, count, _ in report.not_covered[:top]]
            if report.not_covered
            else []
        ),
    ]
    return "\n".join(lines)


def _split_line(f: Figures) -> str:
    return (
        f"{f.conversations:>5} conversations, {f.messages} messages, {f.answers} answers, "
        f"deflection {_pct(f.deflection_rate)}, could not answer {f.fallback_messages}, "
        f"handed off {f.handoff_conversations}"
    )


# ---- HTML -----------------------------------------------------------------


def _e(text: Any) -> str:
    return html.escape(str(text), quote=True)


def rate_chart(
    title: str,
    rows: Sequence[Tuple[str, Optional[float]]],
    chart_id: str,
    of: Optional[Sequence[int]] = None,
    table: Optional[str] = None,
) -> str:
    """Horizontal bars on a fixed 0-100 % axis (SVG scaled to the page), with the same numbers as a table.

    A rate of None (nothing to rate) has no bar and says so; `of` is each rate's
    denominator, written after it ("50.0 % of 2"), since a rate over 2 is not one over 200.
    `table` replaces the chart's own table when the page has a fuller one with the same figures.
    """

    def value(i: int, rate: Optional[float]) -> str:
        if rate is None:
            return "none rated"
        return f"{rate * 100:.1f} %" + (f" of {of[i]}" if of is not None else "")

    # Room for the longest label at about 7.5 px a character, within reason.
    label_w = int(max(90, min(210, 7.5 * max((len(name) for name, _ in rows), default=0) + 12)))
    bar_w, row_h = 200, 26
    tail = int(7.5 * max((len(value(i, rate)) for i, (_, rate) in enumerate(rows)), default=6) + 12)
    width, height = label_w + bar_w + max(60, tail), len(rows) * row_h + 30
    parts = []
    for tick in (0, 25, 50, 75, 100):
        x = label_w + bar_w * tick / 100
        parts.append(
            f"<line x1='{x}' y1='0' x2='{x}' y2='{height - 20}' stroke='#c5ccd6'/>"
            f"<text x='{x}' y='{height - 6}' text-anchor='middle'>{tick} %</text>"
        )
    for i, (name, rate) in enumerate(rows):
        y = i * row_h
        parts.append(f"<text x='{label_w - 8}' y='{y + 18}' text-anchor='end'>{_e(name)}</text>")
        if rate is not None:
            parts.append(f"<rect x='{label_w}' y='{y + 5}' width='{bar_w * rate:.1f}' height='16' fill='#0b4f8a'/>")
        parts.append(f"<text x='{label_w + bar_w * (rate or 0) + 6:.1f}' y='{y + 18}'>{_e(value(i, rate))}</text>")
    if table is None:
        table = _table(["", title], [(name, "–" if rate is None else _pct(rate)) for name, rate in rows])
    return (
        f"<figure><svg id='{chart_id}' class='chart' role='img' aria-labelledby='{chart_id}-t' "
        f"viewBox='0 0 {width} {height}' preserveAspectRatio='xMinYMin meet'>"
        f"<title id='{chart_id}-t'>{_e(title)}, 0 to 100 %</title>{''.join(parts)}</svg>"
        f"<figcaption>{_e(title)} (the table below has the same figures)</figcaption></figure>{table}"
    )


def _volume_ticks(top: int) -> List[int]:
    """0 to at least `top` in at most 5 steps of 1, 2 or 5 times a power of ten."""
    step = 1
    while -(-top // step) > 4:
        for factor in (2, 5 / 2, 2):  # 1 -> 2 -> 5 -> 10 -> 20 ...
            step = int(step * factor)
            if -(-top // step) <= 4:
                break
    return list(range(0, max(step, -(-top // step) * step) + 1, step))


def volume_chart(report: Report) -> str:
    """Conversations per period as bars on a 0-based axis, and as a table: how much each rate stands on."""
    rows = report.trend
    if not rows:
        return ""
    # top: room for the count above the tallest bar.
    width, height, left, bottom, top = 380, 200, 46, 30, 20
    plot_w, plot_h = width - left - 12, height - bottom - top
    ticks = _volume_ticks(max(f.conversations for _, f in rows))
    step = plot_w / len(rows)
    parts = []
    for tick in ticks:
        y = top + plot_h * (1 - tick / ticks[-1])
        parts.append(
            f"<line x1='{left}' y1='{y:.1f}' x2='{left + plot_w}' y2='{y:.1f}' stroke='#c5ccd6'/>"
            f"<text x='{left - 6}' y='{y + 4:.1f}' text-anchor='end'>{tick}</text>"
        )
    every = max(1, -(-len(rows) // 4))
    for i, (name, f) in enumerate(rows):
        x, h = left + i * step, plot_h * f.conversations / ticks[-1]
        parts.append(
            f"<rect x='{x + step * 0.15:.1f}' y='{top + plot_h - h:.1f}' width='{step * 0.7:.1f}' "
            f"height='{h:.1f}' fill='#0b4f8a'/>"
        )
        if len(rows) <= 14 and f.conversations:
            parts.append(
                f"<text x='{x + step / 2:.1f}' y='{top + plot_h - h - 4:.1f}' text-anchor='middle'>"
                f"{f.conversations}</text>"
            )
        if i % every == 0:
            parts.append(f"<text x='{x + step / 2:.1f}' y='{height - 8}' text-anchor='middle'>{_e(name[5:])}</text>")
    table = _table(
        [report.granularity.capitalize() + " from", "Conversations", "Visitors", "Messages"],
        [(name, f.conversations, f.visitors, f.messages) for name, f in rows],
    )
    title = f"Conversations per {report.granularity}"
    return (
        f"<figure><svg id='volume' class='chart' role='img' aria-labelledby='volume-t' "
        f"viewBox='0 0 {width} {height}' preserveAspectRatio='xMinYMin meet'>"
        f"<title id='volume-t'>{_e(title)}, 0 to {ticks[-1]}</title>{''.join(parts)}</svg>"
        f"<figcaption>{_e(title)}: how many conversations each period's rates below are over "
        f"(the table below has the same figures)</figcaption></figure>{table}"
    )


def trend_chart(report: Report) -> str:
    """Deflection, fallback and handoff rate per period, as lines on a 0-100 % axis, and as a table."""
    rows = report.trend
    if not rows:
        return ""
    width, height, left, bottom = 380, 220, 46, 40
    plot_w, plot_h = width - left - 28, height - bottom - 10
    step = plot_w / max(1, len(rows) - 1)
    series = (
        ("Deflection", "deflection_rate", "#0b4f8a", ""),
        ("Fallback", "fallback_rate", "#b3261e", "6 3"),
        ("Handoff", "handoff_rate", "#1e7b34", "2 3"),
    )
    parts = []
    for tick in (0, 25, 50, 75, 100):
        y = 10 + plot_h * (1 - tick / 100)
        parts.append(
            f"<line x1='{left}' y1='{y}' x2='{left + plot_w}' y2='{y}' stroke='#c5ccd6'/>"
            f"<text x='{left - 6}' y='{y + 4}' text-anchor='end'>{tick} %</text>"
        )
    every = max(1, -(-len(rows) // 4))
    for i, (name, _) in enumerate(rows):
        if i % every == 0:
            parts.append(
                f"<text x='{left + i * step:.1f}' y='{height - 16}' text-anchor='middle'>{_e(name[5:])}</text>"
            )
    for legend, (name, attr, colour, dash) in enumerate(series):
        # A period without conversations has no rate: the line breaks there instead of dropping to 0.
        runs: List[List[str]] = [[]]
        for i, (_, f) in enumerate(rows):
            if not f.conversations:
                runs.append([])
                continue
            x, y = left + i * step, 10 + plot_h * (1 - getattr(f, attr))
            runs[-1].append(f"{x:.1f},{y:.1f}")
            parts.append(f"<circle cx='{x:.1f}' cy='{y:.1f}' r='3' fill='{colour}'/>")
        for run in runs:
            if len(run) > 1:
                parts.append(
                    f"<polyline points='{' '.join(run)}' fill='none' stroke='{colour}' "
                    f"stroke-width='2.5' stroke-dasharray='{dash}'/>"
                )
        parts.append(f"<text x='{left + legend * 105}' y='{height - 1}' fill='{colour}'>— {name}</text>")
    table = _table(
        [report.granularity.capitalize() + " from", "Conversations", "Deflection", "Fallback", "Handoff"],
        [
            (
                name,
                f.conversations,
                *(
                    (_pct(f.deflection_rate), _pct(f.fallback_rate), _pct(f.handoff_rate))
                    if f.conversations
                    else ("–", "–", "–")
                ),
            )
            for name, f in rows
        ],
    )
    title = f"Rates per {report.granularity}"
    return (
        f"<figure><svg id='trend' class='chart' role='img' aria-labelledby='trend-t' "
        f"viewBox='0 0 {width} {height}' preserveAspectRatio='xMinYMin meet'>"
        f"<title id='trend-t'>{_e(title)}: deflection, fallback and handoff rate, 0 to 100 %</title>"
        f"{''.join(parts)}</svg><figcaption>{_e(title)} (the table below has the same figures)</figcaption>"
        f"</figure>{table}"
    )


def _table(headers: Sequence[str], rows: Iterable[Sequence[Any]], raw_columns: Sequence[int] = ()) -> str:
    head = "".join(f"<th scope='col'>{_e(h)}</th>" for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{cell if i in raw_columns else _e(cell)}</td>" for i, cell in enumerate(row)) + "</tr>"
        for row in rows
    )
    # A table wider than a phone scrolls inside its box, which the keyboard can reach.
    return f"<div class='table' tabindex='0'><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>"


def _links(numbers: Iterable[int]) -> str:
    return ", ".join(f"<a href='#c{n}'>#{n}</a>" for n in numbers)


def to_html(report: Report, meta: Mapping[str, str]) -> str:
    t = report.totals
    header = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in meta.items())
    if not t.conversations:
        body = "<p class='empty'><strong>No conversations in this period.</strong></p>"
    else:
        figures = "".join(
            f"<div class='figure'>{_e(name)}<b>{_e(value)}</b></div>"
            for name, value in (
                ("Conversations", t.conversations),
                ("Visitors", t.visitors),
                ("Messages", t.messages),
                ("Answers", t.answers),
                ("Deflection rate", _pct(t.deflection_rate)),
                ("Fallback rate", _pct(t.fallback_rate)),
                ("Handoff rate", _pct(t.handoff_rate)),
                ("Answered, rated not helpful", t.rated_unhelpful_conversations),
                ("Handoffs abandoned", t.abandoned_handoffs),
                *(
                    [
                        (
                            "Handoffs delivered / failed / pending",
                            "{sent} / {failed} / {pending}".format(**report.deliveries),
                        )
                    ]
                    if report.deliveries
                    else []
                ),
            )
        )
        rates = rate_chart(
            "Rates",
            [("Deflection", t.deflection_rate), ("Fallback", t.fallback_rate), ("Handoff", t.handoff_rate)],
            "rates",
        )
        channel_rows = [
            (name, f.conversations, f.messages, _pct(f.deflection_rate), _pct(f.fallback_rate), _pct(f.handoff_rate))
            for name, f in report.channels
        ]
        channel_chart = rate_chart(
            "Deflection rate by channel", [(name, f.deflection_rate) for name, f in report.channels], "channels"
        )
        topic_table = _table(
            ["Topic", "Answers", "Rated", "Helpful", "Not helpful", "Unrated", "Helpful, of the rated"],
            [
                (
                    tf.label,
                    tf.answers,
                    tf.rated,
                    tf.helpful,
                    tf.not_helpful,
                    tf.unrated,
                    "–" if tf.helpful_rate is None else _pct(tf.helpful_rate),
                )
                for tf in report.topics
            ],
        )
        helpful_chart = rate_chart(
            "Rated helpful, of the answers rated, by topic",
            [(tf.label, tf.helpful_rate) for tf in report.topics],
            "helpful",
            of=[tf.rated for tf in report.topics],
            table=topic_table,
        )
        split_headers = ["Conversations", "Messages", "Answers", "Deflection", "Could not answer", "Handed off"]

        def split_row(name: str, f: Figures) -> Tuple[Any, ...]:
            return (
                name,
                f.conversations,
                f.messages,
                f.answers,
                _pct(f.deflection_rate),
                f"{f.fallback_messages} ({_pct(f.fallback_rate)})",
                f"{f.handoff_conversations} ({_pct(f.handoff_rate)})",
            )

        careers = _table(["Career", *split_headers], [split_row(name, f) for name, f in report.careers])
        pages = _table(["Page context", *split_headers], [split_row(name, f) for name, f in report.pages])
        page_careers = _table(
            ["Page context", "About the career", "Questions", "Answered", "Could not answer"],
            [(pc.page, pc.career, pc.questions, pc.answered, pc.not_answered) for pc in report.page_careers],
        )
        career_topics = _table(
            ["Career", "Topic", "Answers", "Rated", "Helpful", "Not helpful", "Unrated", "Helpful, of the rated"],
            [
                (
                    career,
                    tf.label,
                    tf.answers,
                    tf.rated,
                    tf.helpful,
                    tf.not_helpful,
                    tf.unrated,
                    "–" if tf.helpful_rate is None else _pct(tf.helpful_rate),
                )
                for career, tf in report.career_topics
            ],
        )
        not_covered = (
            _table(
                ["Times", "Career", "Not covered", "Conversations"],
                [(n, _e(career), _e(said), _links(refs)) for career, said, n, refs in report.not_covered],
                raw_columns=(1, 2, 3),
            )
            if report.not_covered
            else "<p>None.</p>"
        )
        unanswered = _table(
            ["Times", "Message", "Conversations"],
            [(n, _e(text), _links(refs)) for text, n, refs in report.unanswered],
            raw_columns=(1, 2),
        )
        not_helpful = _table(
            ["Topic", "Question", "Conversation"],
            [(_e(label), _e(q), _links([n])) for label, q, n in report.not_helpful],
            raw_columns=(0, 1, 2),
        )
        referenced = sorted(
            {n for _, _, refs in report.unanswered for n in refs}
            | {n for _, _, n in report.not_helpful}
            | {n for *_, refs in report.not_covered for n in refs}
        )
        by_number = {c.number: c for c in report.conversations}
        transcripts = "".join(_transcript(by_number[n]) for n in referenced)
        body = f"""<div class="figures">{figures}</div>
<h2>Rates</h2>{rates}
<h2>Over time</h2>{volume_chart(report)}{trend_chart(report)}
<h2>By channel</h2>{channel_chart}
{_table(["Channel", "Conversations", "Messages", "Deflection", "Fallback", "Handoff"], channel_rows)}
<h2>Answers by topic</h2>{helpful_chart}
<h2>By career</h2>
<p>Each message counts under the career the bot answered it about (else the career the conversation was on,
or its page's); each answer under its own career. A conversation about two careers counts under each.</p>
{careers}
<h3>Answers by career and topic</h3>{career_topics}
<h2>By page context</h2>
<p>The career of the page each message was sent from (the widget's <code>data-context</code>).</p>
{pages}
<h3>Questions by page context and the career they were about</h3>{page_careers}
<h2>Top unanswered messages</h2>
<p>What visitors asked that the bot could not answer: candidates for new content.</p>{unanswered}
<h3>Not covered by the career's source</h3>{not_covered}
<h2>Answers rated not helpful</h2>{not_helpful}
<h2>Transcripts</h2>{transcripts or "<p>None referenced.</p>"}"""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>careerbot deflection report</title>
<style>
*, *::before, *::after {{ box-sizing: border-box; }}
body {{ font: 16px/1.5 system-ui, sans-serif; color: #1f1f1f; max-width: 62rem; margin: 0 auto; padding: 16px;
        overflow-wrap: break-word; }}
dl.meta {{ display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: 2px 12px; margin: 0 0 16px; }}
dl.meta dt {{ font-weight: 600; }}
/* A store URL is one long word: break-word does not shrink a grid cell, anywhere does. */
dl.meta dd {{ margin: 0; overflow-wrap: anywhere; }}
.figures {{ display: grid; grid-template-columns: repeat(auto-fill, minmax(9rem, 1fr)); gap: 8px; }}
.figure {{ border: 1px solid #c5ccd6; border-radius: 8px; padding: 8px 12px; }}
.figure b {{ display: block; font-size: 1.4rem; }}
figure {{ margin: 8px 0; }} svg.chart {{ width: 100%; max-width: 40rem; height: auto; display: block; }}
svg text {{ font: 13px system-ui, sans-serif; fill: #1f1f1f; }}
.table {{ max-width: 100%; overflow-x: auto; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; }}
td, th {{ border-bottom: 1px solid #c5ccd6; padding: 4px 8px; text-align: left; vertical-align: top; }}
.transcript {{ border-left: 3px solid #c5ccd6; padding-left: 12px; margin: 12px 0; }}
.transcript p {{ margin: 4px 0; white-space: pre-wrap; }}
a {{ color: #0b4f8a; }}
@media (max-width: 480px) {{ body {{ padding: 12px; }} td, th {{ padding: 4px; font-size: 14px; }} }}
</style></head><body>
<h1>careerbot deflection report</h1>
<dl class="meta">{header}</dl>
{body}
</body></html>
"""


def _transcript(c: Conversation) -> str:
    from bot.logs import sender_tag

    lines = "".join(
        f"<p><b>{'Visitor' if who == 'visitor' else 'Bot'}</b> "
        f"<small>{datetime.fromtimestamp(at, timezone.utc):%Y-%m-%d %H:%M}</small>: {_e(redact_contacts(text))}</p>"
        for who, text, at in c.transcript
    )
    return (
        f"<section class='transcript' id='c{c.number}'><h3>Conversation #{c.number} "
        f"({_e(c.channel)}, visitor {_e(sender_tag(c.sender_id))})</h3>{lines}</section>"
    )


# ---- CSV ------------------------------------------------------------------


def write_csv(report: Report, directory: Path) -> List[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    figure_names = [
        "conversations",
        "visitors",
        "messages",
        "answers",
        "deflected_conversations",
        "rated_unhelpful_conversations",
        "handoff_conversations",
        "abandoned_handoffs",
        "fallback_messages",
    ]

    def figure_row(f: Figures) -> List[Any]:
        return [getattr(f, n) for n in figure_names] + [
            round(f.deflection_rate, 4),
            round(f.fallback_rate, 4),
            round(f.handoff_rate, 4),
        ]

    rate_names = ["deflection_rate", "fallback_rate", "handoff_rate"]
    tables = {
        "totals.csv": ([*figure_names, *rate_names], [figure_row(report.totals)]),
        "trend.csv": (
            ["period_start", *figure_names, *rate_names],
            [[name, *figure_row(f)] for name, f in report.trend],
        ),
        "channels.csv": (
            ["channel", *figure_names, *rate_names],
            [[name, *figure_row(f)] for name, f in report.channels],
        ),
        # Per career and topic: a single-career store has one row per topic, as before.
        "topics.csv": (
            ["career", "topic", "label", "answers", "helpful", "not_helpful", "unrated", "rated", "helpful_rate"],
            [
                [career, t.topic, t.label, t.answers, t.helpful, t.not_helpful, t.unrated, t.rated]
                + ["" if t.helpful_rate is None else round(t.helpful_rate, 4)]
                for career, t in report.career_topics
            ],
        ),
        "careers.csv": (
            ["career", *figure_names, *rate_names],
            [[name, *figure_row(f)] for name, f in report.careers],
        ),
        "pages.csv": (
            ["page_context", *figure_names, *rate_names],
            [[name, *figure_row(f)] for name, f in report.pages],
        ),
        "page_careers.csv": (
            ["page_context", "career", "questions", "answered", "could_not_answer"],
            [[pc.page, pc.career, pc.questions, pc.answered, pc.not_answered] for pc in report.page_careers],
        ),
        "not_covered.csv": (
            ["career", "not_covered", "times", "conversations"],
            [[career, said, n, " ".join(map(str, refs))] for career, said, n, refs in report.not_covered],
        ),
        "unanswered.csv": (
            ["message", "times", "conversations"],
            [[text, n, " ".join(map(str, refs))] for text, n, refs in report.unanswered],
        ),
        "not_helpful.csv": (["topic", "question", "conversation"], [list(r) for r in report.not_helpful]),
    }
    written = []
    for name, (header, rows) in tables.items():
        path = directory / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)
        written.append(path)
    return written


# ---- command line ---------------------------------------------------------


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
    args = parser.parse_args(argv)

    def fail(message: str) -> int:
        print(f"error: {message}", file=sys.stderr)
        return 2

    if args.since and args.until and args.until <= args.since:
        return fail(f"--until {args.until} is not after --since {args.since} (UNTIL is the day after the last)")
    try:
        settings = Settings.from_env()
        rows = load_rows(settings.tracker_url)
    except (SettingsError, ReportError) as error:
        return fail(str(error))
    report = build_report(rows, args.since, args.until, args.channel, args.by, top=args.top)
    try:
        from bot.ops.handoffs import delivery_counts

        report.deliveries = delivery_counts(settings.tracker_url, (h for c in report.conversations for h in c.handoffs))
    except ReportError as error:
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
        args.out.write_text(to_html(report, meta), encoding="utf-8")
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
