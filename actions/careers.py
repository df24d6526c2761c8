"""Several careers on one site: which careers there are, comparisons, related careers.

A comparison answers each career as its own source gives it, with that
source and its date, one after the other. It never computes a difference:
two careers' figures usually come from different sources and years (a
Payscale range cited in 2014, a BLS median of May 2021), and the reply says so.
"""

from __future__ import annotations

from typing import Any, Dict, List, Set, Text, Tuple

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.base import (
    CareerAction,
    Mentions,
    TopicAction,
    capitalise,
    career_button,
    career_events,
    career_mentions,
    fill,
    is_goal,
    join_words,
    named_careers,
    site_careers,
    topic_label,
)
from actions.feedback import ask_feedback_after, mark_answer
from bot.knowledge import Career, KnowledgeBase

# A reply names the site's careers, each with a button, up to this many; a site with
# more (the benchmark serves 300) gets their number and a button that lists them.
MAX_NAMED = 6
Button = Dict[str, Any]


def overview_button(career: Career) -> Button:
    """A button that asks what this career is, whichever career the conversation was on."""
    return career_button(career, "ask_overview")


def careers_named(domain: DomainDict, knowledge: KnowledgeBase) -> Tuple[str, List[Button]]:
    """The site's careers for a reply ("loan officers, ... and tellers") and a button for each.

    On a site with many careers: their number, and one button that lists them.
    """
    careers = site_careers(knowledge)
    if len(careers) > MAX_NAMED:
        title = fill(domain, "utter_list_careers_title")
        return fill(domain, "utter_careers_count", count=len(careers)), [{"title": title, "payload": "/list_careers"}]
    return join_words([career.plural for career in careers], "and"), [overview_button(c) for c in careers]


def related_buttons(knowledge: KnowledgeBase, career: Career) -> List[Button]:
    """A button for each related career the site has a guide for (a related name alone gets none)."""
    buttons: List[Button] = []
    for related in career.related:
        other = knowledge.get(related.career_id)
        if other is not None and other is not career:
            buttons.append(overview_button(other))
    return buttons


def compared_careers(tracker: Tracker, knowledge: KnowledgeBase) -> List[Career]:
    """The careers a question compares: two or more named, none of them the goal of "become".

    "Could a teller become a loan officer?" names two careers but asks about
    the one to become (named_careers puts it first), so it is no comparison.
    """
    named = named_careers(tracker, knowledge)
    if len(named) < 2:
        return []
    text = str((tracker.latest_message or {}).get("text") or "")
    if any(is_goal(before) for _, before in career_mentions(text, knowledge)):
        return []
    return named


def refuse_other_job(dispatcher: CollectingDispatcher, domain: DomainDict, knowledge: KnowledgeBase, job: str) -> None:
    """A question about a job the site has no guide for: named, with the careers the site has."""
    careers, buttons = careers_named(domain, knowledge)
    dispatcher.utter_message(
        response="utter_other_career",
        careers=careers,
        other_career=job,
        buttons=buttons if len(knowledge.careers) > 1 else [],
    )


def answer_side_by_side(
    action: TopicAction,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    domain: DomainDict,
    careers: List[Career],
    ask_feedback: bool = True,
) -> List[EventType]:
    """One topic for each named career, in the order named, each part with its own source and date.

    Each part is the answer the career would get alone (its figures, its
    statements, or that its source does not cover the topic), as text: the
    parts' own buttons would be about one career only, so the reply offers
    a button per compared career instead.
    """
    mentions = Mentions.latest(tracker)
    parts: List[str] = []
    citations: Set[str] = set()
    answered = 0
    for career in careers:
        scratch = CollectingDispatcher()
        action.answer(scratch, domain, career, mentions, tracker)
        parts.append("\n\n".join(_text(domain, message) for message in scratch.messages))
        # Each source with its date, as the parts cite them: one label means one source and year.
        cited = {action.cite(domain, [c]) for c in action.citations(career, action.needed_sections())}
        if cited:
            answered += 1
            citations.update(cited)
    # A note only where two or more careers are answered: a part that says its source
    # does not cover the topic has nothing to compare.
    note = ""
    if answered > 1:
        note = "\n\n" + fill(
            domain, "utter_compare_different_sources" if len(citations) > 1 else "utter_compare_same_source"
        )
    start = len(dispatcher.messages)
    dispatcher.utter_message(
        response="utter_answer_compare",
        topic_cap=capitalise(topic_label(domain, action.topic)),
        parts="\n\n".join(parts),
        note=note,
        buttons=[overview_button(career) for career in careers],
    )
    answer_id = mark_answer(dispatcher, start, action.topic, careers[0].id)
    # Every career compared, for the report: `career` alone names the first.
    dispatcher.messages[start]["careers"] = [career.id for career in careers]
    if ask_feedback:
        ask_feedback_after(dispatcher, tracker, answer_id)
    return [SlotSet("topic", action.topic), *career_events(tracker, action.knowledge, careers[0])]


def _text(domain: DomainDict, message: Dict[str, Any]) -> str:
    """A message an action composed, as the text its response gives (without its buttons)."""
    values = {key: value for key, value in message.items() if key != "response"}
    return fill(domain, str(message["response"]), **values) if message.get("response") else str(message.get("text"))


class ActionListCareers(CareerAction):
    """Which careers can you tell me about? Every career of the knowledge, each with a button."""

    def name(self) -> Text:
        return "action_list_careers"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        careers = site_careers(self.knowledge)
        if len(careers) == 1:
            dispatcher.utter_message(response="utter_list_careers_one", careers=careers[0].plural)
            return []
        lines = "\n".join(fill(domain, "utter_career_line", career_plural_cap=capitalise(c.plural)) for c in careers)
        dispatcher.utter_message(
            response="utter_list_careers",
            careers=lines,
            example=join_words([career.plural for career in careers[:2]], "and"),
            buttons=[overview_button(c) for c in careers] if len(careers) <= MAX_NAMED else [],
        )
        return []
