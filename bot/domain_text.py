"""The domain's wording, for code outside the Rasa server: the outbox worker and the report.

All wording stays in domain.yml; this reads a response's text and names
topics as the bot names them to people (utter_topic_ask_<topic>).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any, Dict, Optional

import yaml

from bot import PROJECT_DIR

DOMAIN_FILE = PROJECT_DIR / "domain.yml"


@lru_cache(maxsize=4)
def responses(path: Path = DOMAIN_FILE) -> Dict[str, Any]:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle).get("responses") or {}


def text(name: str, path: Path = DOMAIN_FILE, **values: Any) -> str:
    try:
        template = responses(path)[name][0]["text"]
    except (KeyError, IndexError, TypeError):
        raise LookupError(f"domain response {name!r} with a text is missing") from None
    return template.format(**values)


def topic_label(topic: Optional[str], path: Path = DOMAIN_FILE) -> str:
    """'pay' -> 'The pay'; an unknown topic keeps its code name rather than vanish."""
    if not topic:
        return text("utter_handoff_no_topic", path)
    try:
        label = text(f"utter_topic_ask_{topic}", path)
    except LookupError:
        return topic
    return label[:1].upper() + label[1:]
