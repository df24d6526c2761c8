"""Education: the degree and fields, a named field, and the way in without a degree."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Composed, Mentions, TopicAction, join_words
from bot.knowledge import Career


class ActionAnswerEducation(TopicAction):
    topic = "education"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        education = career.section("education")
        values = {"degree": education["degree"], "fields": join_words(education["fields"], "or")}
        if not mentions.degree_field:
            return "utter_answer_education", values
        listed = career.degree_field(mentions.degree_field)
        if listed:
            return "utter_answer_education_field_listed", dict(values, field=listed)
        return "utter_answer_education_field_not_listed", dict(values, field=mentions.degree_field.strip().title())


class ActionAnswerNoDegree(TopicAction):
    topic = "no_degree"
    sections = ("no_degree", "education")

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        section = career.section("no_degree")
        return "utter_answer_no_degree", {
            "degree": career.section("education")["degree"],
            "experience": join_words(section["experience"], "or"),
            "roles": join_words(section["associate_degree_entry_roles"], "or"),
        }
