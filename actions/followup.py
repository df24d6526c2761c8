"""Follow-ups that lean on the previous answer: "and the managers?", "what about in Ohio?"."""

from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import (
    CareerAction,
    Mentions,
    TopicAction,
    answer_other_job,
    ask_career,
    career_events,
    named_careers,
    other_job,
)
from actions.careers import answer_side_by_side, compared_careers
from actions.development import (
    ActionAnswerAdvancement,
    ActionAnswerCareerDevelopment,
    ActionAnswerCertification,
    ActionAnswerOutlook,
    ActionAnswerTraining,
)
from actions.education import ActionAnswerEducation, ActionAnswerNoDegree
from actions.feedback import ask_feedback_after, mark_answer
from actions.licensing import ActionAnswerLicensing, ActionAnswerLicensingRequirements
from actions.overview import (
    ActionAnswerHowToBecome,
    ActionAnswerOverview,
    ActionAnswerQualities,
    ActionAnswerSuitability,
)
from actions.pay import ActionAnswerPay
from actions.work import ActionAnswerDuties, ActionAnswerEmployers, ActionAnswerHours, ActionAnswerWorkEnvironment
from bot.context import (
    SHORT,
    about_the_thing,
    intent_of,
    only_names,
    reconsider,
    resolve,
    topic_of,
    words,
)
from bot.knowledge import KnowledgeBase, normalise
from bot.settings import Settings

TOPIC_ACTIONS = (
    ActionAnswerOverview,
    ActionAnswerDuties,
    ActionAnswerHours,
    ActionAnswerWorkEnvironment,
    ActionAnswerPay,
    ActionAnswerEducation,
    ActionAnswerNoDegree,
    ActionAnswerLicensing,
    ActionAnswerLicensingRequirements,
    ActionAnswerQualities,
    ActionAnswerCareerDevelopment,
    ActionAnswerCertification,
    ActionAnswerTraining,
    ActionAnswerEmployers,
    ActionAnswerAdvancement,
    ActionAnswerOutlook,
    ActionAnswerSuitability,
    ActionAnswerHowToBecome,
)


def topic_action(topic: str, knowledge: Optional[KnowledgeBase] = None) -> TopicAction:
    for action_class in TOPIC_ACTIONS:
        if action_class.topic == topic:
            return action_class(knowledge)
    raise KeyError(topic)


def topic_action_for_intent(intent: str, knowledge: Optional[KnowledgeBase] = None) -> Optional[TopicAction]:
    """The action that answers a topic intent (data/rules/topics.yml), or None."""
    topic = topic_of(intent)
    try:
        return topic_action(topic, knowledge) if topic else None
    except KeyError:
        return None


# Topics whose answer depends on a US state: a state follow-up re-answers them.
STATE_TOPICS = ("licensing", "licensing_requirements")

# "And if I don't have one?": the topic that answers lacking what was just discussed.
WITHOUT = {
    "education": "no_degree",
    "no_degree": "no_degree",
    "licensing": "licensing_requirements",
    "licensing_requirements": "licensing_requirements",
}


def answer_in_context(
    dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, knowledge: Optional[KnowledgeBase] = None
) -> Optional[List[EventType]]:
    """Answers the topic the latest message means in the conversation (bot.context); None if it points nowhere."""
    if not Settings.from_env().read_in_context:
        return None
    message = tracker.latest_message or {}
    intent = resolve(
        str(message.get("text") or ""),
        message.get("intent") or {},
        message.get("intent_ranking") or [],
        tracker.get_slot("topic"),
    )
    action = topic_action_for_intent(intent, knowledge) if intent else None
    return action.respond(dispatcher, tracker, domain) if action is not None else None


def read_in_context(
    tracker: Tracker, action: TopicAction, knowledge: Optional[KnowledgeBase] = None
) -> Optional[TopicAction]:
    """Another topic's action, when the conversation reads the message as that topic; else None."""
    if not Settings.from_env().read_in_context:
        return None
    message = tracker.latest_message or {}
    text = str(message.get("text") or "")
    if text.startswith("/"):
        return None  # a button's payload says what it means
    last = tracker.get_slot("topic")
    if last == "pay" and action.topic != "pay" and len(words(text)) <= SHORT and Mentions.latest(tracker).job_level:
        # "And the boss level?", "the bosses?" after the pay: only pay has levels.
        return topic_action("pay", knowledge)
    if last and last != action.topic:
        found = normalise(text).split()
        if only_names(found, action.knowledge.name_spans(found)):
            # "Ok, what about mortgage servicing specialists then?": the last topic, for that career.
            return topic_action(str(last), knowledge)
    thing = about_the_thing(text, last)
    if thing and thing != intent_of(action.topic):
        # "How much does it cost?" after the certification: the certificate's, not the job's pay.
        return topic_action_for_intent(thing, knowledge)
    intent = reconsider(text, message.get("intent") or {}, message.get("intent_ranking") or [], last)
    return topic_action_for_intent(intent, knowledge) if intent else None


class ActionAnswerFollowup(CareerAction):
    """Re-answers the last topic in the light of what the follow-up names.

    A job level only has content under pay, a field of study only under
    education, and a state only under licensing, so those decide the topic;
    anything else the knowledge does not cover gets an honest "not covered".
    """

    def name(self) -> Text:
        return "action_answer_followup"

    def topic_action(self, topic: str) -> TopicAction:
        return topic_action(topic, self._knowledge)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        career = self.career(tracker)
        job = other_job(tracker, career, self.knowledge)
        if job:
            answer_other_job(dispatcher, domain, self.knowledge, job)
            return []
        if career is None:
            ask_career(dispatcher, self.knowledge, tracker)
            return []
        topic = self.choose_topic(tracker, self.knowledge)
        compared = compared_careers(tracker, self.knowledge)
        if topic is not None and compared:
            # "And for tellers and loan officers?": the last topic, side by side.
            return answer_side_by_side(self.topic_action(topic), dispatcher, tracker, domain, compared)
        if topic is None:
            mentions = Mentions.latest(tracker)
            if mentions.state:
                last = tracker.get_slot("topic")
                if last:
                    # "What about in Texas?" after the pay: that the source is US-wide, then its answer.
                    dispatcher.utter_message(response="utter_state_not_covered_then", state=mentions.state)
                    return self.topic_action(str(last)).respond(dispatcher, tracker, domain)
                dispatcher.utter_message(response="utter_state_not_covered", state=mentions.state)
                return career_events(tracker, self.knowledge, career)
            # Nothing named: the topic the conversation is on, if the message points back to it.
            in_context = answer_in_context(dispatcher, tracker, domain, self._knowledge)
            if in_context is not None:
                return in_context
            dispatcher.utter_message(response="utter_followup_unclear")
            return career_events(tracker, self.knowledge, career)
        action = self.topic_action(topic)
        start = len(dispatcher.messages)
        action.answer(dispatcher, domain, career, Mentions.latest(tracker), tracker)
        ask_feedback_after(dispatcher, tracker, mark_answer(dispatcher, start, topic, career.id))
        return [SlotSet("topic", topic), *career_events(tracker, self.knowledge, career)]

    @staticmethod
    def choose_topic(tracker: Tracker, knowledge: Optional[KnowledgeBase] = None) -> "str | None":
        last = tracker.get_slot("topic")
        if (tracker.latest_message.get("intent") or {}).get("name") == "ask_without":
            return WITHOUT.get(last)
        mentions = Mentions.latest(tracker)
        if mentions.job_level:
            return "pay"
        if mentions.degree_field:
            return "education"
        if mentions.state:
            return last if last in STATE_TOPICS else None
        # "And for loan officers?": the last topic, for the career the follow-up names;
        # with no topic yet, what that career is.
        if knowledge is not None and named_careers(tracker, knowledge):
            return str(last) if last else "overview"
        return None
