"""Greeting, help and fallback: they name the career, so they come from the knowledge too."""

from __future__ import annotations

import json
from typing import Any, ClassVar, Dict, Iterator, List, Optional, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import (
    CareerAction,
    answer_other_job,
    ask_career,
    capitalise,
    covered_topics,
    fill,
    join_words,
    named_careers,
    other_job,
)
from actions.careers import careers_named
from actions.feedback import answer_just_given, record_feedback
from bot.clarify import FALLBACK_INTENT, clarification_pair
from bot.context import compared_topic, compares, compares_last_answer, topic_of


class CareerResponseAction(CareerAction):
    """Sends one domain response with the career's name filled in.

    In a conversation with no career yet (none named, no page, no default),
    `site_response` instead names the site's careers, with a button for each.
    """

    response: ClassVar[str]
    site_response: ClassVar[str]
    # For a career whose sources miss a topic `response` promises: names what they cover.
    partial_response: ClassVar[Optional[str]] = None

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        career = self.career(tracker)
        if career is None:
            self.utter_site(dispatcher, domain, self.site_response)
            return []
        if self.partial_response and not all(career.covers(topic) for topic in PROMISED_TOPICS):
            covered = [topic_label(domain, f"ask_{s}") for s in covered_topics(domain, career)]
            dispatcher.utter_message(
                response=self.partial_response,
                career=career.name,
                career_plural=career.plural,
                covered=join_words(covered, "and"),
            )
            return []
        dispatcher.utter_message(response=self.response, career=career.name)
        return []

    def utter_site(self, dispatcher: CollectingDispatcher, domain: DomainDict, response: str) -> None:
        careers, buttons = careers_named(domain, self.knowledge)
        dispatcher.utter_message(response=response, careers=careers, buttons=buttons)


# The topics utter_greet and utter_help name.
PROMISED_TOPICS = (
    "overview",
    "duties",
    "hours",
    "work_environment",
    "pay",
    "education",
    "licensing",
    "qualities",
    "training",
    "career_development",
    "advancement",
    "employers",
    "outlook",
)


class ActionGreet(CareerResponseAction):
    response = "utter_greet"
    site_response = "utter_greet_site"
    partial_response = "utter_greet_partial"

    def name(self) -> Text:
        return "action_greet"


class ActionHelp(CareerResponseAction):
    response = "utter_help"
    site_response = "utter_help_site"
    partial_response = "utter_help_partial"

    def name(self) -> Text:
        return "action_help"


class ActionFallback(CareerResponseAction):
    """Off-topic or not understood: say what the bot can answer, never a fact.

    A question about another job is told so, naming that job. A turn the
    classifier found torn between two topics gets a clarifying question with a
    button for each (Rasa's two-stage fallback, bot.clarify decides when). The
    second plain fallback in a row offers a person instead.
    """

    response = "utter_fallback"
    site_response = "utter_fallback_site"

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from actions.followup import answer_in_context, topic_action, topic_action_for_intent

        career = self.career(tracker)
        job = other_job(tracker, career, self.knowledge)
        message = tracker.latest_message or {}
        text = str(message.get("text") or "")
        if job and career is not None and compares(text):
            # "How is this different from a bookkeeper?": this career's side of it (the topic the
            # message ranks, else the one the conversation is on, else what the job is), and that
            # the other job is not covered.
            intent = compared_topic(message.get("intent_ranking") or [])
            action = topic_action_for_intent(intent, self._knowledge) if intent else None
            if action is not None:
                return action.respond(dispatcher, tracker, domain)
            in_context = answer_in_context(dispatcher, tracker, domain, self._knowledge)
            if in_context is not None:
                return in_context
            last = tracker.get_slot("topic") if compares_last_answer(text) else None
            return topic_action(str(last or "overview"), self._knowledge).respond(dispatcher, tracker, domain)
        if job:
            answer_other_job(dispatcher, domain, self.knowledge, job)
            return []
        if career is not None and compares(text) and named_careers(tracker, self.knowledge):
            # "How's that different from a loan officer?": a career the site has a guide for, on the
            # topic the message ranks, else the one the conversation is on, else what the job is.
            intent = compared_topic(message.get("intent_ranking") or [])
            topic = topic_of(intent) if intent else tracker.get_slot("topic")
            return topic_action(str(topic or "overview"), self._knowledge).respond(dispatcher, tracker, domain)
        if career is not None:
            in_context = answer_in_context(dispatcher, tracker, domain, self._knowledge)
            if in_context is not None:
                return in_context
        pair = None
        if (message.get("intent") or {}).get("name") == FALLBACK_INTENT:
            pair = clarification_pair(message.get("intent_ranking") or [])
        if pair:
            dispatcher.utter_message(response="utter_clarify", **clarify_values(domain, pair, message))
            return []
        again = previous_bot_action(tracker) == self.name()
        if career is None:
            self.utter_site(dispatcher, domain, "utter_fallback_offer_handoff_site" if again else self.site_response)
            return []
        response = "utter_fallback_offer_handoff" if again else self.response
        dispatcher.utter_message(response=response, career=career.name)
        return []


# Entities a clarifying button carries on, so that its answer keeps them ("senior" pay).
_CARRIED_ENTITIES = ("job_level", "us_state", "degree_field")


def topic_label(domain: DomainDict, intent: str) -> str:
    """How the bot names a topic to people ("the pay"): the domain's utter_topic_<intent>."""
    return fill(domain, f"utter_topic_{intent}")


def clarify_values(domain: DomainDict, pair: Tuple[str, str], message: Dict[str, Any]) -> Dict[str, str]:
    entities: Dict[str, Any] = {}
    for entity in message.get("entities") or []:
        if entity.get("entity") in _CARRIED_ENTITIES and entity.get("value"):
            entities.setdefault(entity["entity"], entity["value"])
    values: Dict[str, str] = {}
    for key, intent in zip(("first", "second"), pair, strict=True):
        label = topic_label(domain, intent)
        values[key] = label
        values[f"{key}_title"] = capitalise(label)
        values[f"{key}_payload"] = f"/{intent}" + (json.dumps(entities) if entities else "")
    return values


# Actions Rasa runs around every turn; they say nothing about the conversation.
_HOUSEKEEPING = {"action_listen", "action_extract_slots", "action_session_start"}


def _previous_turn(tracker: Tracker) -> Iterator[Dict[str, Any]]:
    """The events between the previous user message and the current one, the latest first."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return
            seen_user = True
        elif seen_user:
            yield event


def previous_bot_action(tracker: Tracker) -> "str | None":
    """The last action the bot ran before the current user message."""
    for event in _previous_turn(tracker):
        if event.get("event") == "action" and event.get("name") not in _HOUSEKEEPING:
            return event.get("name")
    return None


class ActionAnythingElse(CareerResponseAction):
    response = "utter_anything_else"
    site_response = "utter_ask_career"

    def name(self) -> Text:
        return "action_anything_else"


def previous_prompt(tracker: Tracker) -> "str | None":
    """The response the bot ended on before the current user message ("utter_ask_feedback")."""
    for event in _previous_turn(tracker):
        if event.get("event") == "bot":
            return (event.get("metadata") or {}).get("utter_action")
    return None


class ActionAnswerYesNo(CareerAction):
    """A typed yes or no does what the buttons of the bot's last question do.

    After "Was this helpful?" it is the Yes/No feedback; after "ask a person
    instead?" a yes starts the handoff as the *Talk to a person* button does.
    Right after an answer a no rates it not helpful. Anywhere else a yes
    invites the next question and a no closes politely.
    """

    def name(self) -> Text:
        return "action_answer_yes_no"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        yes = (tracker.latest_message.get("intent") or {}).get("name") == "affirm"
        prompt = previous_prompt(tracker)
        if prompt == FEEDBACK_PROMPT:
            return record_feedback(dispatcher, tracker, helpful=yes)
        # A bare "no" right after an answer can only be about that answer: it did not
        # help. A bare "yes" there is an acknowledgement, not a rating, and gets the
        # invitation below.
        if not yes and answer_just_given(tracker):
            return record_feedback(dispatcher, tracker, helpful=False)
        if prompt == HANDOFF_OFFER and yes:
            return [FollowupAction(REQUEST_HUMAN)]
        if yes:
            career = self.career(tracker)
            if career is None:
                ask_career(dispatcher, self.knowledge, tracker)
                return []
            dispatcher.utter_message(response="utter_anything_else", career=career.name)
        else:
            dispatcher.utter_message(response="utter_ok")
        return []


FEEDBACK_PROMPT = "utter_ask_feedback"
HANDOFF_OFFER = "utter_fallback_offer_handoff"
REQUEST_HUMAN = "action_request_human"
