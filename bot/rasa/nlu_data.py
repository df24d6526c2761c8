"""NLU example sets and the similarity rule that training and evaluation share.

The off-topic importer (bot/rasa/nlu_components.py) drops a training sample
line that is a near-copy of a held-out test or dev line; the evaluation
(bot/devtools/evaluate.py, tests/nlu) checks that no test line is a near-copy
of a training line. Both use this one rule.
"""

from __future__ import annotations

import bisect
import difflib
import re
from pathlib import Path
from typing import Iterable, List, Tuple

# The similarity rule of issue 11: a test line this similar to a training line is a memory test.
NEAR_DUPLICATE = 0.85


def load_test_set(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def held_out_texts(path: Path) -> List[str]:
    """The lines of an NLU test set, or every turn of a conversation set (tests/conversations/)."""
    import yaml

    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("conversations"), list):
        return [
            str(turn["user"])
            for conversation in data["conversations"]
            for turn in conversation.get("turns") or []
            if isinstance(turn, dict) and turn.get("user")
        ]
    return [text for text, _ in load_test_set(path)]


_ENTITY = re.compile(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Lower-cased, entity markup `[text](entity)` / `[text]{...}` reduced to its text, spaces collapsed."""
    return " ".join(_ENTITY.sub(r"\1", text).lower().split())


def near_duplicates(
    lines: Iterable[str], training: Iterable[str], threshold: float = NEAR_DUPLICATE
) -> List[Tuple[str, str, float]]:
    """Every (line, training line, ratio) with difflib's ratio >= threshold, on normalised text."""
    pool = sorted({normalise(t) for t in training}, key=len)
    lengths = [len(t) for t in pool]
    found = []
    for line in lines:
        text = normalise(line)
        n = len(text)
        # ratio = 2M / (n + m) <= 2 min(n, m) / (n + m): only lengths within this band can reach it.
        low = int(n * threshold / (2 - threshold))
        high = int(n * (2 - threshold) / threshold) + 1
        matcher = difflib.SequenceMatcher(None, b=text, autojunk=False)
        for other in pool[bisect.bisect_left(lengths, low) : bisect.bisect_right(lengths, high)]:
            matcher.set_seq1(other)
            if matcher.real_quick_ratio() >= threshold and matcher.quick_ratio() >= threshold:
                ratio = matcher.ratio()
                if ratio >= threshold:
                    found.append((line, other, ratio))
    return found
