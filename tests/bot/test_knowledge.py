"""The knowledge layer: the real file loads and answers lookups; broken files fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import KNOWLEDGE_DIR
from bot.knowledge import KnowledgeBase, KnowledgeError, load_career

REAL_FILE = KNOWLEDGE_DIR / "mortgage_servicing_specialist.yml"


def test_real_file_has_the_article_pay_levels(career):
    levels = [(l.id, l.low, l.high) for l in career.pay_levels]
    assert levels == [("starting", 24000, 42000), ("experienced", 42000, 59000), ("manager", 59000, 87000)]
    assert career.source_of("pay").name == "Payscale"
    assert career.source_of("pay").cited_in.id == "article"


def test_every_section_names_a_known_source(career):
    for name, section in career.data.items():
        if name in ("career", "sources"):
            continue
        assert section["source"] in career.sources, name


def test_outlook_keeps_its_dates(career):
    outlook = career.section("outlook")
    assert (outlook["period_start"], outlook["period_end"], outlook["growth_percent"]) == (2012, 2022, 8)
    assert career.source_of("outlook").name == "Bureau of Labor Statistics"


@pytest.mark.parametrize("mention, level_id", [
    ("managers", "manager"), ("Loan Managers", "manager"), ("entry-level", "starting"),
    ("entry level", "starting"), ("juniors", "starting"), ("senior", "experienced"),
    ("experienced ones", "experienced"), ("senior specialists", "experienced"),
])
def test_pay_level_resolves_what_users_type(career, mention, level_id):
    assert career.pay_level(mention).id == level_id


@pytest.mark.parametrize("mention", [None, "", "astronaut", "the"])
def test_pay_level_is_none_for_unknown_words(career, mention):
    assert career.pay_level(mention) is None


def test_degree_field_matches_only_listed_fields(career):
    assert career.degree_field("economics") == "Economics"
    assert career.degree_field("biology") is None


def test_a_second_career_is_only_a_file(fixture_knowledge):
    career = fixture_knowledge.career()
    assert career.id == "lighthouse_keeper"
    assert career.pay_level("principal").high == 37000
    assert career.source_of("pay").cited_in.name == "Test Fixture Handbook"


def test_several_careers_need_a_default(tmp_path):
    (tmp_path / "a.yml").write_text(REAL_FILE.read_text())
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge" / "lighthouse_keeper.yml"
    (tmp_path / "b.yml").write_text(fixture.read_text())
    with pytest.raises(KnowledgeError, match="CAREERBOT_CAREER"):
        KnowledgeBase.load(tmp_path)
    kb = KnowledgeBase.load(tmp_path, "lighthouse_keeper")
    assert kb.career().name == "lighthouse keeper"
    assert kb.career("mortgage_servicing_specialist").name == "mortgage servicing specialist"
    with pytest.raises(KnowledgeError, match="expected one of"):
        KnowledgeBase.load(tmp_path, "astronaut")


def _broken(tmp_path, change) -> Path:
    data = yaml.safe_load(REAL_FILE.read_text())
    change(data)
    path = tmp_path / "broken.yml"
    path.write_text(yaml.safe_dump(data))
    return path


def _set(path, value):
    def change(data):
        *parents, last = path
        target = data
        for key in parents:
            target = target[key]
        target[last] = value
    return change


def _delete(*path):
    def change(data):
        *parents, last = path
        target = data
        for key in parents:
            target = target[key]
        del target[last]
    return change


@pytest.mark.parametrize("change, field, expected", [
    (_delete("pay", "levels", 1, "high"), "pay.levels[1].high", "missing"),
    (_delete("licensing"), "licensing", "missing"),
    (_set(("pay", "levels", 0, "low"), "lots"), "pay.levels[0].low", "expected integer, got str 'lots'"),
    (_set(("pay", "levels", 2, "low"), 99000), "pay.levels[2].low", "expected at most high (87000), got 99000"),
    (_set(("duties", "colour"), "blue"), "duties.colour", "unknown key; expected one of items, source"),
    (_set(("pay", "source"), "glassdoor"), "pay.source", "expected a source id"),
    (_set(("hours", "first_day"), "Funday"), "hours.first_day", "expected one of Monday"),
    (_set(("duties", "items"), []), "duties.items", "expected a non-empty value"),
    (_set(("outlook", "period_start"), 2030), "outlook.period_start", "not after period_end"),
    (_set(("sources", "payscale", "cited_in"), "nowhere"), "sources.payscale.cited_in", "expected one of"),
    (_set(("pay", "levels", 1, "id"), "starting"), "pay.levels[1].id", "expected a unique id"),
])
def test_broken_file_names_file_field_and_expectation(tmp_path, change, field, expected):
    path = _broken(tmp_path, change)
    with pytest.raises(KnowledgeError) as caught:
        load_career(path)
    error = caught.value
    assert error.file == path
    assert error.field == field
    assert expected in error.expected
    assert str(path) in str(error) and field in str(error)


def test_invalid_yaml_names_the_line(tmp_path):
    path = tmp_path / "bad.yml"
    path.write_text("career:\n  id: x\n  name: [unclosed\n")
    with pytest.raises(KnowledgeError) as caught:
        load_career(path)
    assert caught.value.field.startswith("line ")
    assert "expected valid YAML" in str(caught.value)


def test_a_list_instead_of_a_mapping_is_rejected(tmp_path):
    path = tmp_path / "list.yml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(KnowledgeError, match=r"\(top level\).*expected a mapping, got list"):
        load_career(path)


def test_missing_file_and_empty_directory(tmp_path):
    with pytest.raises(KnowledgeError, match="expected a readable file"):
        load_career(tmp_path / "nope.yml")
    with pytest.raises(KnowledgeError, match="expected at least one career file"):
        KnowledgeBase.load(tmp_path)
