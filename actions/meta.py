"""Questions about the answers themselves: where a fact comes from, and an answer in another form."""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import CareerAction, ask_career, career_events, join_words, topic_label
from bot.knowledge import Career


class ActionAnswerSource(CareerAction):
    """ "Where does this come from?": the source of the last answer's topic, or every source of the career.

    Each answer already ends with its source; this names it again on request, with
    its date and address, so that the visitor can check it.
    """

    def name(self) -> Text:
        return "action_answer_source"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from actions.followup import topic_action

        career = self.career(tracker)
        if career is None:
            ask_career(dispatcher, self.knowledge, tracker)
            return []
        topic = self._answered_topic(tracker, career)
        if topic is not None:
            action = topic_action(topic, self._knowledge)
            sections = tuple(s for s in action.needed_sections() if career.covers(s))
            addresses = self._addresses(career, sections)
            dispatcher.utter_message(
                response="utter_answer_source_at" if addresses else "utter_answer_source",
                topic=topic_label(domain, topic),
                career_plural=career.plural,
                source=self.cite(domain, action.citations(career, sections)),
                addresses=addresses,
            )
        else:
            sections = tuple(career.sections)
            addresses = self._addresses(career, sections)
            dispatcher.utter_message(
                response="utter_answer_sources_at" if addresses else "utter_answer_sources",
                career_plural=career.plural,
                source=self.cite(domain, [(career.source_of(s), career.as_of(s)) for s in sections]),
                addresses=addresses,
            )
        return career_events(tracker, self.knowledge, career)

    @staticmethod
    def _answered_topic(tracker: Tracker, career: Career) -> Optional[str]:
        from actions.followup import TOPIC_ACTIONS

        topic = tracker.get_slot("topic")
        for action_class in TOPIC_ACTIONS:
            if action_class.topic == topic:
                sections = action_class.sections or (action_class.topic,)
                return str(topic) if any(career.covers(s) for s in sections) else None
        return None

    @staticmethod
    def _addresses(career: Career, sections: tuple) -> str:
        urls: List[str] = []
        for section in sections:
            source = career.source_of(section)
            for url in (source.url, source.cited_in.url if source.cited_in else None):
                if url and url not in urls:
                    urls.append(url)
        return join_words(urls, "and")


class ActionAnswerInForm(CareerAction):
    """ "Briefly", "in bullet points", "in simple words": the last topic's answer again.

    Every answer is already a few short lines or a bulleted list from the
    knowledge, so the form asked for is the form it has; with no topic yet, the
    overview.
    """

    def name(self) -> Text:
        return "action_answer_in_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from actions.followup import topic_action

        topic = str(tracker.get_slot("topic") or "overview")
        try:
            action = topic_action(topic, self._knowledge)
        except KeyError:
            action = topic_action("overview", self._knowledge)
        return action.respond(dispatcher, tracker, domain)
