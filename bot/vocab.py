"""Words the bot recognises that are not career knowledge: US states, fields of study, other jobs."""

from __future__ import annotations

import functools
import re
from typing import Dict, List, Optional

import yaml

from bot import CONTENT_DIR

VOCAB_DIR = CONTENT_DIR / "vocab"

# Words that may stand before an ambiguous postal code ("in OH", "about OK").
STATE_PREPOSITIONS = ("in", "about", "for", "from", "of")


@functools.lru_cache(maxsize=None)
def us_states() -> List[Dict[str, object]]:
    return yaml.safe_load((VOCAB_DIR / "us_states.yml").read_text(encoding="utf-8"))["states"]


@functools.lru_cache(maxsize=None)
def degree_fields() -> List[str]:
    return yaml.safe_load((VOCAB_DIR / "degree_fields.yml").read_text(encoding="utf-8"))["fields"]


@functools.lru_cache(maxsize=None)
def _occupation_file() -> Dict[str, List[str]]:
    return yaml.safe_load((VOCAB_DIR / "occupations.yml").read_text(encoding="utf-8"))


def occupations() -> List[str]:
    return list(_occupation_file()["occupations"])


def background_cues() -> List[str]:
    """Word sequences that, just before a job, make it the visitor's own background."""
    return list(_occupation_file()["background_cues"])


def this_career_cues() -> List[str]:
    """Word sequences that point at the bot's own career ("this job")."""
    return list(_occupation_file()["this_career_cues"])


# English plurals the suffix rules below get wrong.
_IRREGULAR = {"person": "people", "wife": "wives", "man": "men", "woman": "women"}
_REGULAR = {"human", "shaman"}


def plural(title: str) -> str:
    """The plural of a job title: its last word inflected ('police officers', 'salespeople', 'CEOs')."""
    head, _, last = title.rpartition(" ")
    word: Optional[str]
    if last.isupper():
        word = last + "s"
    else:
        word = (
            None
            if last.lower() in _REGULAR
            else next((last[: -len(s)] + p for s, p in _IRREGULAR.items() if last.lower().endswith(s)), None)
        )
        if word is None:
            if re.search(r"[^aeiou]y$", last):
                word = last[:-1] + "ies"
            elif re.search(r"(s|sh|ch|x|z)$", last):
                word = last + "es"
            else:
                word = last + "s"
    return f"{head} {word}" if head else word


def _words(text: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9' ]+", " ", text.lower().replace("-", " ")).split())


@functools.lru_cache(maxsize=None)
def _occupation_plurals() -> Dict[str, str]:
    forms: Dict[str, str] = {}
    for title in occupations():
        forms[_words(title)] = forms[_words(plural(title))] = plural(title)
    return forms


def occupation_plural(mention: str) -> str:
    """How a reply names the job a mention refers to: 'nurse', 'Nurses' -> 'nurses'; 'ceo' -> 'CEOs'."""
    return _occupation_plurals().get(_words(mention), mention)


def resolve_state(mention: Optional[str]) -> Optional[str]:
    """The state's full name for a mention such as 'ohio', 'in OH' or 'TX'."""
    if not mention:
        return None
    words = re.sub(r"[^A-Za-z ]+", " ", mention).split()
    if len(words) > 1 and words[0].lower() in STATE_PREPOSITIONS:
        words = words[1:]
    text = " ".join(words)
    for state in us_states():
        if text.lower() == str(state["name"]).lower() or text.upper() == state["code"]:
            return str(state["name"])
    return None
