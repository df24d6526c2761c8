"""The work itself: duties, hours, where it happens and who hires."""

from __future__ import annotations

from actions.base import TopicAction, bullets


class ActionAnswerDuties(TopicAction):
    topic = "duties"

    def compose(self, domain, career, mentions, tracker):
        return "utter_answer_duties", {"duties": bullets(career.section("duties")["items"])}


class ActionAnswerHours(TopicAction):
    topic = "hours"

    def compose(self, domain, career, mentions, tracker):
        hours = career.section("hours")
        return "utter_answer_hours", {key: hours[key] for key in ("start", "end", "first_day", "last_day")}


class ActionAnswerWorkEnvironment(TopicAction):
    topic = "work_environment"

    def compose(self, domain, career, mentions, tracker):
        section = career.section("work_environment")
        return "utter_answer_work_environment", {"setting": section["setting"], "travel": section["travel"]}


class ActionAnswerEmployers(TopicAction):
    topic = "employers"

    def compose(self, domain, career, mentions, tracker):
        return "utter_answer_employers", {"employers": bullets(career.section("employers")["items"])}
