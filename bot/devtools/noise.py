"""Typing noise for the misspelled variants of the sentence sets (issue 20): seeded, so every run sees the same lines.

Each line gets 1 to 3 of its words of at least 4 letters misspelled, each with 1 or 2
edits of the kinds people make on a keyboard: a letter typed twice or a neighbour's
pressed too (insert), a letter left out (delete), a neighbouring key hit instead
(substitute), two letters swapped (transpose). A line's noise depends only on the seed
and the line itself, so adding a line to a set changes no other line's variant.

    python -m bot.devtools.noise tests/nlu/dev_set_2.yml     # prints the variant, for a look
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

SEED = 20
MIN_LETTERS = 4
EDIT_KINDS = ("insert", "delete", "substitute", "transpose")

_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _neighbours() -> Dict[str, str]:
    """Keys touching each letter on a QWERTY keyboard (each row sits half a key right of the one above)."""
    position = {(row, col): key for row, keys in enumerate(_ROWS) for col, key in enumerate(keys)}
    found: Dict[str, str] = {}
    for (row, col), key in position.items():
        around = [
            (row, col - 1),
            (row, col + 1),
            (row - 1, col),
            (row - 1, col + 1),
            (row + 1, col - 1),
            (row + 1, col),
        ]
        found[key] = "".join(sorted(position[p] for p in around if p in position))
    return found


NEIGHBOURS = _neighbours()
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class Edit:
    kind: str
    word: str  # the word before this edit
    result: str


def _same_case(template: str, letter: str) -> str:
    return letter.upper() if template.isupper() else letter


def edit_word(word: str, rng: random.Random) -> Edit:
    """One keyboard edit of a word; the result always differs from the word."""
    while True:
        kind = rng.choice(EDIT_KINDS)
        i = rng.randrange(len(word))
        letter = word[i]
        if kind == "insert":
            # A key pressed twice, or its neighbour pressed with it.
            extra = rng.choice(letter.lower() + NEIGHBOURS.get(letter.lower(), ""))
            result = word[: i + 1] + _same_case(letter, extra) + word[i + 1 :]
        elif kind == "delete":
            result = word[:i] + word[i + 1 :]
        elif kind == "substitute":
            near = NEIGHBOURS.get(letter.lower())
            if not near:
                continue
            result = word[:i] + _same_case(letter, rng.choice(near)) + word[i + 1 :]
        else:
            if i == len(word) - 1:
                continue
            result = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        if result != word:
            return Edit(kind, word, result)


@dataclass(frozen=True)
class Noisy:
    text: str
    original: str
    words: Tuple[Tuple[str, str], ...]  # (original word, misspelled word) per changed word
    edits: Tuple[Edit, ...]


def misspell(text: str, seed: int = SEED) -> Noisy:
    """The line with 1 to 3 of its words of at least MIN_LETTERS letters given 1 or 2 edits each.

    A line without such a word comes back unchanged (no words, no edits).
    """
    rng = random.Random(f"{seed}\0{text}")  # a str seed is hashed with SHA-512: stable across runs
    spans = [m.span() for m in _WORD.finditer(text) if len(m.group()) >= MIN_LETTERS]
    if not spans:
        return Noisy(text, text, (), ())
    chosen = sorted(rng.sample(spans, min(len(spans), rng.randint(1, 3))))
    pieces, words, edits, last = [], [], [], 0
    for start, end in chosen:
        word = original = text[start:end]
        for _ in range(rng.randint(1, 2)):
            edit = edit_word(word, rng)
            while edit.result == original:  # a second edit must not undo the first
                edit = edit_word(word, rng)
            edits.append(edit)
            word = edit.result
        pieces += [text[last:start], word]
        words.append((original, word))
        last = end
    pieces.append(text[last:])
    return Noisy("".join(pieces), text, tuple(words), tuple(edits))


def misspelled_lines(lines: Sequence[Tuple[str, str]], seed: int = SEED) -> List[Tuple[str, str]]:
    """(text, intent) lines with each text misspelled; the intent stays what it was."""
    return [(misspell(text, seed).text, intent) for text, intent in lines]


def main(argv: Optional[List[str]] = None) -> int:
    from bot.rasa.nlu_data import load_test_set

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("set", type=Path, help="an NLU sentence set (a dev set: the test set is not for reading)")
    parser.add_argument("--seed", type=int, default=SEED)
    args = parser.parse_args(argv)
    for text, intent in misspelled_lines(load_test_set(args.set), args.seed):
        print(f"{intent}\t{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
