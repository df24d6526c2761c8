"""The generated spaCy pipeline finds job levels, states and fields of study."""

from __future__ import annotations

import pytest
import spacy

from bot.rasa.nlp import build


@pytest.fixture(scope="module")
def nlp(tmp_path_factory, knowledge):
    return spacy.load(build(knowledge, tmp_path_factory.mktemp("spacy") / "pipeline"))


@pytest.mark.parametrize(
    "text, expected",
    [
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
        # Whole words only, and the longest match wins.
        ("are vets paid well", [("vets", "other_career")]),
        ("I'm a veteran in the field", [("veteran", "job_level")]),
        ("what do accountants earn", [("accountants", "other_career")]),
        ("how much does a bank manager make", [("bank manager", "other_career")]),
        ("what do branch managers earn", [("branch managers", "other_career")]),
        ("sales manager salary", [("sales manager", "other_career")]),
        ("what do senior managers earn", [("senior", "job_level"), ("managers", "job_level")]),
        ("how much do CEOs make", [("CEOs", "other_career")]),
        ("what about salespeople", [("salespeople", "other_career")]),
        ("do nurses need a license", [("nurses", "other_career")]),
        ("is a dev paid more", [("dev", "other_career")]),
        ("I want to be a developer", [("developer", "other_career")]),
        ("what is a vet tech", [("vet", "other_career")]),
        ("OK thanks", []),
        ("hi there", []),
    ],
)
def test_entities(nlp, text, expected):
    assert [(e.text, e.label_) for e in nlp(text).ents] == expected


def test_patterns_come_from_the_knowledge(tmp_path, fixture_knowledge):
    nlp = spacy.load(build(fixture_knowledge, tmp_path / "fixture"))
    assert [(e.text, e.label_) for e in nlp("and the principal keepers?").ents] == [("principal keepers", "job_level")]


@pytest.mark.parametrize(
    "text",
    [
        "can I start as an accounting clerk",
        "what is the BLS outlook for loan officers",
        "is a loan officer the same thing",
        "can I become a loan document specialist",
        "how do I become a customer relationship manager",
        "what does a mortgage loan manager do",
        "can a bank teller become a mortgage servicing specialist",
    ],
)
def test_jobs_the_knowledge_names_are_not_other_careers(nlp, text):
    # Generated from the knowledge (entry roles, later roles, the outlook's scope), not listed by hand.
    labels = {e.text.lower(): e.label_ for e in nlp(text).ents}
    assert not any(label == "other_career" and "teller" not in job for job, label in labels.items()), labels


def test_a_knowledge_role_is_found_in_the_singular_and_plural(nlp):
    for text in ("loan officer", "loan officers", "accounting clerks"):
        assert [e.label_ for e in nlp(text).ents] == ["career_role"], text


def test_the_extracted_labels_leave_the_knowledge_roles_and_sources_out(nlp):
    from bot.rasa.nlp import ENTITY_LABELS, OWN_ROLE_LABEL, SOURCE_LABEL

    # Rasa's SpacyEntityExtractor keeps only these dimensions (config.yml): a role or
    # source span only stops shorter patterns inside it from firing.
    assert OWN_ROLE_LABEL not in ENTITY_LABELS and SOURCE_LABEL not in ENTITY_LABELS
    assert [e.label_ for e in nlp("what does the Bureau of Labor Statistics say").ents] == [SOURCE_LABEL]


def test_a_fixture_career_excludes_its_own_roles(tmp_path, fixture_knowledge):
    nlp = spacy.load(build(fixture_knowledge, tmp_path / "fixture"))
    # "lamp cleaner" is the fixture's entry role; "cleaner" alone is no pattern either.
    assert [e.label_ for e in nlp("can I start as a lamp cleaner").ents] == ["career_role"]
    # The mortgage knowledge's roles are not the fixture's: a loan officer is another job there.
    assert [(e.text, e.label_) for e in nlp("what do loan officers earn").ents] == [("loan officers", "other_career")]
