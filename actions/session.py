"""The project's session start: what a returning visitor's new session keeps.

Rasa's own `action_session_start` with `carry_over_slots_to_new_session`
writes every slot event of the old session again, with the new session's
time: old answers, votes and handoffs would count again in the period the
visitor returns, and a handoff form left open would take the next question
for its own. Here the new session keeps only the visitor's context, for
follow-ups ("and in Ohio?"): the career, the last topic, job level, state
and field of study. A handoff form left after the address was given is recorded as
abandoned (bot/handoff/), and nothing of it carries over.
"""

from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.handoff import HANDOFF_FORM, abandoned, record_event, store
from bot.settings import Settings

CONTEXT_SLOTS = ("career", "topic", "job_level", "us_state", "degree_field")


class ActionSessionStart(Action):
    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = []
        # The tracker still holds the old session here (nothing, for a new visitor).
        if (tracker.active_loop or {}).get("name") == HANDOFF_FORM:
            settings = Settings.from_env()
            left = abandoned(tracker, settings)
            if left is not None:
                await store(settings, left)
                events.append(record_event(left, "session ended"))
        events.append(SessionStarted())
        events += [
            SlotSet(name, tracker.get_slot(name)) for name in CONTEXT_SLOTS if tracker.get_slot(name) is not None
        ]
        events.append(ActionExecuted("action_listen"))
        return events
