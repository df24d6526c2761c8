"""When to ask instead of guess: the one rule the action server and `bot.devtools.evaluate` share.

Rasa's FallbackClassifier turns a turn into `nlu_fallback` when the classifier is unsure
or its two best intents are within `ambiguity_threshold`. Such a turn is *clarified*
(the bot asks which of two topics was meant, with a button for each) when its two best
real intents are both topics; otherwise it gets the plain fallback.
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping, Optional, Tuple

FALLBACK_INTENT = "nlu_fallback"
# Topic intents are named ask_*; ask_without is a follow-up, not a topic.
_NOT_TOPICS = {"ask_without", "ask_source"}
# Below this, the second intent is noise, not a rival reading worth a button.
MIN_SECOND_CONFIDENCE = 0.2
# Follow-ups answer with a career fact too, from the previous topic or a default one.
_FOLLOW_UPS = {"inform", "ask_without", "follow_up", "answer_form"}


def is_topic(intent: str) -> bool:
    return intent.startswith("ask_") and intent not in _NOT_TOPICS


def gives_career_answer(intent: str) -> bool:
    """Whether the bot answers `intent` with a career fact (a topic, or a follow-up of one)."""
    return is_topic(intent) or intent in _FOLLOW_UPS


def clarification_pair(ranking: Iterable[Mapping[str, Any]]) -> Optional[Tuple[str, str]]:
    """The two topics to offer for an nlu_fallback turn's intent ranking, or None."""
    real = [r for r in ranking if r.get("name") != FALLBACK_INTENT]
    if len(real) < 2:
        return None
    first, second = real[0], real[1]
    if not (is_topic(first["name"]) and is_topic(second["name"])):
        return None
    if float(second.get("confidence") or 0.0) < MIN_SECOND_CONFIDENCE:
        return None
    return first["name"], second["name"]
