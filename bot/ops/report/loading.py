"""The report's reading of the store: each sender's events into conversations, turns and answers.

The events are streamed, ordered by sender, and read one sender at a time
(`conversations`): what a conversation is, and how each record counts once, is in
bot/ops/report/__init__.py and docs/handoff-and-report.md.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from itertools import groupby
from typing import Any, BinaryIO, Callable, Dict, Iterable, Iterator, List, Mapping, Optional, Protocol, Tuple

from bot.ops.store import opened
from bot.redaction import redact_contacts

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
    data: Mapping


# The same texts come again and again (the bot's answers, "hi"): each is redacted once, of the last so many.
redacted = lru_cache(maxsize=8192)(redact_contacts)


class EventSource(Protocol):
    """The store's events, per sender in the order stored."""

    def __call__(self) -> Iterable[Row]: ...


# The events the report reads; the others (actions, featurization, loops...) are left unread, unparsed.
READ_TYPES = ("user", "bot", "slot", "session_started")
# The slots the report reads. A slot event whose JSON does not contain one of these names, quoted (as
# JSON writes the event's "name"), is none of them: it is skipped unparsed.
READ_SLOTS = re.compile(r'"(?:handoff|feedback|career)"')
# Rows fetched at a time from the server-side cursor (PostgreSQL).
FETCH_ROWS = 2000
# A store of fewer events (by the span of its ids) is read in one process: starting others costs more
# than they save there.
PARALLEL_EVENTS = 200_000
# How many events, at evenly spaced ids, stand for the store where it is cut into parts.
SPLIT_SAMPLES = 2000


class StoredEvents:
    """The events of the store at `tracker_url`, streamed: read-only, never creates a database.

    They come ordered by sender (in code-point order, as Python compares strings, so that
    the report numbers conversations that start at the same moment as it always did),
    through the database's own cursor (a server-side one on PostgreSQL): one sender's
    events at a time are in memory, and no row goes through SQLAlchemy's row objects.
    `senders` (from, to): only the senders from the first (inclusive) to the second
    (exclusive), None for no bound; `parts` splits the store in such ranges."""

    def __init__(
        self,
        tracker_url: str,
        senders: Tuple[Optional[str], Optional[str]] = (None, None),
        processes: Optional[int] = None,
    ) -> None:
        self.tracker_url = tracker_url
        self.senders = senders
        self.processes = processes  # None: one per CPU on a large SQLite store, else one

    def parts(self) -> List["StoredEvents"]:
        """The store cut into ranges of senders with about as many events each, in the stream's order,
        one per process that will read them."""
        with opened(self.tracker_url, write=False, doing="read") as store, store.engine.connect() as connection:
            store.require_events(connection)
            if not store.is_sqlite:  # the parallel reading is measured and tested on SQLite only
                return [self]
            cursor = connection.connection.cursor()
            try:
                low, high = cursor.execute("SELECT MIN(id), MAX(id) FROM events").fetchone()
                span = high - low + 1 if low is not None else 0
                processes = self.processes or (os.cpu_count() or 1 if span >= PARALLEL_EVENTS else 1)
                if processes <= 1 or span < processes:
                    return [self]
                # Events at evenly spaced ids (the primary key: one look-up each) stand for the store: the
                # senders at their quantiles cut it into parts of about as many events (ids are never reused,
                # so a store with deletions is cut less evenly, never wrongly).
                step = max(1, span // SPLIT_SAMPLES)
                sample = [
                    sender
                    for (sender,) in cursor.execute(
                        "WITH RECURSIVE ids(id) AS (SELECT ? UNION ALL SELECT id + ? FROM ids WHERE id + ? <= ?) "
                        "SELECT sender_id FROM events WHERE id IN (SELECT id FROM ids)",
                        (low, step, step, high),
                    )
                ]
            finally:
                cursor.close()
        sample.sort()
        cuts = sorted({sample[len(sample) * n // processes] for n in range(1, processes)} if sample else set())
        bounds: List[Optional[str]] = [None, *cuts, None]
        return [StoredEvents(self.tracker_url, (bounds[n], bounds[n + 1]), processes=1) for n in range(len(bounds) - 1)]

    def __call__(self) -> Iterator[Row]:
        with opened(self.tracker_url, write=False, doing="read") as store, store.engine.connect() as connection:
            store.require_events(connection)
            raw = connection.connection
            cursor = raw.cursor() if store.is_sqlite else raw.cursor(name="careerbot_report")
            if not store.is_sqlite:
                cursor.itersize = FETCH_ROWS
            column = "sender_id" if store.is_sqlite else 'sender_id COLLATE "C"'
            mark = "?" if store.is_sqlite else "%s"
            types = ", ".join(f"'{name}'" for name in READ_TYPES)
            lower, upper = self.senders
            where = [f"type_name IN ({types})"]
            where += [f"{column} >= {mark}"] if lower is not None else []
            where += [f"{column} < {mark}"] if upper is not None else []
            cursor.execute(
                f"SELECT id, sender_id, type_name, timestamp, data FROM events WHERE {' AND '.join(where)} "
                f"ORDER BY {column}, id",
                tuple(bound for bound in self.senders if bound is not None),
            )
            try:
                for row_id, sender, kind, at, data in cursor:
                    if kind == "slot" and isinstance(data, str) and not READ_SLOTS.search(data):
                        continue
                    yield Row(row_id, sender, kind, at or 0.0, store.event_data(row_id, data))
            finally:
                cursor.close()


class ListedEvents:
    """Events already in memory (rows a test writes), in the order the store gives them."""

    def __init__(self, rows: Iterable[Row]) -> None:
        self.rows = sorted(rows, key=lambda row: row.sender_id)

    def __call__(self) -> Iterator[Row]:
        return iter(self.rows)


class Spool:
    """Transcripts set aside in a temporary file as the conversations stream by, read again by key:
    the report links to conversations it only knows at the end, and keeps none of them in memory.
    `path`: a file of that name instead (a process reading part of the store writes there, for the
    report's own process to `adopt`)."""

    def __init__(self, path: Optional[str] = None) -> None:
        self.files: List[BinaryIO] = [open(path, "w+b") if path else tempfile.TemporaryFile()]
        self.places: Dict[int, Tuple[int, int, int]] = {}  # key: the file's index, where, how long

    def keep(self, key: int, c: Conversation) -> None:
        data = json.dumps([c.sender_id, c.channel, c.transcript]).encode("utf-8")
        file = self.files[0]
        file.seek(0, os.SEEK_END)
        self.places[key] = (0, file.tell(), len(data))
        file.write(data)

    def adopt(self, path: str, places: Dict[int, Tuple[int, int, int]], offset: int) -> None:
        """Takes in another spool's file (deleted here, read while open) and its keys, each plus `offset`."""
        index = len(self.files)
        self.files.append(open(path, "rb"))
        os.unlink(path)
        for key, (_, start, length) in places.items():
            self.places[key + offset] = (index, start, length)

    def get(self, key: int) -> Conversation:
        index, start, length = self.places[key]
        file = self.files[index]
        file.seek(start)
        sender, channel, transcript = json.loads(file.read(length))
        return Conversation(sender, channel=channel, transcript=[tuple(line) for line in transcript])


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


# Counts one sender's messages waiting in the review inbox, given its rows and their conversations
# (bot.ops.review.inbox.waiting_counter): the report counts them in its own pass over the store.
InboxCounter = Callable[[str, List[Row], List[Conversation]], int]


def senders(rows: Iterable[Row]) -> Iterator[Tuple[str, List[Row]]]:
    """Each sender's rows, one sender at a time (the rows come ordered by sender)."""
    for sender, events in groupby(rows, key=lambda row: row.sender_id):
        yield sender, list(events)


def readings(rows: Iterable[Row]) -> Iterator[Tuple[str, List[Row], List[Conversation]]]:
    """Each sender's rows and conversations, one sender at a time (the rows come ordered by sender)."""
    for sender, events in senders(rows):
        yield sender, events, sender_conversations(sender, events)


def conversations(rows: Iterable[Row]) -> Iterator[List[Conversation]]:
    """Each sender's conversations, one sender at a time (the rows come ordered by sender)."""
    for _, _, found in readings(rows):
        yield found


def sender_conversations(sender: str, events: Iterable[Row]) -> List[Conversation]:
    """Splits one sender's events into sessions and reads each record once (by its id)."""
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
    return [s for s in sessions if s.messages]
