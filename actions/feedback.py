"""Was this helpful? Asked now and then after an answer, recorded against that answer.

Every topic answer carries an id (``answer_id``, with its ``topic``) in the
bot message Rasa stores, and the Yes/No buttons under it carry the same id as
an entity. A click therefore rates the answer it was shown under, however
late, and a second click on an answer already rated records nothing. Answers
are counted from those bot messages, never from the `topic` slot, which a
session start may write again.
"""

from __future__ import annotations

import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Ask after the 2nd answer of a session, then after every 4th: often enough to
# learn something, rare enough not to nag.
FIRST_ASK = 2
ASK_EVERY = 4
ANSWER_ID = "answer_id"
FEEDBACK_PROMPT = "utter_ask_feedback"


def _session_events(tracker: Tracker) -> List[Dict[str, Any]]:
    events: List[Dict[str, Any]] = []
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        events.append(event)
    events.reverse()
    return events


def _answer_meta(event: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The metadata of a topic answer; None for anything else.

    "Was this helpful?" carries its answer's id too (for its buttons), but it is
    not an answer: counting it would bring every later prompt one answer early.
    """
    meta = event.get("metadata") or {}
    if event.get("event") != "bot" or not meta.get(ANSWER_ID) or meta.get("utter_action") == FEEDBACK_PROMPT:
        return None
    return meta


def answers_this_session(tracker: Tracker) -> int:
    """Topic answers the bot gave since the session started."""
    return sum(1 for event in _session_events(tracker) if _answer_meta(event))


def should_ask_feedback(answers: int) -> bool:
    """Whether to ask after the `answers`-th answer of the session."""
    return answers >= FIRST_ASK and (answers - FIRST_ASK) % ASK_EVERY == 0


def mark_answer(dispatcher: CollectingDispatcher, start: int, topic: str, career: str) -> Optional[str]:
    """Gives the answer among the messages sent since `start` its id; None when none is an answer.

    The answer also carries its topic and the id of the career it is about, for the report.
    """
    for message in dispatcher.messages[start:]:
        if str(message.get("response") or "").startswith("utter_answer_"):
            # 12 hex digits: unique within a conversation, and the button's payload stays
            # within Telegram's 64 bytes of callback data.
            message[ANSWER_ID] = uuid.uuid4().hex[:12]
            message["topic"] = topic
            message["career"] = career
            return message[ANSWER_ID]
    return None


def ask_feedback_after(dispatcher: CollectingDispatcher, tracker: Tracker, answer_id: Optional[str]) -> None:
    """Adds "Was this helpful?", for this answer, when it is time to ask."""
    if answer_id and should_ask_feedback(answers_this_session(tracker) + 1):
        dispatcher.utter_message(response=FEEDBACK_PROMPT, answer_id=answer_id)


def answer_just_given(tracker: Tracker) -> Optional[str]:
    """The id of the answer the bot's previous turn ended on (or its prompt's); None when it ended otherwise."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "bot":
            meta = event.get("metadata") or {}
            return str(meta[ANSWER_ID]) if meta.get(ANSWER_ID) else None
    return None


def _rated_answer(tracker: Tracker) -> Optional[str]:
    """The answer a Yes/No is about: the id its button carries, else the prompt it follows, else the last answer."""
    for entity in (tracker.latest_message or {}).get("entities") or []:
        if entity.get("entity") == ANSWER_ID and entity.get("value"):
            return str(entity["value"])
    events = _session_events(tracker)
    seen_user = False
    for event in reversed(events):
        if event.get("event") == "user":
            if seen_user:
                break
            seen_user = True
        elif seen_user and event.get("event") == "bot":
            meta = event.get("metadata") or {}
            if meta.get("utter_action") == FEEDBACK_PROMPT and meta.get(ANSWER_ID):
                return str(meta[ANSWER_ID])
            break
    return next((str(m[ANSWER_ID]) for m in map(_answer_meta, reversed(events)) if m), None)


class ActionRecordFeedback(Action):
    def name(self) -> Text:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_helpful"
        return record_feedback(dispatcher, tracker, helpful)


def record_feedback(dispatcher: CollectingDispatcher, tracker: Tracker, helpful: bool) -> List[EventType]:
    answer_id = _rated_answer(tracker)
    already = answer_id is not None and any(
        e.get("event") == "slot"
        and e.get("name") == "feedback"
        and isinstance(e.get("value"), dict)
        and e["value"].get(ANSWER_ID) == answer_id
        for e in tracker.events
    )
    if already:
        dispatcher.utter_message(response="utter_feedback_already")
        return []
    dispatcher.utter_message(response="utter_feedback_thanks" if helpful else "utter_feedback_sorry")
    if answer_id is None:
        return []
    # An answer of an earlier session is not in this tracker: the report finds its topic by the id.
    topic = next(
        (m.get("topic") for m in map(_answer_meta, tracker.events) if m and m.get(ANSWER_ID) == answer_id), None
    )
    return [SlotSet("feedback", {ANSWER_ID: answer_id, "topic": topic, "helpful": helpful})]
