"""What the job is, who it suits, the skills it needs and how to get into it."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Composed, Mentions, TopicAction, bullets, fill, join_words
from actions.careers import related_buttons
from actions.development import training_values
from bot.knowledge import Career


class ActionAnswerOverview(TopicAction):
    topic = "overview"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        section = career.section("overview")
        background = section.get("background", [])
        values = {
            "summary": section["summary"],
            # Only a source that names helpful backgrounds says how easy it is to start.
            "background": fill(domain, "utter_overview_background", background=join_words(background, "or"))
            if background
            else "",
        }
        related = related_buttons(self.knowledge, career)
        if related:
            first, *others = related
            return "utter_answer_overview_related", dict(
                values, related_title=first["title"], related_payload=first["payload"], buttons=others
            )
        return "utter_answer_overview", values


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
