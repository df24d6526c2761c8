"""What the job is, who it suits, the skills it needs and how to get into it."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Composed, Mentions, TopicAction, bullets, join_words
from actions.development import training_values
from bot.knowledge import Career


class ActionAnswerOverview(TopicAction):
    topic = "overview"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        section = career.section("overview")
        return "utter_answer_overview", {
            "summary": section["summary"],
            "background": join_words(section.get("background", []), "or"),
        }


class ActionAnswerQualities(TopicAction):
    topic = "qualities"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        return "utter_answer_qualities", {"qualities": bullets(career.section("qualities")["items"])}


class ActionAnswerSuitability(TopicAction):
    topic = "suitability"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        return "utter_answer_suitability", {
            "traits": join_words(career.section("suitability")["traits"], "and"),
        }


class ActionAnswerHowToBecome(TopicAction):
    """The path in order, put together from the sections that describe each step."""

    topic = "how_to_become"
    sections = ("education", "licensing", "training")

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        education = career.section("education")
        return "utter_answer_how_to_become", dict(
            training_values(career),
            degree=education["degree"],
            fields=join_words(education["fields"], "or"),
            licence=career.section("licensing")["licence"],
        )
