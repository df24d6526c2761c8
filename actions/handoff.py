"""Handing a conversation to a person: collect an email and the question, record it."""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot.settings import Settings

# Deliberately simple: one @, a dot in the domain, no spaces. The person who
# replies is the real check.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_handoff_form"

    def validate_handoff_email(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                               domain: Dict[Text, Any]) -> Dict[Text, Any]:
        email = str(value or "").strip().strip("<>.,;")
        if EMAIL.match(email):
            return {"handoff_email": email}
        dispatcher.utter_message(response="utter_invalid_email")
        return {"handoff_email": None}

    def validate_handoff_question(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker,
                                  domain: Dict[Text, Any]) -> Dict[Text, Any]:
        question = str(value or "").strip()
        return {"handoff_question": question or None}


class ActionSubmitHandoff(Action):
    """Records the handoff in the conversation (the `handoff` slot) and says what happens next."""

    def name(self) -> Text:
        return "action_submit_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        route = Settings.from_env().handoff_route
        email = tracker.get_slot("handoff_email")
        record = {"email": email, "question": tracker.get_slot("handoff_question"),
                  "route": route, "topic": tracker.get_slot("topic")}
        dispatcher.utter_message(response="utter_handoff_done", route=route, email=email)
        return [SlotSet("handoff", record), SlotSet("handoff_email", None), SlotSet("handoff_question", None)]


class ActionCancelHandoff(Action):
    def name(self) -> Text:
        return "action_cancel_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: Dict[Text, Any]) -> List[EventType]:
        dispatcher.utter_message(response="utter_handoff_cancelled")
        return [ActiveLoop(None), SlotSet("requested_slot", None),
                SlotSet("handoff_email", None), SlotSet("handoff_question", None)]
