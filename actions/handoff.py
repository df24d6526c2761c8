"""Handing a conversation to a person: collect an email and the question, queue it for delivery.

With no delivery configured (CAREERBOT_HANDOFF_SMTP_URL, CAREERBOT_HANDOFF_WEBHOOK_URL)
the bot promises nothing: a request for a person gets the contact route the
site owner set (CAREERBOT_HANDOFF_CONTACT) instead of the form. A submitted
handoff is a row of the outbox (bot/handoff/) before the visitor is told it
is passed on; a form left after the address was given is recorded as
abandoned, without the address.

While the form waits for the address, a topic question is answered and the form
asks for the address again: the visitor asked for a person a moment ago, and
dropping that request unasked would lose it; "cancel" leaves the form. Once the
form asks for the question itself, whatever the visitor types is that question.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.followup import topic_action_for_intent
from bot.clarify import is_topic
from bot.handoff import worker
from bot.handoff.outbox import Handoff, Outbox, handoff_id
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


HANDOFF_FORM = "handoff_form"


def say_contact_route(dispatcher: CollectingDispatcher, settings: Settings) -> None:
    """No delivery configured: how to reach a person, without promising a reply."""
    if settings.handoff_contact:
        dispatcher.utter_message(
            response="utter_handoff_contact", route=settings.handoff_route, contact=settings.handoff_contact
        )
    else:
        dispatcher.utter_message(response="utter_handoff_unavailable")


class ActionRequestHuman(Action):
    """Starts the handoff form when handoffs can be delivered; otherwise gives the contact route."""

    def name(self) -> Text:
        return "action_request_human"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        settings = Settings.from_env()
        if settings.handoff.configured:
            return [FollowupAction(HANDOFF_FORM)]
        say_contact_route(dispatcher, settings)
        return []


def _latest_user_event(tracker: Tracker) -> Dict[str, Any]:
    return next((e for e in reversed(tracker.events) if e.get("event") == "user"), {})


def transcript(tracker: Tracker) -> List[Dict[str, Any]]:
    """The conversation so far (this session), as the person taking over reads it."""
    lines: List[Dict[str, Any]] = []
    for event in tracker.events:
        if event.get("event") == "session_started":
            lines = []
        elif event.get("event") in ("user", "bot") and event.get("text"):
            lines.append(
                {
                    "from": "visitor" if event["event"] == "user" else "bot",
                    "text": event["text"],
                    "at": event.get("timestamp"),
                }
            )
    return lines


async def store(settings: Settings, handoff: Handoff) -> None:
    # Stored before the visitor hears it is passed on: a database error fails
    # the turn (Rasa apologises) rather than promise what was not kept.
    await asyncio.to_thread(Outbox(settings.tracker_url).add, handoff)
    running = worker.current()
    if running is not None and handoff.status == "pending":
        running.wake()


def abandoned(tracker: Tracker, settings: Settings) -> Optional[Handoff]:
    """The record of a form left after the address was given, or None when none was given."""
    if not tracker.get_slot("handoff_email"):
        return None
    turn = _latest_user_event(tracker)
    return Handoff(
        id=handoff_id(tracker.sender_id, f"abandoned:{turn.get('timestamp')}:{turn.get('message_id')}"),
        sender_id=tracker.sender_id,
        created_at=time.time(),
        status="abandoned",
        topic=tracker.get_slot("topic"),
        channel=tracker.get_latest_input_channel(),
        route=settings.handoff_route,
    )


def record_event(handoff: Handoff, reason: Optional[str] = None) -> SlotSet:
    """What the conversation keeps of a handoff: its id and outcome, never the address."""
    value = {
        "id": handoff.id,
        "status": "abandoned" if handoff.status == "abandoned" else "submitted",
        "topic": handoff.topic,
    }
    if reason:
        value["reason"] = reason
    return SlotSet("handoff", value)


class ActionSubmitHandoff(Action):
    """Queues the handoff in the outbox and says who will reply to which address."""

    def name(self) -> Text:
        return "action_submit_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        settings = Settings.from_env()
        cleared = [SlotSet("handoff_email", None), SlotSet("handoff_question", None)]
        if not settings.handoff.configured:
            say_contact_route(dispatcher, settings)
            return cleared
        email = tracker.get_slot("handoff_email")
        turn = _latest_user_event(tracker)
        handoff = Handoff(
            id=handoff_id(tracker.sender_id, f"{turn.get('timestamp')}:{turn.get('message_id')}"),
            sender_id=tracker.sender_id,
            created_at=time.time(),
            status="pending",
            email=email,
            question=tracker.get_slot("handoff_question"),
            topic=tracker.get_slot("topic"),
            channel=tracker.get_latest_input_channel(),
            route=settings.handoff_route,
            transcript=transcript(tracker),
        )
        await store(settings, handoff)
        dispatcher.utter_message(response="utter_handoff_done", route=settings.handoff_route, email=email)
        return [record_event(handoff), *cleared]


class ActionCancelHandoff(Action):
    def name(self) -> Text:
        return "action_cancel_handoff"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        settings = Settings.from_env()
        events: List[EventType] = []
        left = abandoned(tracker, settings)
        if left is not None:
            await store(settings, left)
            events.append(record_event(left, "cancelled"))
        dispatcher.utter_message(response="utter_handoff_cancelled")
        return events + [
            ActiveLoop(None),
            SlotSet("requested_slot", None),
            SlotSet("handoff_email", None),
            SlotSet("handoff_question", None),
        ]
