"""The inbox: the visitors' messages the bot got wrong, read from the conversation store.

The store is read as the report reads it (bot.ops.report.loading: the same access layer, the
same conversations, careers, fallbacks and ratings), and each visitor message waits here for
one reason, the first that applies of:

- fallback: the bot could not answer it (the fallback, or the career's source does not cover
  the topic), as the report's unanswered list counts it;
- out_of_scope: the same, for a message the classifier (or the in-domain gate) called
  out_of_scope, or a question about a job the site has no guide for;
- unresolved_clarification: the bot asked which of two topics was meant, and the visitor's next
  message in that session was neither (or there was none);
- low_confidence: answered with a career fact, though the classifier's confidence in its intent
  (its best one, when the turn was nlu_fallback and answered in context) was below
  bot.ops.review.threshold.LOW_CONFIDENCE;
- not_helpful: its answer was rated not helpful (the first rating, as the report counts it).

A button's payload ("/ask_pay") is the bot's own wording, not the visitor's: never in the inbox.
Decided messages (review/decisions.yml) are left out, by id and by their redacted text.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Set, Tuple

from bot.clarify import FALLBACK_INTENT, gives_career_answer
from bot.ops.report.loading import (
    FALLBACK_RESPONSES,
    NOT_COVERED_RESPONSES,
    NOT_RECORDED,
    Conversation,
    InboxCounter,
    Row,
    StoredEvents,
    redacted,
    sender_conversations,
    senders,
)
from bot.ops.review.decisions import REVIEW_DIR, ReviewError, decided, same_text
from bot.ops.review.groups import Group, group
from bot.ops.review.threshold import LOW_CONFIDENCE

__all__ = ["REASONS", "Group", "Inbox", "Message", "load_inbox", "messages", "transcript", "waiting_count"]

REASONS = ("fallback", "out_of_scope", "unresolved_clarification", "low_confidence", "not_helpful")
CLARIFY = "utter_clarify"
OTHER_CAREER = "utter_other_career"
FEEDBACK_PROMPT = "utter_ask_feedback"  # carries its answer's id, for its buttons; not an answer
OUT_OF_SCOPE = "out_of_scope"
# The replies that leave a question unanswered (the report's), but the clarifying question: that one is
# unanswered only when the visitor's next message does not take it up.
MISSED_RESPONSES = (FALLBACK_RESPONSES - {CLARIFY}) | NOT_COVERED_RESPONSES


@dataclass(frozen=True)
class Message:
    id: str  # stable across runs: sha256 of (sender_id, the user event's timestamp, its redacted text), 16 hex
    text: str  # redacted (bot.redaction.redact_contacts), as the report redacts
    reason: str  # one of REASONS
    intent: Optional[str]  # what the model predicted for it (its best guess under nlu_fallback)
    confidence: Optional[float]
    career: str  # as the report settles a turn's career; NOT_RECORDED if none
    channel: str
    at: float  # unix time of the message
    sender_id: str  # only to show its redacted transcript; never printed in list output


@dataclass
class Inbox:
    groups: List[Group]  # largest first

    def find(self, ident: str) -> List[Message]:
        """The messages of a group id or a message id."""
        for g in self.groups:
            if g.id == ident:
                return list(g.messages)
            for m in g.messages:
                if m.id == ident:
                    return [m]
        raise ReviewError(
            f"no group or message {ident!r} is waiting in the inbox (decided already, or a typo: `list` shows the ids)"
        )

    @property
    def waiting(self) -> int:
        return sum(g.count for g in self.groups)


def message_id(sender_id: str, at: float, text: str) -> str:
    return hashlib.sha256(f"{sender_id}\n{at!r}\n{text}".encode("utf-8")).hexdigest()[:16]


@dataclass
class _Visit:
    """One visitor message and what the bot replied to it, as stored."""

    row: Row
    session: int
    responses: List[str]
    answer_ids: List[str]
    offered: Set[str]  # the intents of a clarifying question's buttons

    @property
    def intent(self) -> Tuple[Optional[str], Optional[float]]:
        parse = self.row.data.get("parse_data")
        return _named(parse.get("intent") if isinstance(parse, dict) else None)

    @property
    def guess(self) -> Tuple[Optional[str], Optional[float]]:
        """The classifier's best intent: under nlu_fallback, the best of its ranking (what an answer in
        context went by)."""
        name, confidence = self.intent
        parse = self.row.data.get("parse_data")
        if name == FALLBACK_INTENT and isinstance(parse, dict):
            ranking = [_named(r) for r in parse.get("intent_ranking") or []]
            return next(((n, c) for n, c in ranking if n and n != FALLBACK_INTENT), (name, confidence))
        return name, confidence


def _named(found: object) -> Tuple[Optional[str], Optional[float]]:
    if not isinstance(found, dict) or not found.get("name"):
        return None, None
    confidence = found.get("confidence")
    return str(found["name"]), float(confidence) if isinstance(confidence, (int, float)) else None


def _payload_intent(payload: object) -> Optional[str]:
    """/ask_pay{"job_level": "managers"} -> ask_pay."""
    return str(payload)[1:].split("{")[0].strip() or None if str(payload).startswith("/") else None


def _visits(rows: List[Row]) -> List[_Visit]:
    visits: List[_Visit] = []
    current: Optional[_Visit] = None
    session = 0
    for row in rows:
        if row.type_name == "session_started":
            session, current = session + 1, None
        elif row.type_name == "user":
            current = _Visit(row, session, [], [], set())
            visits.append(current)
        elif row.type_name == "bot" and current is not None:
            meta = row.data.get("metadata")
            meta = meta if isinstance(meta, dict) else {}
            response = str(meta.get("utter_action") or "")
            current.responses.append(response)
            if meta.get("answer_id") and response != FEEDBACK_PROMPT:
                current.answer_ids.append(str(meta["answer_id"]))
            if response == CLARIFY:
                data = row.data.get("data")
                buttons = data.get("buttons") if isinstance(data, dict) else None
                for button in buttons or []:
                    offered = _payload_intent(button.get("payload")) if isinstance(button, dict) else None
                    if offered:
                        current.offered.add(offered)
    return visits


def _reason(
    visit: _Visit, following: Optional[_Visit], fallback: bool, unhelpful: Set[str], answered: bool, threshold: float
) -> Optional[str]:
    intent = visit.intent[0]
    if fallback and any(r in MISSED_RESPONSES for r in visit.responses):
        return "out_of_scope" if intent == OUT_OF_SCOPE or OTHER_CAREER in visit.responses else "fallback"
    if CLARIFY in visit.responses:
        taken_up = following is not None and following.session == visit.session and following.intent[0] in visit.offered
        if not taken_up:
            return "unresolved_clarification"
    guess, sure = visit.guess
    if answered and guess and gives_career_answer(guess) and sure is not None and sure < threshold:
        return "low_confidence"
    if unhelpful.intersection(visit.answer_ids):
        return "not_helpful"
    return None


def sender_messages(
    sender: str, rows: List[Row], threshold: float = LOW_CONFIDENCE, sessions: Optional[List[Conversation]] = None
) -> List[Message]:
    """One sender's messages that belong in the inbox (decided or not); `sessions`: the report's reading of
    the same rows, when the caller has it already."""
    if sessions is None:
        sessions = sender_conversations(sender, rows)
    turns = [(turn, c) for c in sessions for turn in c.turns if turn.message]
    visits = _visits(rows)
    if len(turns) != len(visits):  # the report's reading and this one disagree: trust neither for this sender
        return []
    unhelpful = {a.id for c in sessions for a in c.answers if a.rating is False}
    found = []
    for index, ((turn, conversation), visit) in enumerate(zip(turns, visits, strict=True)):
        raw = str(visit.row.data.get("text") or "")
        if not raw.strip() or raw.startswith("/"):
            continue
        following = visits[index + 1] if index + 1 < len(visits) else None
        reason = _reason(visit, following, turn.fallback, unhelpful, turn.answered, threshold)
        if reason is None:
            continue
        text = redacted(raw)
        intent, confidence = visit.guess
        found.append(
            Message(
                id=message_id(sender, visit.row.timestamp, text),
                text=text,
                reason=reason,
                intent=intent,
                confidence=confidence,
                career=turn.career or NOT_RECORDED,
                channel=conversation.channel,
                at=visit.row.timestamp,
                sender_id=sender,
            )
        )
    return found


def messages(tracker_url: str, review_dir: Path = REVIEW_DIR, threshold: float = LOW_CONFIDENCE) -> List[Message]:
    """Every waiting message: in the inbox, not decided yet."""
    ids, texts = decided(review_dir)
    return [
        m
        for sender, rows in senders(StoredEvents(tracker_url)())
        for m in sender_messages(sender, rows, threshold)
        if m.id not in ids and same_text(m.text) not in texts
    ]


def load_inbox(tracker_url: str, review_dir: Path = REVIEW_DIR, threshold: float = LOW_CONFIDENCE) -> Inbox:
    return Inbox(group(messages(tracker_url, review_dir, threshold)))


def waiting_counter(review_dir: Path = REVIEW_DIR) -> InboxCounter:
    """How many of one sender's messages wait (given its rows and the report's reading of them), with the
    decisions read once: the report counts them in its own pass over the store, not in a second one."""
    ids, texts = decided(review_dir)

    def count(sender: str, rows: List[Row], sessions: List[Conversation]) -> int:
        found = sender_messages(sender, rows, sessions=sessions)
        return sum(1 for m in found if m.id not in ids and same_text(m.text) not in texts)

    return count


def waiting_count(tracker_url: str, review_dir: Path = REVIEW_DIR) -> int:
    """How many messages wait, without grouping them (no vectors)."""
    count = waiting_counter(review_dir)
    return sum(
        count(sender, rows, sender_conversations(sender, rows)) for sender, rows in senders(StoredEvents(tracker_url)())
    )


def transcript(tracker_url: str, sender_id: str) -> List[Tuple[str, str, float]]:
    """(who, redacted text, at) of every message of one sender's conversations, in order."""
    # The stream's range of senders: this one up to the strings just after it (PostgreSQL's text holds no NUL).
    rows = [r for r in StoredEvents(tracker_url, (sender_id, sender_id + "\x01"))() if r.sender_id == sender_id]
    return [(who, redacted(text), at) for c in sender_conversations(sender_id, rows) for who, text, at in c.transcript]
