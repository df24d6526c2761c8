"""The off-topic split: the same on every run, stratified, large enough, and never training on what it measures."""

from __future__ import annotations

from collections import Counter

import pytest

from bot.devtools import offtopic_split
from bot.rasa import offtopic


@pytest.fixture(scope="module")
def queries():
    return offtopic.load()


@pytest.fixture(scope="module")
def split(queries):
    return offtopic.split(queries)


def test_the_split_is_the_same_every_time(queries, split):
    again = offtopic.split(list(reversed(queries)))
    assert again.dev == split.dev and again.train == split.train
    other_seed = offtopic.split(queries, seed="another seed")
    assert other_seed.dev != split.dev


def test_sizes(split):
    assert len(split.dev) >= 2000
    assert 500 <= len(split.train) <= 3000


def test_every_source_intent_is_in_the_dev_split_in_proportion(queries, split):
    total = Counter((q.source, q.intent) for q in queries)
    dev = Counter((q.source, q.intent) for q in split.dev)
    assert set(dev) == set(total)
    for key, count in total.items():
        assert abs(dev[key] - count * offtopic.DEV_FRACTION) <= 1, key


def test_dev_lines_are_never_trained_on(split):
    dev = {q.text.lower() for q in split.dev}
    assert not [q.text for q in split.train if q.text.lower() in dev]
    for query in split.train:
        same_intent = [d.text for d in split.dev if (d.source, d.intent) == (query.source, query.intent)]
        assert not offtopic._near_copy(query.text, same_intent), query.text


def test_conversation_is_never_labelled_out_of_scope(split):
    assert not [q for q in split.train if q.intent in offtopic.CONVERSATION_INTENTS]
    assert not [q.text for q in split.train if q.conversational]
    assert offtopic.Query("are you a robot", "hwu64", "general_quirky").conversational
    assert offtopic.Query("good morning isn't it a great day", "hwu64", "general_quirky").conversational
    assert not offtopic.Query("who won the game last night", "hwu64", "general_quirky").conversational


def test_training_sample_follows_the_option():
    assert len(offtopic.training_examples(3)) < len(offtopic.training_examples(6))


def test_missing_data_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(offtopic.ENV_VAR, str(tmp_path))
    with pytest.raises(offtopic.OfftopicDataMissing, match=offtopic.ENV_VAR):
        offtopic.data_dir()
    assert offtopic_split.main([]) == 1


def test_the_header_is_not_a_query(queries):
    assert not [q for q in queries if q.intent == "intent" or q.text == "text"]


def test_every_dev_line_has_a_category_of_its_scenario(split):
    """The leak is reported per kind of message (python -m bot.devtools.evaluate): none may fall through to 'other'."""
    kinds = Counter(q.category for q in split.dev)
    assert set(kinds) == set(offtopic.CATEGORIES) - {offtopic.OTHER}, kinds
    assert offtopic.category("hwu64", "general_quirky") == offtopic.SMALL_TALK
    assert offtopic.category("hwu64", "calendar_query") == offtopic.OWN_WORK
    assert offtopic.category("hwu64", "iot_hue_lightoff") == offtopic.UTILITIES
    assert offtopic.category("hwu64", "qa_factoid") == offtopic.FACTUAL
    assert offtopic.category("banking77", "receiving_money") == offtopic.BANKING
    assert offtopic.category("hwu64", "spaceship_launch") == offtopic.OTHER
    assert offtopic.category("another_corpus", "calendar_query") == offtopic.OTHER
