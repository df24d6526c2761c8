"""Greeting, help and fallback: they name the career, so they come from the knowledge too."""

from __future__ import annotations

from typing import Any, ClassVar, Dict, List, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.base import CareerAction


class CareerResponseAction(CareerAction):
    """Sends one domain response with the career's name filled in."""

    response: ClassVar[str]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response=self.response, career=self.career(tracker).name)
        return []


class ActionGreet(CareerResponseAction):
    response = "utter_greet"

    def name(self) -> Text:
        return "action_greet"


class ActionHelp(CareerResponseAction):
    response = "utter_help"

    def name(self) -> Text:
        return "action_help"


class ActionFallback(CareerResponseAction):
    """Off-topic or not understood: say what the bot can answer, never a fact.

    The second fallback in a row offers a person instead.
    """

    response = "utter_fallback"

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        response = "utter_fallback_offer_handoff" if previous_bot_action(tracker) == self.name() \
            else self.response
        dispatcher.utter_message(response=response, career=self.career(tracker).name)
        return []


# Actions Rasa runs around every turn; they say nothing about the conversation.
_HOUSEKEEPING = {"action_listen", "action_extract_slots", "action_session_start"}


def previous_bot_action(tracker: Tracker) -> "str | None":
    """The last action the bot ran before the current user message."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") not in _HOUSEKEEPING:
            return event.get("name")
    return None


class ActionAnythingElse(CareerResponseAction):
    response = "utter_anything_else"

    def name(self) -> Text:
        return "action_anything_else"
