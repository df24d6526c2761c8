"""The generated spaCy pipeline finds job levels, states and fields of study."""

from __future__ import annotations

import pytest
import spacy

from bot.nlp import build


@pytest.fixture(scope="module")
def nlp(tmp_path_factory, knowledge):
    return spacy.load(build(knowledge, tmp_path_factory.mktemp("spacy") / "pipeline"))


@pytest.mark.parametrize("text, expected", [
    ("and the managers?", [("managers", "job_level")]),
    ("what do entry-level people earn", [("entry-level", "job_level")]),
    ("and senior ones", [("senior", "job_level")]),
    ("what about in Ohio?", [("Ohio", "us_state")]),
    ("licence rules in new york", [("new york", "us_state")]),
    ("TX?", [("TX", "us_state")]),
    ("what about in OH", [("in OH", "us_state")]),
    ("is a degree in Biology ok", [("Biology", "degree_field")]),
    ("how many hours do lawyers work", [("lawyers", "other_career")]),
    ("what does a software engineer earn", [("software engineer", "other_career")]),
    ("what do loan managers earn", [("loan managers", "job_level")]),
    ("OK thanks", []),
    ("hi there", []),
])
def test_entities(nlp, text, expected):
    assert [(e.text, e.label_) for e in nlp(text).ents] == expected


def test_patterns_come_from_the_knowledge(tmp_path, fixture_knowledge):
    nlp = spacy.load(build(fixture_knowledge, tmp_path / "fixture"))
    assert [(e.text, e.label_) for e in nlp("and the principal keepers?").ents] == [
        ("principal keepers", "job_level")]


def test_jobs_the_knowledge_names_are_not_other_careers(nlp):
    # "accounting clerk" is an entry role in the knowledge: never refused as another job.
    assert "other_career" not in [e.label_ for e in nlp("can I start as an accounting clerk").ents]
