"""What every career action shares: the knowledge, which career a message is about, citations.

Actions hold no facts and no sentences: the facts come from the knowledge
layer, the sentences from the domain's responses. Python only picks the
response and fills its placeholders.

One deployment serves every career file of the knowledge directory. Which
career a message is about, first match wins (`choose_career`):

1. a career the message names ("loan officers", or a button's `career` entity);
2. the page's career, when the visitor moved to another career's page since
   their previous message (the widget keeps one conversation across pages);
3. the conversation's current career (the `career` slot), so follow-ups stay;
4. the page's career (`metadata.context.career`: the widget's data-context);
5. the deployment's default career (CAREERBOT_CAREER);
6. none: the action asks which career, with a button for each.
"""

from __future__ import annotations

import abc
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Iterable, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.context import compares, opens_back
from bot.knowledge import Career, KnowledgeBase, PayLevel, Source, default_knowledge, normalise
from bot.vocab import background_cues, occupation_plural, resolve_state, this_career_cues

# What a topic action's compose() returns: the response to send and its placeholder values.
Composed = Tuple[str, Dict[str, Any]]
# A source and the date of the facts taken from it ("May 2021"), if the knowledge gives one.
Citation = Tuple[Source, Optional[str]]

CURRENCY_SYMBOLS = {"USD": "$"}


def fill(domain: DomainDict, response: str, **values: Any) -> str:
    """A domain response's first text, filled in: for pieces an action repeats or nests."""
    try:
        text = domain["responses"][response][0]["text"]
    except (KeyError, IndexError, TypeError):
        raise LookupError(f"domain response {response!r} with a text is missing") from None
    return text.format(**values)


def bullets(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def join_words(items: List[str], conjunction: str) -> str:
    """'a', 'a or b', 'a, b or c'."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def money(amount: float, currency: str) -> str:
    """$63,380 for whole amounts, $30.47 for hourly ones with cents."""
    text = f"{int(amount):,}" if float(amount).is_integer() else f"{amount:,.2f}"
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{text}" if symbol else f"{text} {currency}"


def capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Mentions:
    """What the user's latest message named, as raw entity text."""

    # Every job level named, longest first; of equal length, the later one first.
    job_levels: Tuple[str, ...] = ()
    us_state: Optional[str] = None
    degree_field: Optional[str] = None
    # Another job the question is about ("how many hours do lawyers work?"); not one
    # that is only the visitor's background ("I'm a nurse, ...").
    other_career: Optional[str] = None

    @classmethod
    def latest(cls, tracker: Tracker) -> "Mentions":
        message = tracker.latest_message or {}
        entities = [e for e in message.get("entities") or [] if e.get("value")]

        def first(entity: str) -> Optional[str]:
            return next((str(e["value"]) for e in entities if e.get("entity") == entity), None)

        levels = [(i, e) for i, e in enumerate(entities) if e.get("entity") == "job_level"]
        # Longest match first; between equals the later word, the head of an English noun
        # phrase: "senior managers" are managers, "entry-level managers" too.
        levels.sort(key=lambda pair: (-len(str(pair[1]["value"]).split()), -pair[1].get("start", pair[0])))
        text = str(message.get("text") or "")
        others = [e for e in entities if e.get("entity") == "other_career" and not _is_background(text, e)]
        return cls(
            tuple(str(e["value"]) for _, e in levels),
            first("us_state"),
            first("degree_field"),
            str(others[0]["value"]) if others else None,
        )

    @property
    def job_level(self) -> Optional[str]:
        return self.job_levels[0] if self.job_levels else None

    def level(self, career: Career) -> Optional[PayLevel]:
        """The pay level the message names: the first mention, in the order above, that is one."""
        return next(filter(None, (career.pay_level(m) for m in self.job_levels)), None)

    @property
    def state(self) -> Optional[str]:
        return resolve_state(self.us_state)


def _words(text: str) -> List[str]:
    return re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("’", "'")).split()


def _is_background(text: str, entity: Dict[str, Any]) -> bool:
    """Whether the job is the visitor's own ("I'm a nurse"), from the words just before it."""
    start = entity.get("start")
    if not isinstance(start, int) or start > len(text):
        return False
    before = _words(text[:start])
    while before and before[-1] in ("a", "an"):
        before = before[:-1]
    return any(before[-len(cue) :] == cue for cue in (_words(c) for c in background_cues()) if cue)


def names_career(text: str, career: Career) -> bool:
    """Whether the message names this career itself ("can a teacher become a mortgage specialist?")."""
    words = " ".join(_words(text))
    return any(
        re.search(rf"\b{re.escape(' '.join(_words(name)))}s?\b", words)
        for name in (career.name, career.plural, *career.aliases, *this_career_cues())
    )


def other_job(tracker: Tracker, career: Optional[Career], knowledge: Optional[KnowledgeBase] = None) -> Optional[str]:
    """Another job the latest message asks about, one the site has no career file for, named for a reply."""
    mention = Mentions.latest(tracker).other_career
    text = str((tracker.latest_message or {}).get("text") or "")
    if not mention or (career is not None and names_career(text, career)):
        return None
    if knowledge is not None and knowledge.find(mention) is not None:
        return None
    return occupation_plural(mention)


# Where a page's career arrives: the widget's data-context, or a REST body's metadata.context.
CONTEXT_KEY = "context"
CAREER_KEY = "career"


def _user_events(tracker: Tracker) -> List[Dict[str, Any]]:
    return [e for e in tracker.events if e.get("event") == "user"]


def page_career_id(metadata: Any) -> Optional[str]:
    """The career id a message's page names, if any."""
    context = metadata.get(CONTEXT_KEY) if isinstance(metadata, dict) else None
    value = context.get(CAREER_KEY) if isinstance(context, dict) else None
    return value if isinstance(value, str) else None


def latest_metadata(tracker: Tracker, users: Optional[List[Dict[str, Any]]] = None) -> Dict[str, Any]:
    """The latest message's metadata; `users` are the tracker's user events, when already found."""
    users = _user_events(tracker) if users is None else users
    metadata = users[-1].get("metadata") if users else None
    if not isinstance(metadata, dict):
        metadata = (tracker.latest_message or {}).get("metadata")
    return metadata if isinstance(metadata, dict) else {}


def named_careers(tracker: Tracker, knowledge: KnowledgeBase) -> List[Career]:
    """The careers the latest message names: a button's `career` entity, then the words, in order."""
    message = tracker.latest_message or {}
    named: List[Career] = []
    for entity in message.get("entities") or []:
        career = knowledge.get(entity.get("value")) if entity.get("entity") == CAREER_KEY else None
        if career is not None and career not in named:
            named.append(career)
    subjects: List[Career] = []
    for career, before in career_mentions(str(message.get("text") or ""), knowledge):
        if any(cue and before[-len(cue) :] == cue for cue in _background_cues()):
            continue  # "I'm a bank teller, ...": the visitor's own job, not the question's
        if is_goal(before):
            subjects.insert(0, career)  # "could a teller become a loan officer?": the goal first
        else:
            subjects.append(career)
    return named + [c for i, c in enumerate(subjects) if c not in named and c not in subjects[:i]]


def career_mentions(text: str, knowledge: KnowledgeBase) -> List[Tuple[Career, List[str]]]:
    """Each career a text names, with the normalised words before it ("a" and "an" dropped)."""
    words = normalise(text).split()
    mentions = []
    for career, start, _ in knowledge.name_spans(words):
        before = words[:start]
        while before and before[-1] in ("a", "an"):
            before = before[:-1]
        mentions.append((career, before))
    return mentions


def is_goal(before: List[str]) -> bool:
    """Whether the words before a career make it the goal: "become (a) loan officer"."""
    return before[-1:] == ["become"]


def _background_cues() -> List[List[str]]:
    return [normalise(cue).split() for cue in background_cues()]


def choose_career(tracker: Tracker, knowledge: KnowledgeBase) -> Optional[Career]:
    """The career the latest message is about, in the order of the module's docstring; None: ask."""
    named = named_careers(tracker, knowledge)
    if named:
        return named[0]
    users = _user_events(tracker)
    page = page_career_id(latest_metadata(tracker, users))
    page_career = knowledge.get(page)
    previous_page = page_career_id(users[-2].get("metadata")) if len(users) >= 2 else None
    if page_career is not None and page != previous_page:
        return page_career
    current = knowledge.get(tracker.get_slot(CAREER_KEY))
    if current is not None:
        return current
    return page_career or knowledge.default


def career_events(tracker: Tracker, knowledge: KnowledgeBase, career: Career) -> List[EventType]:
    """Remembers the career the conversation moved to; nothing while it stays on the default, or
    when the message only glanced at another career."""
    current = tracker.get_slot(CAREER_KEY)
    if career.id == current or (current is None and knowledge.default is career):
        return []
    if named_in_passing(tracker, knowledge, career):
        return []
    return [SlotSet(CAREER_KEY, career.id)]


def named_in_passing(tracker: Tracker, knowledge: KnowledgeBase, career: Career) -> bool:
    """Whether the message named the career only beside an answer just given: "and for loan
    officers?", "is that the same for tellers?".

    Such a message gets that career's answer, but the conversation stays on its own
    career: people who wrote conversations blind (tests/conversations/dev_set.yml) went
    on about the first career after such a glance ("not that, I meant the beginners'
    pay"). A question in its own right ("what do loan officers do?") or a button moves it.
    """
    message = tracker.latest_message or {}
    if not tracker.get_slot("topic") or any(e.get("entity") == CAREER_KEY for e in message.get("entities") or []):
        return False
    text = str(message.get("text") or "")
    if not (opens_back(text) or compares(text)):
        return False
    return career in named_careers(tracker, knowledge)


def ask_career(dispatcher: CollectingDispatcher, knowledge: KnowledgeBase, tracker: Tracker) -> None:
    """Which career? A button per career, each sending the question's intent again with that career."""
    intent = ((tracker.latest_message or {}).get("intent") or {}).get("name") or "ask_overview"
    buttons = [career_button(career, intent) for career in site_careers(knowledge)]
    dispatcher.utter_message(response="utter_ask_career", buttons=buttons)


def site_careers(knowledge: KnowledgeBase) -> List[Career]:
    """The site's careers in the order replies list them."""
    return sorted(knowledge.careers.values(), key=lambda career: career.plural)


def career_button(career: Career, intent: str) -> Dict[str, Any]:
    """A button that sends `intent` about this career, whichever career the conversation was on."""
    return {
        "title": capitalise(career.plural),
        "payload": f"/{intent}" + json.dumps({CAREER_KEY: career.id}, separators=(",", ":")),
    }


def topic_label(domain: DomainDict, topic: str) -> str:
    """How the bot names a topic to people ("the pay"): the domain's utter_topic_ask_<topic>."""
    return fill(domain, f"utter_topic_ask_{topic}")


def covered_topics(domain: DomainDict, career: Career) -> List[str]:
    """The topics a career's knowledge covers that the domain can name, in file order."""
    responses = domain.get("responses") or {}
    return [s for s in career.sections if f"utter_topic_ask_{s}" in responses]


def topic_buttons(domain: DomainDict, topics: Iterable[str]) -> List[Dict[str, Any]]:
    return [{"title": capitalise(topic_label(domain, t)), "payload": f"/ask_{t}"} for t in topics]


def answer_other_job(dispatcher: CollectingDispatcher, domain: DomainDict, knowledge: KnowledgeBase, job: str) -> None:
    from actions.careers import refuse_other_job

    refuse_other_job(dispatcher, domain, knowledge, job)


class CareerAction(Action, abc.ABC):
    """An action that answers from a career's knowledge.

    The knowledge is passed in (tests pass their own, as rasa-sdk's
    ActionQueryKnowledgeBase takes its knowledge base); the action server
    passes nothing and gets the knowledge the settings name.
    """

    def __init__(self, knowledge: Optional[KnowledgeBase] = None) -> None:
        self._knowledge = knowledge

    @property
    def knowledge(self) -> KnowledgeBase:
        return self._knowledge or default_knowledge()

    @abc.abstractmethod
    def name(self) -> Text:
        """The action's name in the domain."""

    def career(self, tracker: Tracker) -> Optional[Career]:
        """The career the latest message is about; None when nothing says and the site has no default."""
        return choose_career(tracker, self.knowledge)

    def cite(self, domain: DomainDict, citations: Iterable[Citation]) -> str:
        """The sources, each with the date of its figures when the knowledge gives one."""
        labels: List[str] = []
        for source, as_of in citations:
            if source.cited_in:
                label = fill(domain, "utter_source_cited", name=source.name, cited_in=source.cited_in.name)
            else:
                label = fill(domain, "utter_source", name=source.name)
            if as_of:
                label = fill(domain, "utter_source_dated", source=label, as_of=as_of)
            if label not in labels:
                labels.append(label)
        return "; ".join(labels)


class TopicAction(CareerAction):
    """Answers one topic: ``action_answer_<topic>`` sends ``utter_answer_<topic>``.

    Subclasses name the topic and return the response's values; the base class
    adds the career's names and the source, and remembers the topic so that
    follow-ups ("and the managers?") know what they refer to.
    """

    topic: ClassVar[str]
    # Knowledge sections the answer draws on; the first one's name by default.
    sections: ClassVar[tuple] = ()

    def name(self) -> Text:
        return f"action_answer_{self.topic}"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        from actions.followup import read_in_context

        # The classifier saw the message alone; the conversation may read it as another topic.
        action = read_in_context(tracker, self, self._knowledge) or self
        return action.respond(dispatcher, tracker, domain)

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, ask_feedback: bool = True
    ) -> List[EventType]:
        """Answers the latest message, whichever topic intent the classifier picked."""
        from actions.careers import answer_side_by_side, compared_careers

        compared = compared_careers(tracker, self.knowledge)
        if compared:
            return answer_side_by_side(self, dispatcher, tracker, domain, compared, ask_feedback)
        career = self.career(tracker)
        job = other_job(tracker, career, self.knowledge)
        text = str((tracker.latest_message or {}).get("text") or "")
        if job and (career is None or not compares(text)):
            # A question about a job the site has no guide for: no career's facts fit there.
            answer_other_job(dispatcher, domain, self.knowledge, job)
            return career_events(tracker, self.knowledge, career) if career is not None else []
        if career is None:
            ask_career(dispatcher, self.knowledge, tracker)
            return []
        from actions.feedback import ask_feedback_after, mark_answer

        start = len(dispatcher.messages)
        self.answer(dispatcher, domain, career, Mentions.latest(tracker), tracker)
        answer_id = mark_answer(dispatcher, start, self.topic, career.id)
        if job:
            # "Is the pay better than a nurse's?": this career's side, and honestly no other.
            dispatcher.utter_message(response="utter_compare_other_job", other_career=job, career_plural=career.plural)
        if ask_feedback:
            ask_feedback_after(dispatcher, tracker, answer_id)
        return [SlotSet("topic", self.topic), *career_events(tracker, self.knowledge, career)]

    def answer(
        self, dispatcher: CollectingDispatcher, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker
    ) -> None:
        """The structured answer when the knowledge has every section it needs; else what the source does say."""
        needed = self.needed_sections()
        if all(career.covers(s) and not career.is_statements(s) for s in needed):
            response, values = self.compose(domain, career, mentions, tracker)
            self.send(dispatcher, domain, career, response, values)
            return
        covered = [s for s in needed if career.covers(s)]
        if not covered:
            not_covered(dispatcher, domain, career, self.topic)
            return
        from actions.followup import topic_action

        for section in covered:
            if not career.is_statements(section):
                topic_action(section, self._knowledge).answer(dispatcher, domain, career, mentions, tracker)
        statements = tuple(s for s in covered if career.is_statements(s))
        if statements:
            # One message, with buttons: a message without any is split at its blank lines by
            # Rasa's REST channel, which would send the source apart from its facts.
            blocks = [
                fill(
                    domain,
                    "utter_statements_block",
                    subject=topic_label(domain, s),
                    career_plural=career.plural,
                    facts=bullets(career.statements(s)),
                )
                for s in statements
            ]
            others = [s for s in covered_topics(domain, career) if s not in needed]
            values = {"statements": "\n\n".join(blocks), "buttons": topic_buttons(domain, others[:3])}
            self.send(dispatcher, domain, career, "utter_answer_statements", values, statements)
        missing = [s for s in needed if not career.covers(s)]
        if missing:
            not_covered(dispatcher, domain, career, *missing, offer=False)

    def needed_sections(self) -> tuple:
        return self.sections or (self.topic,)

    def send(
        self,
        dispatcher: CollectingDispatcher,
        domain: DomainDict,
        career: Career,
        response: str,
        values: Dict[str, Any],
        sections: Optional[tuple] = None,
    ) -> None:
        dispatcher.utter_message(
            response=response,
            career=career.name,
            # Answers fill {career_name}: mark_answer replaces `career` with the id for the report.
            career_name=career.name,
            career_plural=career.plural,
            career_plural_cap=capitalise(career.plural),
            source=self.cite(domain, self.citations(career, sections or self.needed_sections())),
            **values,
        )

    def citations(self, career: Career, sections: tuple) -> List[Citation]:
        """The sources of the sections this answer draws on, with their dates."""
        return [(career.source_of(s), career.as_of(s)) for s in sections if career.covers(s)]

    @abc.abstractmethod
    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        """The response to send and its values."""


def not_covered(
    dispatcher: CollectingDispatcher, domain: DomainDict, career: Career, *topics: str, offer: bool = True
) -> None:
    """Says the career's source does not cover these topics; `offer` adds buttons for what it does cover."""
    covered = covered_topics(domain, career)
    dispatcher.utter_message(
        response="utter_not_covered" if offer and covered else "utter_not_covered_only",
        career=career.id,  # for the report, as an answer carries it
        uncovered=list(topics),  # what was asked for, for the report and the evaluation
        career_plural=career.plural,
        topics=join_words([topic_label(domain, t) for t in topics], "or"),
        covered=join_words([topic_label(domain, s) for s in covered], "and"),
        buttons=topic_buttons(domain, covered) if offer else [],
    )
