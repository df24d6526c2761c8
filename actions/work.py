"""The work itself: duties, hours, where it happens and who hires."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Composed, Mentions, TopicAction, bullets
from bot.knowledge import Career


class ActionAnswerDuties(TopicAction):
    topic = "duties"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        return "utter_answer_duties", {"duties": bullets(career.section("duties")["items"])}


class ActionAnswerHours(TopicAction):
    topic = "hours"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        hours = career.section("hours")
        return "utter_answer_hours", {key: hours[key] for key in ("start", "end", "first_day", "last_day")}


class ActionAnswerWorkEnvironment(TopicAction):
    topic = "work_environment"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        section = career.section("work_environment")
        return "utter_answer_work_environment", {"setting": section["setting"], "travel": section["travel"]}


class ActionAnswerEmployers(TopicAction):
    topic = "employers"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        return "utter_answer_employers", {"employers": bullets(career.section("employers")["items"])}
