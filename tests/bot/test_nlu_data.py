"""The near-copy rule (bot/similarity.py) against difflib's ratio computed pair by pair, and the held-out lines
as it reads them against Rasa's own reader."""

from __future__ import annotations

import difflib
import itertools
import random

from bot.similarity import NEAR_DUPLICATE, held_out_files, held_out_texts, near_duplicates, near_held_out, normalise

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


def test_the_held_out_lines_read_without_rasa_are_rasas():
    """The review (operators' layer, no Rasa) must hold out exactly the lines Rasa reads from each NLU file."""
    from bot.rasa.nlu_data import load_test_set

    files = held_out_files()
    nlu_files = [path for path in files if path.parent.name == "nlu"]
    assert len(files) == 6 and len(nlu_files) == 3, files
    for path in nlu_files:
        assert [normalise(t) for t in held_out_texts(path)] == [normalise(t) for t, _ in load_test_set(path)], path


def test_a_near_copy_of_a_test_line_is_found_with_its_file(tmp_path):
    nlu = tmp_path / "set.yml"
    nlu.write_text(
        'version: "3.1"\nnlu:\n- intent: ask_pay\n  examples: |\n    - how much does a [teller](job) earn\n'
        "- intent: ask_hours\n  examples:\n  - text: what are the hours\n    metadata: {review: abc}\n",
        encoding="utf-8",
    )
    assert held_out_texts(nlu) == ["how much does a [teller](job) earn", "what are the hours"]
    found = near_held_out(["How much does a teller earn?", "tell me a joke"], [nlu])
    assert [(text, line, path) for text, line, path, _ in found] == [
        ("How much does a teller earn?", "how much does a teller earn", nlu)
    ]
    assert found[0][3] >= NEAR_DUPLICATE
