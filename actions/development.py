"""Growing in the career: training, further study, certification, advancement, outlook."""

from __future__ import annotations

from typing import Any, Dict, List

from rasa_sdk import Tracker
from rasa_sdk.types import DomainDict

from actions.base import Citation, Composed, Mentions, TopicAction, bullets, capitalise, fill, join_words
from bot.knowledge import Career


def training_values(career: Career) -> Dict[str, Any]:
    """The on-the-job training placeholders, shared by every answer that mentions it."""
    training = career.section("training")
    return {"when_cap": capitalise(training["when"]), "provider": training["provider"], "content": training["content"]}


class ActionAnswerTraining(TopicAction):
    topic = "training"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        return "utter_answer_training", training_values(career)


def _certification_lines(domain: DomainDict, certifications: List[Dict[str, Any]]) -> str:
    lines = []
    for cert in certifications:
        short = f" ({cert['body_short']})" if cert.get("body_short") else ""
        membership = ""
        if cert["membership"]:
            membership = fill(domain, "utter_membership_note", body_short=cert.get("body_short") or cert["body"])
        lines.append(
            fill(
                domain,
                "utter_certification_line",
                name=cert["name"],
                body=cert["body"],
                short=short,
                membership=membership,
            )
        )
    return "\n".join(lines)


class ActionAnswerCareerDevelopment(TopicAction):
    topic = "career_development"
    sections = ("career_development", "training")

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        development = career.section("career_development")
        options = bullets(development["further_education"])
        options += "\n" + _certification_lines(domain, development["certifications"])
        return "utter_answer_career_development", dict(training_values(career), options=options)


class ActionAnswerCertification(TopicAction):
    topic = "certification"
    sections = ("career_development",)

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        certifications = career.section("career_development")["certifications"]
        return "utter_answer_certification", {"certifications": _certification_lines(domain, certifications)}


class ActionAnswerAdvancement(TopicAction):
    topic = "advancement"

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        advancement = career.section("advancement")
        own = advancement.get("own_business")
        return "utter_answer_advancement", {
            "requires": advancement["requires"],
            "roles": join_words(advancement["roles"], "or a"),
            "own_business": fill(domain, "utter_own_business_note", own_business=own) if own else "",
        }


class ActionAnswerOutlook(TopicAction):
    topic = "outlook"

    def citations(self, career: Career, sections: tuple) -> List[Citation]:
        note = career.section("outlook").get("note") if career.covers("outlook") else None
        source = career.sources[note["source"]] if note else None
        return super().citations(career, sections) + ([(source, source.as_of)] if source else [])

    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        outlook = career.section("outlook")
        note = outlook.get("note")
        return "utter_answer_outlook", {
            "period_start": outlook["period_start"],
            "period_end": outlook["period_end"],
            "projection_source": career.source_of("outlook").name,
            "assessment": outlook["assessment"],
            "growth_percent": outlook["growth_percent"],
            "scope": outlook["scope"],
            "note": note["text"] if note else "",
        }
