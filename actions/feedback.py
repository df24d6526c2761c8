"""Was this helpful? Asked now and then after an answer, recorded against its topic."""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Ask after the 2nd answer of a session, then after every 4th: often enough to
# learn something, rare enough not to nag.
FIRST_ASK = 2
ASK_EVERY = 4


def answers_this_session(tracker: Tracker) -> int:
    """Topic answers since the session started (each one sets the `topic` slot)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "session_started":
            break
        if event.get("event") == "slot" and event.get("name") == "topic" and event.get("value"):
            count += 1
    return count


def should_ask_feedback(answers: int) -> bool:
    """Whether to ask after the `answers`-th answer of the session."""
    return answers >= FIRST_ASK and (answers - FIRST_ASK) % ASK_EVERY == 0


class ActionRecordFeedback(Action):
    def name(self) -> Text:
        return "action_record_feedback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        helpful = (tracker.latest_message.get("intent") or {}).get("name") == "feedback_helpful"
        return record_feedback(dispatcher, tracker, helpful)


def record_feedback(dispatcher: CollectingDispatcher, tracker: Tracker, helpful: bool) -> List[EventType]:
    dispatcher.utter_message(response="utter_feedback_thanks" if helpful else "utter_feedback_sorry")
    topic = tracker.get_slot("topic")
    if not topic:
        return []
    return [SlotSet("feedback", {"topic": topic, "helpful": helpful})]
