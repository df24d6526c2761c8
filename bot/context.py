"""What a message means in its conversation: a follow-up that names no topic continues the previous one.

The classifier sees one message. "And how long would that take?", "what about in
five years?" or "what else would I need?" carry no topic word, so it says
`nlu_fallback`, `out_of_scope` or a bare `inform`, though the visitor is still on the
topic just answered. The dialogue state (the `topic` slot: the last topic answered)
settles them. The actions that would otherwise say "not understood" or "unclear"
(the fallback and the follow-up) ask `resolve` first:

- a follow-up, or a message the classifier was unsure of, is read in context when it
  points back: it opens as a continuation or a correction ("and", "so", "what about",
  "sorry, I meant"...), refers back ("it", "that", "then"...), or is a few words long;
- a message the classifier put out of scope is read in context only when it clearly
  leans back and the classifier was not sure (below `SURE_OFF_TOPIC`); one the in-domain
  gate put out of scope, only when it opens as a continuation and the classifier was
  sure of its topic (`SURE_TOPIC`): "is the festival this weekend?" stays off-topic;
- the previous topic goes on (weight `CONTINUES`) unless the classifier gives another
  topic more, the previous topic's neighbours (licensing -> how to get it, education ->
  without a degree) counting `BOOST` times.

Tuned on tests/conversations/dev_set.yml and on off-topic queries asked right after an
answer (`python -m bot.devtools.evaluate` prints both); the conversation test set is only measured.
"""

from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Mapping, Optional

from bot.clarify import is_topic

# Openers that continue the conversation ("and the hours?", "so how do I get it?").
OPENERS = (
    "and",
    "so",
    "but",
    "then",
    "also",
    "what about",
    "how about",
    "ok and",
    "okay and",
    "ok so",
    "okay so",
    "and what about",
    "what if",
    "how long",
    "how often",
    "is that",
    "is it",
    "are they",
    "does it",
    "does that",
    "do they",
    "can i",
    "on what",
    "why",
    "i meant",
    "sorry i meant",
    "no i meant",
    "not that",
)
# Words that point back at what was just said.
# ("there", "one" and "its" are left out: "is there an age limit?", "its cold outside".)
REFERRING = frozenset({"it", "that", "this", "those", "these", "they", "them", "then", "same", "else"})
SHORT = 4  # words: "weekends too?", "for how long?"
BOOST = 4.0
MIN_SUPPORT = 0.05
SURE_OFF_TOPIC = 0.5
# The in-domain gate's out_of_scope comes with confidence 1 (bot/rasa/components/in_domain_gate.py).
GATED = 0.999
SURE_TOPIC = 0.6
# A conversational intent (thanks, greet, help...) this likely is not read as a topic.
OTHER_READING = 0.3
FOLLOW_UPS = ("inform", "ask_without", "follow_up")
# The previous topic's weight when the classifier does not rank it: another topic needs more.
CONTINUES = 0.25
# Topics a reference back from one topic often means ("so how would I get it?" after the licence).
NEIGHBOURS: Dict[str, tuple] = {
    "licensing": ("licensing_requirements",),
    "licensing_requirements": ("licensing",),
    "education": ("no_degree", "how_to_become"),
    "no_degree": ("education", "how_to_become"),
    "how_to_become": ("education", "licensing_requirements", "training"),
    "pay": ("advancement",),
    "advancement": ("pay", "career_development"),
    "career_development": ("advancement", "certification"),
    "certification": ("career_development",),
    "duties": ("work_environment", "hours"),
    "hours": ("work_environment",),
    "work_environment": ("hours",),
    "qualities": ("suitability",),
    "suitability": ("qualities",),
    "overview": ("duties",),
    "training": ("how_to_become",),
}
# Topics about a thing one gets (a licence, a certificate, a course, a degree): "how do I get
# it?", "how much does it cost?", "is it paid?" after them ask about that thing, whatever
# the words "get", "cost" or "paid" make the classifier think of (how to become, the pay).
THINGS = {
    "licensing": "licensing_requirements",
    "licensing_requirements": "licensing_requirements",
    "certification": "certification",
    "training": "training",
    "career_development": "career_development",
    "education": "education",
}
GETTING = ("get", "getting", "obtain", "obtaining", "apply for", "earn it", "earn that", "earn one")
COSTING = ("cost", "costs", "price", "fee", "fees", "paid", "free", "afford", "pay for it", "pay for that")
# Intents answered by another topic's action; every other topic intent ask_<topic> by its own.
INTENT_TOPICS = {"ask_pay_level": "pay"}

_WORD = re.compile(r"[a-z0-9']+")


def words(text: str) -> List[str]:
    return _WORD.findall(text.lower().replace("’", "'"))


def opens_with(found: List[str], phrases: Iterable[str]) -> bool:
    """Whether the words start with one of the phrases, whole words only."""
    joined = " ".join(found)
    return any(joined == phrase or joined.startswith(phrase + " ") for phrase in phrases)


def says(found: List[str], phrases: Iterable[str]) -> bool:
    """Whether the words hold one of the phrases, whole words only."""
    joined = " " + " ".join(found) + " "
    return any(f" {phrase} " in joined for phrase in phrases)


def opens_back(text: str) -> bool:
    """Whether the message opens as a continuation or a correction ("and ...", "sorry, I meant ...")."""
    return opens_with(words(text), OPENERS)


def leans_back(text: str) -> bool:
    """Whether the message opens as a continuation or refers to what was just said."""
    return opens_back(text) or any(word in REFERRING for word in words(text))


def points_back(text: str) -> bool:
    """Whether the message may lean on what was said before it: it leans back, or is a few words long."""
    found = words(text)
    return bool(found) and (len(found) <= SHORT or leans_back(text))


def topic_of(intent: str) -> Optional[str]:
    if not is_topic(intent):
        return None
    return INTENT_TOPICS.get(intent, intent[len("ask_") :])


def intent_of(topic: str) -> str:
    return f"ask_{topic}"


def resolve(
    text: str, intent: Mapping[str, Any], ranking: Iterable[Mapping[str, Any]], last_topic: Optional[str]
) -> Optional[str]:
    """The topic intent a message means in context, or None when it means what the classifier said.

    `intent` and `ranking` are the classifier's (the latest message's parse data);
    `last_topic` is the topic the bot answered last.
    """
    if not last_topic:
        return None
    name = str(intent.get("name") or "")
    confidence = float(intent.get("confidence") or 0.0)
    ranking = list(ranking)
    if name == "out_of_scope":
        if confidence >= GATED:
            # The in-domain gate's verdict: the classifier's own pick follows it in the ranking.
            # A message that opens as a correction or a continuation ("sorry, I meant the
            # hours") with a topic the classifier is sure of is taken at its word; anything
            # else stays out of scope ("is the festival this weekend" does not open so).
            mine = ranking[1] if len(ranking) > 1 else {}
            mine_name, mine_confidence = str(mine.get("name") or ""), float(mine.get("confidence") or 0.0)
            if not opens_back(text):
                return None
            if topic_of(mine_name) and mine_confidence >= SURE_TOPIC:
                return mine_name
            # "And someone outgoing?", "and once I'm experienced?": the classifier itself reads a
            # follow-up, which the gate could not know; the conversation's topic settles it.
            if mine_name not in FOLLOW_UPS or mine_confidence < OTHER_READING:
                return None
            ranking = ranking[1:]
        elif confidence >= SURE_OFF_TOPIC or not leans_back(text):
            # Out of scope, but not surely: only a message that clearly leans back is read in context.
            return None
    elif name not in FOLLOW_UPS and not points_back(text):
        return None
    else:
        # Under an unsure verdict, a conversational reading ("thanks, very informative") is no topic's.
        first = next((r for r in ranking if r.get("name") not in ("nlu_fallback", "out_of_scope")), {})
        first_name = str(first.get("name") or "")
        if (
            first_name not in FOLLOW_UPS
            and not topic_of(first_name)
            and float(first.get("confidence") or 0.0) >= OTHER_READING
        ):
            return None
    thing = about_the_thing(text, last_topic)
    if thing:
        return thing
    near = {last_topic, *NEIGHBOURS.get(last_topic, ())}
    # The previous topic goes on unless the classifier gives another topic some weight; its
    # follow-up readings count for going on.
    best, best_score = intent_of(last_topic), CONTINUES + follow_up_share(ranking)
    for entry in ranking:
        candidate = str(entry.get("name") or "")
        topic = topic_of(candidate)
        if topic is None:
            continue
        confidence = float(entry.get("confidence") or 0.0)
        score = confidence * (BOOST if topic in near else 1.0)
        if confidence >= MIN_SUPPORT and score > best_score:
            best, best_score = candidate, score
    return best


# Words around a career's name that ask nothing more: "ok, what about loan officers then?".
ONLY_A_NAME = frozenset(
    {
        "ok",
        "okay",
        "so",
        "and",
        "what",
        "about",
        "how",
        "then",
        "for",
        "the",
        "now",
        "also",
        "same",
        "too",
        "with",
        "is",
        "it",
        "that",
        "are",
        "they",
        "as",
        "well",
        "those",
        "of",
        "a",
        "an",
    }
)


def only_names(found: List[str], spans: Iterable[tuple]) -> bool:
    """Whether a message's normalised words say nothing but the names at `spans` ((career, first
    word, end), as bot.knowledge finds them) and words that point back: "and for tellers?"."""
    named = {i for _, start, end in spans for i in range(start, end)}
    rest = [word for i, word in enumerate(found) if i not in named]
    return bool(named) and all(word in ONLY_A_NAME for word in rest)


def about_the_thing(text: str, last_topic: Optional[str]) -> Optional[str]:
    """The intent of a question about the thing the last topic is about ("how much does it cost?"
    after the certification), or None."""
    if last_topic not in THINGS:
        return None
    found = words(text)
    if not any(word in REFERRING for word in found):
        return None
    return intent_of(THINGS[last_topic]) if says(found, GETTING + COSTING) else None


def follow_up_share(ranking: Iterable[Mapping[str, Any]]) -> float:
    """How sure the classifier is that the message is a follow-up of some kind."""
    return sum(float(entry.get("confidence") or 0.0) for entry in ranking if entry.get("name") in FOLLOW_UPS)


def reconsider(
    text: str, intent: Mapping[str, Any], ranking: Iterable[Mapping[str, Any]], last_topic: Optional[str]
) -> Optional[str]:
    """The previous topic's intent, when it beats a topic the classifier picked unsurely; else None.

    "And for veterans of the job?" after the pay, "and in 5 years?" after the outlook: the
    classifier picks some topic at under `SURE_TOPIC`, and gives much of the rest to a
    follow-up reading. A message that points back keeps the conversation's topic when that
    follow-up share, the previous topic's own (counting `BOOST` times) and `CONTINUES`
    together outweigh the pick.
    """
    picked = topic_of(str(intent.get("name") or ""))
    confidence = float(intent.get("confidence") or 0.0)
    if not last_topic or picked is None or picked == last_topic or confidence >= SURE_TOPIC:
        return None
    if not points_back(text):
        return None
    ranking = list(ranking)
    continuing = CONTINUES + follow_up_share(ranking)
    for entry in ranking:
        if topic_of(str(entry.get("name") or "")) == last_topic:
            continuing += BOOST * float(entry.get("confidence") or 0.0)
    return intent_of(last_topic) if continuing > confidence else None


# A question that sets this career beside another job ("is it better paid than nursing?").
COMPARING = (
    "compare",
    "compared",
    "comparison",
    "than",
    "different from",
    "difference",
    "differ",
    "versus",
    "vs",
    "similar to",
    "same as",
    "stack up",
    "against",
)


def compares(text: str) -> bool:
    """Whether the message compares: the other job it names is then a yardstick, not its subject."""
    return says(words(text), COMPARING)


# Words by which a comparison points at the answer just given ("how does that compare to
# pilots?"); "it" and "this" in a comparison are mostly the job itself ("is it better than...").
LAST_ANSWER = frozenset({"that", "those", "these", "same"})
COMPARISON_OPENERS = ("and", "so", "but", "what about", "how about", "compared", "compare", "versus", "vs")


def compares_last_answer(text: str) -> bool:
    """Whether a comparison is about the answer just given ("compared with a nurse's shifts?",
    "and how does that compare to pilots?"), not about the job as a whole."""
    found = words(text)
    return any(word in LAST_ANSWER for word in found) or opens_with(found, COMPARISON_OPENERS)


# A comparison the classifier put out of scope ("do they earn more than a real estate agent?")
# still names its topic: the best-ranked topic at least this sure is the one compared.
COMPARED_TOPIC = 0.2


def compared_topic(ranking: Iterable[Mapping[str, Any]]) -> Optional[str]:
    """The topic intent a comparison asks about, from the classifier's ranking; None if none is likely."""
    for entry in ranking:
        name = str(entry.get("name") or "")
        if topic_of(name) and float(entry.get("confidence") or 0.0) >= COMPARED_TOPIC:
            return name
    return None
