"""The seeded typing noise of the misspelled sets (bot/devtools/noise.py): reproducible, as many edits as promised."""

from __future__ import annotations

import random
import re

import pytest

from bot.devtools.evaluate import DEV_SET_2, load_test_set
from bot.devtools.noise import EDIT_KINDS, MIN_LETTERS, NEIGHBOURS, edit_word, misspell, misspelled_lines

LINES = [
    "how much does a mortgage servicing specialist earn per year",
    "averge salary for newbies in Texas",
    "WHAT ARE THE HOURS LIKE",
    "what's the licence situation in TX, 2024?",
]


def _one_edit_apart(before: str, after: str, kind: str) -> bool:
    if kind == "insert":
        return len(after) == len(before) + 1 and any(after[:i] + after[i + 1 :] == before for i in range(len(after)))
    if kind == "delete":
        return len(after) == len(before) - 1 and any(before[:i] + before[i + 1 :] == after for i in range(len(before)))
    if kind == "substitute":
        if len(before) != len(after):
            return False
        changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
        return len(changed) == 1 and changed[0][1].lower() in NEIGHBOURS[changed[0][0].lower()]
    swapped = [i for i in range(len(before) - 1) if before[:i] + before[i + 1] + before[i] + before[i + 2 :] == after]
    return bool(swapped)


def test_the_same_seed_gives_the_same_lines_and_another_seed_others():
    lines = [(text, "x") for text in LINES]
    assert misspelled_lines(lines, seed=7) == misspelled_lines(lines, seed=7)
    assert misspelled_lines(lines, seed=7) != misspelled_lines(lines, seed=8)
    # A line's noise does not depend on the lines around it.
    assert misspelled_lines(lines[1:], seed=7) == misspelled_lines(lines, seed=7)[1:]


def _edits_per_word(noisy):
    """How many edits led from each chosen word to its misspelling (edits are recorded word by word, in order)."""
    counts, edits = [], list(noisy.edits)
    for original, misspelled in noisy.words:
        word, count = original, 0
        while edits and edits[0].word == word:  # the lines here repeat no word
            word, count = edits.pop(0).result, count + 1
        assert word == misspelled, (original, misspelled, noisy.edits)
        counts.append(count)
    assert not edits
    return counts


@pytest.mark.parametrize("seed", range(50))
def test_one_to_three_words_of_four_letters_get_one_or_two_keyboard_edits(seed):
    for text in LINES:
        noisy = misspell(text, seed)
        long_words = [w for w in re.findall(r"[A-Za-z]+", text) if len(w) >= MIN_LETTERS]
        assert 1 <= len(noisy.words) <= min(3, len(long_words))
        assert all(len(original) >= MIN_LETTERS and misspelled != original for original, misspelled in noisy.words)
        assert all(1 <= count <= 2 for count in _edits_per_word(noisy))
        for edit in noisy.edits:
            assert _one_edit_apart(edit.word, edit.result, edit.kind), edit
        # Only the chosen words change: short words, numbers, codes and punctuation stay as they were.
        assert re.split(r"[A-Za-z]+", noisy.text) == re.split(r"[A-Za-z]+", text)
        pairs = zip(re.findall(r"[A-Za-z]+", text), re.findall(r"[A-Za-z]+", noisy.text), strict=True)
        assert [(a, b) for a, b in pairs if a != b] == list(noisy.words)


def test_every_word_count_edit_count_and_edit_kind_occurs():
    noisy = [misspell(text, seed) for seed in range(100) for text in LINES]
    assert {len(n.words) for n in noisy} == {1, 2, 3}
    assert {count for n in noisy for count in _edits_per_word(n)} == {1, 2}
    assert {e.kind for n in noisy for e in n.edits} == set(EDIT_KINDS)


def test_a_line_without_a_long_word_is_left_as_it_is():
    noisy = misspell("pay in TX?", 3)
    assert noisy.text == "pay in TX?" and noisy.words == () and noisy.edits == ()


def test_an_edit_keeps_the_case_of_a_shouting_word():
    rng = random.Random(1)
    for _ in range(200):
        assert edit_word("SALARY", rng).result.isupper()


def test_the_dev_variant_changes_almost_every_line_and_keeps_the_intents():
    lines = load_test_set(DEV_SET_2)
    noisy = misspelled_lines(lines)
    assert [intent for _, intent in noisy] == [intent for _, intent in lines]
    changed = sum(a != b for (a, _), (b, _) in zip(noisy, lines, strict=True))
    assert changed >= 0.9 * len(lines)
