"""Licensing: which licence, and what it takes; never a state rule the source lacks."""

from __future__ import annotations

from typing import Optional

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Composed, Mentions, TopicAction, bullets
from bot.knowledge import Career
from bot.vocab import resolve_state


def _state(mentions: Mentions, tracker: Tracker) -> Optional[str]:
    """The state named now, or earlier in the conversation."""
    return mentions.state or resolve_state(tracker.get_slot("us_state"))


class ActionAnswerLicensing(TopicAction):
    topic = "licensing"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        licensing = career.section("licensing")
        values = {
            "licence": licensing["licence"],
            "applies_to": licensing["applies_to"],
            "country": career.data["career"]["country"],
            "requirements": bullets(licensing["general_requirements"]),
        }
        state = _state(mentions, tracker)
        if state and licensing["varies_by_state"]:
            return "utter_answer_licensing_state", dict(values, state=state)
        return "utter_answer_licensing", values


class ActionAnswerLicensingRequirements(TopicAction):
    topic = "licensing_requirements"
    sections = ("licensing",)

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        licensing = career.section("licensing")
        values = {
            "licence": licensing["licence"],
            "requirements": bullets(licensing["general_requirements"]),
        }
        state = _state(mentions, tracker)
        if state and licensing["varies_by_state"]:
            return "utter_answer_licensing_state", dict(values, state=state)
        return "utter_answer_licensing_requirements", values
