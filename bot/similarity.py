"""Which lines the tests hold out, and the similarity rule that keeps them out of training.

The off-topic importer (bot/rasa/components/offtopic_importer.py) drops a training sample
line that is a near-copy of a held-out test or dev line; the evaluation
(bot/devtools/evaluate.py, tests/nlu) checks that no test line is a near-copy of a
training line; the review inbox (bot/ops/review/) refuses to write one into the training
data. All use this one rule. It reads the NLU files without Rasa: the review runs in the
operators' layer, which never loads Rasa (tests/bot/test_nlu_data.py compares the lines
read here with Rasa's own reader).
"""

from __future__ import annotations

import bisect
import difflib
import re
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np
import yaml

from bot import PROJECT_DIR

# The similarity rule of issue 11: a test line this similar to a training line is a memory test.
NEAR_DUPLICATE = 0.85


def _examples(item: Dict[str, Any]) -> List[str]:
    """The example texts of one `- intent:` entry of an NLU file: the block form or the list form."""
    examples = item.get("examples")
    if isinstance(examples, str):
        return [line.strip()[2:].strip() for line in examples.splitlines() if line.strip().startswith("- ")]
    if isinstance(examples, list):
        return [str(e["text"]) if isinstance(e, dict) else str(e) for e in examples if e]
    return []


def held_out_texts(path: Path) -> List[str]:
    """The lines of an NLU test set, or every turn of a conversation set (tests/conversations/)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if isinstance(data, dict) and isinstance(data.get("conversations"), list):
        return [
            str(turn["user"])
            for conversation in data["conversations"]
            for turn in conversation.get("turns") or []
            if isinstance(turn, dict) and turn.get("user")
        ]
    return [text for text, _ in _intent_examples(data)]


def nlu_examples(path: Path) -> List[Tuple[str, str]]:
    """(text, intent) of every example of an NLU file, in the file's order."""
    return _intent_examples(yaml.safe_load(path.read_text(encoding="utf-8")))


def _intent_examples(data: Any) -> List[Tuple[str, str]]:
    items = data.get("nlu") if isinstance(data, dict) else None
    return [
        (text, str(item["intent"]))
        for item in items or []
        if isinstance(item, dict) and "intent" in item
        for text in _examples(item)
    ]


def held_out_files(config: Path = PROJECT_DIR / "config.yml") -> List[Path]:
    """The held-out files config.yml names (its OfftopicImporter's `held_out`), under the project."""
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    for importer in data.get("importers") or []:
        if isinstance(importer, dict) and str(importer.get("name", "")).endswith("OfftopicImporter"):
            return [p if p.is_absolute() else PROJECT_DIR / p for p in map(Path, importer.get("held_out") or [])]
    return []


def near_held_out(texts: Iterable[str], files: Optional[Sequence[Path]] = None) -> List[Tuple[str, str, Path, float]]:
    """Every (text, held-out line, its file, similarity) at NEAR_DUPLICATE or above."""
    found = []
    texts = list(texts)
    for path in held_out_files() if files is None else files:
        if path.exists():
            found += [(text, line, path, ratio) for text, line, ratio in near_duplicates(texts, held_out_texts(path))]
    return found


_ENTITY = re.compile(r"\[([^\]]*)\](\([^)]*\)|\{[^}]*\})")


def normalise(text: str) -> str:
    """Lower-cased, entity markup `[text](entity)` / `[text]{...}` reduced to its text, spaces collapsed."""
    return " ".join(_ENTITY.sub(r"\1", text).lower().split())


def _character_counts(texts: List[str], alphabet: Dict[str, int]) -> np.ndarray:
    """One row per text: how often each character of `alphabet` occurs in it."""
    counts = np.zeros((len(texts), len(alphabet)), np.int32)
    for row, text in enumerate(texts):
        for character in text:
            counts[row, alphabet[character]] += 1
    return counts


def near_duplicates(
    lines: Iterable[str], training: Iterable[str], threshold: float = NEAR_DUPLICATE
) -> List[Tuple[str, str, float]]:
    """Every (line, training line, ratio) with difflib's ratio >= threshold, on normalised text."""
    lines = list(lines)
    pool = sorted({normalise(t) for t in training}, key=len)
    texts = [normalise(line) for line in lines]
    alphabet = {c: i for i, c in enumerate(sorted({c for text in pool + texts for c in text}))}
    pool_counts = _character_counts(pool, alphabet)
    lengths = [len(t) for t in pool]
    band_lengths = np.array(lengths)
    found = []
    for line, text, counts in zip(lines, texts, _character_counts(texts, alphabet), strict=True):
        n = len(text)
        # ratio = 2M / (n + m) <= 2 min(n, m) / (n + m): only lengths within this band can reach it.
        low = int(n * threshold / (2 - threshold))
        high = int(n * (2 - threshold) / threshold) + 1
        first, last = bisect.bisect_left(lengths, low), bisect.bisect_right(lengths, high)
        # difflib's quick_ratio for the whole band in one numpy step: the characters two texts
        # share, counted with repeats, bound the matching blocks from above. As difflib's own
        # Python loop it was most of the importer's time in `rasa train` and `rasa data validate`.
        shared = np.minimum(pool_counts[first:last], counts).sum(axis=1)
        # (The bound is loosened by a hair so that rounding never drops a pair: ratio() decides.)
        bound = 2 * shared / np.maximum(n + band_lengths[first:last], 1)
        candidates = np.nonzero(bound >= threshold - 1e-9)[0]
        matcher = difflib.SequenceMatcher(None, b=text, autojunk=False)
        for index in candidates:
            matcher.set_seq1(pool[first + index])
            ratio = matcher.ratio()
            if ratio >= threshold:
                found.append((line, pool[first + index], ratio))
    return found
