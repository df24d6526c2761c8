"""Words the bot recognises that are not career knowledge: US states, fields of study."""

from __future__ import annotations

import functools
import re
from typing import Dict, List, Optional

import yaml

from bot import PACKAGE_DIR

VOCAB_DIR = PACKAGE_DIR / "vocab"

# Words that may stand before an ambiguous postal code ("in OH", "about OK").
STATE_PREPOSITIONS = ("in", "about", "for", "from", "of")


@functools.lru_cache(maxsize=None)
def us_states() -> List[Dict[str, object]]:
    return yaml.safe_load((VOCAB_DIR / "us_states.yml").read_text(encoding="utf-8"))["states"]


@functools.lru_cache(maxsize=None)
def degree_fields() -> List[str]:
    return yaml.safe_load((VOCAB_DIR / "degree_fields.yml").read_text(encoding="utf-8"))["fields"]


@functools.lru_cache(maxsize=None)
def occupations() -> List[str]:
    return yaml.safe_load((VOCAB_DIR / "occupations.yml").read_text(encoding="utf-8"))["occupations"]


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
