"""The near-copy rule (bot/rasa/nlu_data.py) against difflib's ratio computed pair by pair."""

from __future__ import annotations

import difflib
import itertools
import random

from bot.rasa.nlu_data import NEAR_DUPLICATE, near_duplicates, normalise

WORDS = "what is the pay salary do i need a licence how many hours work from home per week".split()


def sentences(seed: str, count: int) -> list:
    chooser = random.Random(seed)
    return [" ".join(chooser.choice(WORDS) for _ in range(chooser.randint(1, 8))) for _ in range(count)]


def by_every_pair(lines, training, threshold):
    pool = sorted({normalise(t) for t in training}, key=len)
    found = []
    for line in lines:
        for other in pool:
            ratio = difflib.SequenceMatcher(None, other, normalise(line), autojunk=False).ratio()
            if ratio >= threshold:
                found.append((line, other, ratio))
    return found


def test_the_pairs_found_are_exactly_those_difflib_rates_at_the_threshold_or_above():
    training = sentences("training", 150) + ["What is the [pay](topic) like", "É é, ü"]
    lines = sentences("lines", 80) + ["what is the pay like", "e e u", "", "É É, Ü"]
    for threshold in (NEAR_DUPLICATE, 0.6):
        expected = by_every_pair(lines, training, threshold)
        assert sorted(near_duplicates(lines, training, threshold)) == sorted(expected)
        assert expected, "the sample must contain near-copies, or the comparison shows nothing"


def test_a_line_and_its_copy_with_markup_and_capitals_are_near_copies():
    found = near_duplicates(["How many HOURS a week"], ["how many [hours](topic) a week", "salary"])
    assert [(line, other) for line, other, _ in found] == [("How many HOURS a week", "how many hours a week")]
    assert list(itertools.chain(near_duplicates([], ["a"]), near_duplicates(["a"], []))) == []
