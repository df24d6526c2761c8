"""The report's figures, counted as the conversations stream by: one sender's conversations in memory at
a time, and of the others only what the output needs (the counts, the texts the bot could not answer,
a start time per conversation to number them, and where to read back the ones the report links to).
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from array import array
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import Any, Callable, Dict, Hashable, List, Optional, Set, Tuple

from bot.ops.report.loading import (
    Conversation,
    EventSource,
    InboxCounter,
    Spool,
    StoredEvents,
    readings,
    redacted,
)


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

    def add(self, c: Conversation) -> None:
        """Counts one conversation (or one career's part of it); its visitor is counted per sender."""
        self.conversations += 1
        self.messages += c.messages
        self.answers += len(c.answers)
        self.answered_conversations += c.answered
        self.deflected_conversations += c.deflected
        self.rated_unhelpful_conversations += c.rated_unhelpful
        self.handoff_conversations += c.handed_off
        self.handoffs += len(c.handoffs)
        self.abandoned_handoffs += len(c.abandoned)
        self.fallback_messages += len(c.fallbacks)

    def merge(self, other: "Figures") -> None:
        """Adds the figures of other senders' conversations (every figure is a count)."""
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


# The figures of a row of the report's tables (the CSV files' and the SQL views' columns), in order.
FIGURE_NAMES = [
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
    trend: List[Tuple[str, Figures]]
    channels: List[Tuple[str, Figures]]
    topics: List[TopicFigures]
    unanswered: List[Tuple[str, int, List[int]]]
    not_helpful: List[Tuple[str, str, int]]
    known_channels: List[str]
    granularity: str
    # The conversations the report links to (top unanswered, rated not helpful, not covered): their
    # numbers (each with its ordinal in the spool, which holds their transcripts); and the handoffs
    # submitted in the period (main() reads how far they got).
    linked: Dict[int, int] = field(default_factory=dict)
    spool: Spool = field(default_factory=Spool)
    handoffs: List[str] = field(default_factory=list)
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
    # How many messages wait in the review inbox (bot/ops/review), whatever the period, counted in the
    # report's own pass (build_report's `inbox`). None: not counted, and `inbox_problem` says why.
    inbox_waiting: Optional[int] = None
    inbox_problem: str = ""

    def transcript(self, number: int) -> Conversation:
        """A conversation the report links to, read back from the spool: its transcript, channel, visitor."""
        c = self.spool.get(self.linked[number])
        c.number = number
        return c


def inbox_note(report: Report) -> str:
    """What the unanswered list says about the review inbox (docs/review.md)."""
    if report.inbox_waiting is None:
        return f"The review inbox could not be counted ({report.inbox_problem}); make review opens it."
    n = report.inbox_waiting
    return (
        f"{n} message{' waits' if n == 1 else 's wait'} in the review inbox (whatever the period), to be turned "
        "into training data or a note for the content team: make review opens it."
    )


def _day(timestamp: float) -> date:
    return datetime.fromtimestamp(timestamp, timezone.utc).date()


def _day_start(day: Optional[date]) -> Optional[float]:
    return datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() if day else None


def _bucket(day: date, granularity: str) -> date:
    return day - timedelta(days=day.weekday()) if granularity == "week" else day


class _Tally:
    """The figures so far. Visitors are counted once per sender and group, when the sender's last
    conversation is read; conversations are known by their place in the stream (an ordinal) until
    the end, when they are numbered in the order they started."""

    def __init__(
        self, label: Callable[[str], str], spool: Optional[str] = None, inbox: Optional[InboxCounter] = None
    ) -> None:
        self.label = label
        # Counts a sender's messages waiting in the review inbox (bot/ops/review), of every period and channel.
        self.inbox = inbox
        self.inbox_waiting = 0
        self.known: Set[str] = set()  # every channel in the store, of the conversations counted or not
        self.totals = Figures()
        self.groups: Dict[Tuple[str, Hashable], Figures] = {}
        self.visited: Set[Tuple[str, Hashable]] = set()
        self.sender_counted = False
        self.starts = array("d")  # each conversation's start, by ordinal (all are numbered, counted or not)
        self.first: Optional[float] = None  # the first and last start of the counted ones
        self.last: Optional[float] = None
        self.spool = Spool(spool)  # the transcripts of those the report may link to, by ordinal
        self.topics: Dict[str, TopicFigures] = {}
        self.career_topics: Dict[Tuple[str, str], TopicFigures] = {}
        self.unanswered: Dict[str, Tuple[int, List[int]]] = {}
        self.not_helpful: List[Tuple[int, str, str]] = []
        self.gaps: Dict[Tuple[str, str], Tuple[int, List[int]]] = {}
        self.page_careers: Dict[Tuple[str, str], PageCareer] = {}
        self.handoffs: List[str] = []

    def _group(self, kind: str, key: Hashable) -> Figures:
        self.visited.add((kind, key))
        return self.groups.setdefault((kind, key), Figures())

    def seen(self, c: Conversation) -> int:
        """The conversation's ordinal: its place in the stream."""
        self.starts.append(c.started)
        return len(self.starts) - 1

    def add(self, c: Conversation, ordinal: int) -> None:
        self.first = c.started if self.first is None else min(self.first, c.started)
        self.last = c.started if self.last is None else max(self.last, c.started)
        self.sender_counted = True
        self.totals.add(c)
        day = _day(c.started)
        for kind, key in (("day", day), ("week", _bucket(day, "week")), ("channel", c.channel)):
            self._group(kind, key).add(c)
        for key, part in c.split(lambda t: t.career, lambda a: a.career).items():
            self._group("career", key).add(part)
        for key, part in c.split(lambda t: t.page, lambda a: a.page).items():
            self._group("page", key).add(part)
        self.handoffs.extend(c.handoffs)
        linked = False
        for a in c.answers:
            t = self.topics.setdefault(a.topic, TopicFigures(a.topic, self.label(a.topic)))
            ct = self.career_topics.setdefault((a.career, a.topic), TopicFigures(a.topic, t.label))
            for tf in (t, ct):
                tf.answers += 1
                if a.rating is True:
                    tf.helpful += 1
                elif a.rating is False:
                    tf.not_helpful += 1
                else:
                    tf.unrated += 1
            if a.rating is False:
                self.not_helpful.append((ordinal, t.label, redacted(a.question)))
                linked = True
        for text in c.fallbacks:
            _count(self.unanswered, redacted(text), ordinal)
            linked = True
        for turn in c.turns:
            for said in turn.not_covered:
                _count(self.gaps, (turn.career, said), ordinal)
                linked = True
            if not turn.message:
                continue
            pc = self.page_careers.setdefault((turn.page, turn.career), PageCareer(turn.page, turn.career))
            pc.questions += 1
            pc.answered += turn.answered
            pc.not_answered += turn.fallback
        if linked:
            self.spool.keep(ordinal, c)

    def end_sender(self) -> None:
        if self.sender_counted:
            self.totals.visitors += 1
        for key in self.visited:
            self.groups[key].visitors += 1
        self.visited.clear()
        self.sender_counted = False

    def read(self, events: EventSource, start: Optional[float], end: Optional[float], channel: Optional[str]) -> None:
        """Counts the conversations of `events` that started from `start` to `end` on `channel` (None: any)."""
        rows = iter(events())
        try:
            for sender_id, sender_rows, sender in readings(rows):
                if self.inbox is not None:
                    self.inbox_waiting += self.inbox(sender_id, sender_rows, sender)
                for c in sender:
                    self.known.add(c.channel)
                    ordinal = self.seen(c)
                    if (
                        (start is None or c.started >= start)
                        and (end is None or c.started < end)
                        and (channel is None or c.channel == channel)
                    ):
                        self.add(c, ordinal)
                self.end_sender()
        finally:
            close = getattr(rows, "close", None)  # a report that fails half-way lets go of the store at once
            if close is not None:
                close()

    def state(self) -> Dict[str, Any]:
        """What merge() needs of this tally, to send to another process: all but the label and the spool's
        file (written out and closed; the file's name is the reader's to know)."""
        self.spool.files[0].close()
        state = {name: value for name, value in vars(self).items() if name not in ("label", "spool", "inbox")}
        state["places"] = self.spool.places
        return state

    def merge(self, state: Dict[str, Any], spool: str) -> None:
        """Adds the tally of the senders after all those read so far (its state(), its spool's file): the same
        as reading them here. Conversations are known by their place in the stream: its ordinals come after
        these; whatever first appears there comes after what appeared here, as it would in one stream."""
        offset = len(self.starts)
        self.starts.extend(state["starts"])
        for bound, pick in (("first", min), ("last", max)):
            values = [v for v in (getattr(self, bound), state[bound]) if v is not None]
            setattr(self, bound, pick(values) if values else None)
        self.known |= state["known"]
        self.inbox_waiting += state["inbox_waiting"]
        self.totals.merge(state["totals"])
        for key, f in state["groups"].items():
            self.groups.setdefault(key, Figures()).merge(f)
        for mine, theirs in ((self.topics, state["topics"]), (self.career_topics, state["career_topics"])):
            for key, tf in theirs.items():
                if key in mine:
                    for name in ("answers", "helpful", "not_helpful", "unrated"):
                        setattr(mine[key], name, getattr(mine[key], name) + getattr(tf, name))
                else:
                    mine[key] = tf
        for counts, added in ((self.unanswered, state["unanswered"]), (self.gaps, state["gaps"])):
            for key, (n, refs) in added.items():
                count, so_far = counts.get(key, (0, []))
                counts[key] = (count + n, so_far + [ordinal + offset for ordinal in refs])
        self.not_helpful.extend((ordinal + offset, label, q) for ordinal, label, q in state["not_helpful"])
        for key, pc in state["page_careers"].items():
            if key in self.page_careers:
                mine_pc = self.page_careers[key]
                mine_pc.questions += pc.questions
                mine_pc.answered += pc.answered
                mine_pc.not_answered += pc.not_answered
            else:
                self.page_careers[key] = pc
        self.handoffs.extend(state["handoffs"])
        self.spool.adopt(spool, state["places"], offset)

    def figures(self, kind: str) -> List[Tuple[Hashable, Figures]]:
        return [(key, f) for (k, key), f in self.groups.items() if k == kind]

    def numbers(self) -> Dict[int, int]:
        """The number of each conversation the report may link to: its place in the order they started
        (a stable sort: at the same moment, the stream's order, by sender, then the sender's order)."""
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)
        return {ordinal: number for number, ordinal in enumerate(order, 1) if ordinal in self.spool.places}


def _in_parallel(
    parts: List[StoredEvents],
    label: Callable[[str], str],
    start: Optional[float],
    end: Optional[float],
    channel: Optional[str],
    inbox: Optional[InboxCounter] = None,
) -> _Tally:
    """Each part read by a process of its own (forked: the parts and the label need not be pickled), the
    first by this one; their tallies merged in the order of the parts, that is of the stream."""
    context = multiprocessing.get_context("fork")
    folder = tempfile.mkdtemp(prefix="careerbot-report-")
    workers: List[Tuple[Any, Any, str]] = []
    try:
        for number, part in enumerate(parts[1:], 1):
            spool = os.path.join(folder, f"part-{number}")
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(
                target=_read_part, args=(part, label, start, end, channel, spool, sending, inbox), daemon=True
            )
            process.start()
            sending.close()
            workers.append((process, receiving, spool))
        tally = _Tally(label, inbox=inbox)
        tally.read(parts[0], start, end, channel)
        for process, receiving, spool in workers:
            try:
                outcome, value = receiving.recv()
            except EOFError:  # it ended without a word: killed (out of memory?)
                process.join()
                raise RuntimeError(
                    f"a process reading part of the store ended without its figures (exit {process.exitcode})"
                ) from None
            if outcome == "error":
                raise value
            tally.merge(value, spool)
            process.join()
        return tally
    finally:
        for process, receiving, _ in workers:
            receiving.close()
            if process.is_alive():  # this process failed first: the others' work is of no use
                process.terminate()
                process.join()
        shutil.rmtree(folder, ignore_errors=True)


def _read_part(
    part: StoredEvents,
    label: Callable[[str], str],
    start: Optional[float],
    end: Optional[float],
    channel: Optional[str],
    spool: str,
    sending: Any,
    inbox: Optional[InboxCounter] = None,
) -> None:
    """In a process of its own: one part's tally, sent back (or the error that stopped it)."""
    try:
        tally = _Tally(label, spool, inbox)
        tally.read(part, start, end, channel)
        sending.send(("done", tally.state()))
    except BaseException as error:  # the report's own process says it, as it would have said it reading alone
        try:
            sending.send(("error", error))
        except Exception:
            sending.send(("error", RuntimeError(f"{type(error).__name__}: {error}")))
    finally:
        sending.close()


def _count(counts: Dict, key: Hashable, ordinal: int) -> None:
    """One more of `key`, in the conversation `ordinal` (listed once however often it happens there)."""
    count, refs = counts.get(key, (0, []))
    if not refs or refs[-1] != ordinal:
        refs.append(ordinal)
    counts[key] = (count + 1, refs)


def build_report(
    events: EventSource,
    since: Optional[date] = None,
    until: Optional[date] = None,
    channel: Optional[str] = None,
    granularity: Optional[str] = None,
    label: Optional[Callable[[str], str]] = None,
    top: int = 20,
    inbox: Optional[InboxCounter] = None,
) -> Report:
    """The figures for conversations that started from `since` (inclusive) to `until` (exclusive), UTC days;
    `inbox` counts the messages waiting in the review inbox in the same pass (Report.inbox_waiting)."""
    from bot import domain_text

    label = label or domain_text.topic_label
    start, end = _day_start(since), _day_start(until)
    parts = events.parts() if isinstance(events, StoredEvents) else []
    if len(parts) > 1:
        tally = _in_parallel(parts, label, start, end, channel, inbox)
    else:
        tally = _Tally(label, inbox=inbox)
        tally.read(events, start, end, channel)
    known = tally.known

    first_day = _day(tally.first) if tally.first is not None else None
    last_day = _day(tally.last) if tally.last is not None else None
    if granularity is None:
        span = (last_day - first_day).days + 1 if first_day and last_day else 0
        granularity = "day" if span <= 31 else "week"
    buckets: Dict[date, Figures] = {}
    if first_day and last_day:
        first = _bucket(since or first_day, granularity)
        last = _bucket((until - timedelta(days=1)) if until else last_day, granularity)
        step = timedelta(days=7 if granularity == "week" else 1)
        day = first
        while day <= last:  # every period, the empty ones too: a gap is a finding
            buckets[day] = Figures()
            day += step
    for key, f in tally.figures(granularity):
        assert isinstance(key, date)
        buckets[key] = f

    number = tally.numbers()

    def numbered(refs: List[int]) -> List[int]:
        return sorted(number[ordinal] for ordinal in refs)

    top_unanswered = sorted(((t, n, refs) for t, (n, refs) in tally.unanswered.items()), key=lambda x: (-x[1], x[0]))
    unanswered = [(text, n, numbered(refs)) for text, n, refs in top_unanswered[:top]]
    not_helpful = [
        (label, question, number[ordinal])
        for ordinal, label, question in sorted(tally.not_helpful, key=lambda r: number[r[0]])
    ]
    not_covered = sorted(
        ((career, said, n, numbered(refs)) for (career, said), (n, refs) in tally.gaps.items()),
        key=lambda g: (-g[2], g[0], g[1]),
    )
    linked = {n for _, _, refs in unanswered for n in refs} | {n for *_, n in not_helpful}
    linked |= {n for *_, refs in not_covered for n in refs}
    return Report(
        totals=tally.totals,
        trend=[(d.isoformat(), f) for d, f in sorted(buckets.items())],
        channels=_ranked(tally.figures("channel")),
        topics=sorted(tally.topics.values(), key=lambda t: (-t.answers, t.label)),
        unanswered=unanswered,
        not_helpful=not_helpful,
        known_channels=sorted(known),
        granularity=granularity,
        linked={n: o for o, n in number.items() if n in linked},
        spool=tally.spool,
        handoffs=tally.handoffs,
        inbox_waiting=tally.inbox_waiting if inbox is not None else None,
        careers=_ranked(tally.figures("career")),
        pages=_ranked(tally.figures("page")),
        career_topics=[
            (career, tf)
            for (career, _), tf in sorted(
                tally.career_topics.items(), key=lambda i: (i[0][0], -i[1].answers, i[1].label)
            )
        ],
        page_careers=sorted(tally.page_careers.values(), key=lambda p: (-p.questions, p.page, p.career)),
        not_covered=not_covered,
    )


def _ranked(figures: List[Tuple[Hashable, Figures]]) -> List[Tuple[str, Figures]]:
    return sorted(((str(k), f) for k, f in figures), key=lambda item: (-item[1].conversations, item[0]))


def pct(rate: float) -> str:
    return f"{rate * 100:.1f} %"
