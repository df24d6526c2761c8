"""Handing a conversation to a person: collect an email and the question, record it.

While the form waits for the address, a topic question is answered and the form
asks for the address again: the visitor asked for a person a moment ago, and
dropping that request unasked would lose it; "cancel" leaves the form. Once the
form asks for the question itself, whatever the visitor types is that question.
"""

from __future__ import annotations

import re
from typing import Any, Dict, List, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.followup import topic_action_for_intent
from bot.clarify import is_topic
from bot.settings import Settings

# Deliberately simple: one @, a dot in the domain, no spaces. The person who
# replies is the real check.
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")


class ValidateHandoffForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_handoff_form"

    def validate_handoff_email(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        email = str(value or "").strip().strip("<>.,;")
        if EMAIL.match(email):
            return {"handoff_email": email}
        intent = (tracker.latest_message.get("intent") or {}).get("name") or ""
        answer = topic_action_for_intent(intent) if is_topic(intent) else None
        if answer is not None:
            # A question instead of an address: answer it (without "Was this helpful?",
            # one question at a time), and the form then asks for the address again.
            events = answer.respond(dispatcher, tracker, domain, ask_feedback=False)
            slots = {e["name"]: e["value"] for e in events if e.get("event") == "slot"}
            return dict(slots, handoff_email=None)
        dispatcher.utter_message(response="utter_invalid_email")
        return {"handoff_email": None}

    def validate_handoff_question(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        question = str(value or "").strip()
        return {"handoff_question": question or None}


class ActionSubmitHandoff(Action):
    """Records the handoff in the conversation (the `handoff` slot) and says what happens next."""

    def name(self) -> Text:
        return "action_submit_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        route = Settings.from_env().handoff_route
        email = tracker.get_slot("handoff_email")
        record = {
            "email": email,
            "question": tracker.get_slot("handoff_question"),
            "route": route,
            "topic": tracker.get_slot("topic"),
        }
        dispatcher.utter_message(response="utter_handoff_done", route=route, email=email)
        return [SlotSet("handoff", record), SlotSet("handoff_email", None), SlotSet("handoff_question", None)]


class ActionCancelHandoff(Action):
    def name(self) -> Text:
        return "action_cancel_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_handoff_cancelled")
        return [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("handoff_email", None),
            SlotSet("handoff_question", None),
        ]
