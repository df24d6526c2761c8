"""What every career action shares: the knowledge, citations and list formatting.

Actions hold no facts and no sentences: the facts come from the knowledge
layer, the sentences from the domain's responses. Python only picks the
response and fills its placeholders.
"""

from __future__ import annotations

import abc
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Dict, Iterable, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from bot.knowledge import Career, KnowledgeBase, PayLevel, Source, default_knowledge
from bot.vocab import background_cues, occupation_plural, resolve_state, this_career_cues

# What a topic action's compose() returns: the response to send and its placeholder values.
Composed = Tuple[str, Dict[str, Any]]

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


def money(amount: int, currency: str) -> str:
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f"{symbol}{amount:,}" if symbol else f"{amount:,} {currency}"


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


def other_job(tracker: Tracker, career: Career) -> Optional[str]:
    """Another job the latest message asks about instead of this career, named for a reply."""
    mention = Mentions.latest(tracker).other_career
    if not mention or names_career(str((tracker.latest_message or {}).get("text") or ""), career):
        return None
    return occupation_plural(mention)


def answer_other_job(dispatcher: CollectingDispatcher, career: Career, job: str) -> None:
    dispatcher.utter_message(response="utter_other_career", career_plural=career.plural, other_career=job)


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

    def career(self, tracker: Tracker) -> Career:
        return self.knowledge.career()

    def cite(self, domain: DomainDict, career: Career, *sources: Source) -> str:
        labels: List[str] = []
        for source in sources:
            if source.cited_in:
                label = fill(domain, "utter_source_cited", name=source.name, cited_in=source.cited_in.name)
            else:
                label = fill(domain, "utter_source", name=source.name)
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
        return self.respond(dispatcher, tracker, domain)

    def respond(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict, ask_feedback: bool = True
    ) -> List[EventType]:
        """Answers the latest message, whichever topic intent the classifier picked."""
        career = self.career(tracker)
        job = other_job(tracker, career)
        if job:
            # A question about another job: this career's facts would be wrong there.
            answer_other_job(dispatcher, career, job)
            return []
        from actions.feedback import ask_feedback_after, mark_answer

        start = len(dispatcher.messages)
        self.answer(dispatcher, domain, career, Mentions.latest(tracker), tracker)
        answer_id = mark_answer(dispatcher, start, self.topic)
        if ask_feedback:
            ask_feedback_after(dispatcher, tracker, answer_id)
        return [SlotSet("topic", self.topic)]

    def answer(
        self, dispatcher: CollectingDispatcher, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker
    ) -> None:
        response, values = self.compose(domain, career, mentions, tracker)
        self.send(dispatcher, domain, career, response, values)

    def send(
        self,
        dispatcher: CollectingDispatcher,
        domain: DomainDict,
        career: Career,
        response: str,
        values: Dict[str, Any],
    ) -> None:
        dispatcher.utter_message(
            response=response,
            career=career.name,
            career_plural=career.plural,
            career_plural_cap=capitalise(career.plural),
            source=self.cite(domain, career, *self.sources(career)),
            **values,
        )

    def sources(self, career: Career) -> List[Source]:
        """The sources of the sections this answer draws on."""
        return [career.source_of(section) for section in (self.sections or (self.topic,))]

    @abc.abstractmethod
    def compose(self, domain: DomainDict, career: Career, mentions: Mentions, tracker: Tracker) -> Composed:
        """The response to send and its values."""
