"""The knowledge layer: the real file loads and answers lookups; broken files fail clearly."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot import KNOWLEDGE_DIR
from bot.knowledge import KnowledgeBase, KnowledgeError, load_career

REAL_FILE = KNOWLEDGE_DIR / "mortgage_servicing_specialist.yml"


def test_real_file_has_the_article_pay_levels(career):
    levels = [(level.id, level.low, level.high) for level in career.pay_levels]
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


@pytest.mark.parametrize(
    "mention, level_id",
    [
        ("managers", "manager"),
        ("Loan Managers", "manager"),
        ("entry-level", "starting"),
        ("entry level", "starting"),
        ("juniors", "starting"),
        ("senior", "experienced"),
        ("experienced ones", "experienced"),
        ("senior specialists", "experienced"),
    ],
)
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


def test_several_careers_have_a_default_only_when_named(tmp_path):
    (tmp_path / "mortgage_servicing_specialist.yml").write_text(REAL_FILE.read_text())
    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "knowledge" / "lighthouse_keeper.yml"
    (tmp_path / "lighthouse_keeper.yml").write_text(fixture.read_text())
    site = KnowledgeBase.load(tmp_path)
    assert site.default is None  # the bot asks which career
    with pytest.raises(LookupError):
        site.career()
    kb = KnowledgeBase.load(tmp_path, "lighthouse_keeper")
    assert kb.career().name == "lighthouse keeper"
    assert kb.career("mortgage_servicing_specialist").name == "mortgage servicing specialist"
    with pytest.raises(KnowledgeError, match="CAREERBOT_CAREER.*expected one of"):
        KnowledgeBase.load(tmp_path, "astronaut")


def test_a_careers_id_is_its_file_name(tmp_path):
    (tmp_path / "servicing.yml").write_text(REAL_FILE.read_text())
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(tmp_path)
    assert caught.value.field == "career.id"
    assert "expected the file name without .yml ('servicing')" in caught.value.expected
    (tmp_path / "servicing.yml").write_text(REAL_FILE.read_text().replace("  id: mortgage_servicing_specialist\n", ""))
    assert KnowledgeBase.load(tmp_path).career().id == "servicing"
    (tmp_path / "Bad-Name.yml").write_text(REAL_FILE.read_text())
    with pytest.raises(KnowledgeError, match=r"\(file name\).*expected a career id"):
        KnowledgeBase.load(tmp_path)


def test_two_careers_cannot_share_a_name(tmp_path):
    (tmp_path / "mortgage_servicing_specialist.yml").write_text(REAL_FILE.read_text())
    text = (KNOWLEDGE_DIR / "tellers.yml").read_text()
    (tmp_path / "tellers.yml").write_text(
        text.replace("aliases: [teller, bank teller]", "aliases: [teller, mortgage specialist]")
    )
    with pytest.raises(KnowledgeError) as caught:
        KnowledgeBase.load(tmp_path)
    assert caught.value.field == "career.aliases"
    assert "'mortgage specialist' also names 'mortgage_servicing_specialist'" in caught.value.expected


def test_the_site_serves_every_career_file():
    site = KnowledgeBase.load(KNOWLEDGE_DIR, "mortgage_servicing_specialist")
    assert sorted(site.careers) == ["loan_officers", "mortgage_servicing_specialist", "tellers"]
    assert site.default.id == "mortgage_servicing_specialist"


@pytest.mark.parametrize(
    "text, ids",
    [
        ("how much do loan officers make?", ["loan_officers"]),
        ("Compare the pay of tellers and loan officers", ["tellers", "loan_officers"]),
        ("a Mortgage Loan Officer or a bank teller?", ["loan_officers", "tellers"]),
        ("tellers, tellers and more tellers", ["tellers"]),
        ("mortgage servicing specialists vs loan officers", ["mortgage_servicing_specialist", "loan_officers"]),
        ("how much do nurses make?", []),
        ("", []),
    ],
)
def test_the_careers_a_message_names(knowledge, text, ids):
    assert [c.id for c in knowledge.named_in(text)] == ids


def test_find_takes_an_id_or_a_name(knowledge):
    assert knowledge.find("loan_officers").id == "loan_officers"
    assert knowledge.find("Bank Tellers").id == "tellers"
    assert knowledge.find("astronaut") is None and knowledge.find(None) is None
    assert knowledge.get(["tellers"]) is None  # a page context of the wrong type


def test_a_source_with_figures_not_levels(knowledge):
    tellers = knowledge.career("tellers")
    assert tellers.pay_levels == []
    assert [(f.measure, f.amount, f.per) for f in tellers.pay_figures if f.measure == "median"] == [
        ("median", 32620, "year"),
        ("median", 15.68, "hour"),
    ]
    assert tellers.as_of("pay") == "May 2020"
    assert tellers.source_of("duties").name.startswith("O*NET OnLine")
    assert not tellers.covers("licensing") and not tellers.covers("hours")
    officers = knowledge.career("loan_officers")
    assert officers.is_statements("licensing") and not officers.is_statements("pay")
    assert officers.statements("licensing") == ["Mortgage loan officers must be licensed."]


def _broken(tmp_path, change) -> Path:
    data = yaml.safe_load(REAL_FILE.read_text())
    change(data)
    path = tmp_path / REAL_FILE.name  # the id in the file must match the name
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


@pytest.mark.parametrize(
    "change, field, expected",
    [
        (_delete("pay", "levels", 1, "high"), "pay.levels[1].high", "missing"),
        # A section with `facts` is plain statements: the structured keys beside them are unknown.
        (
            _set(("licensing", "facts"), ["Licensed."]),
            "licensing.applies_to",
            "unknown key; expected one of as_of, facts",
        ),
        (_set(("hours",), {"facts": [], "source": "article"}), "hours.facts", "expected a non-empty value"),
        (_set(("hours",), {"facts": ["Long days."]}), "hours.source", "missing"),
        (
            _set(("pay", "figures"), [{"measure": "mode", "amount": 1, "per": "year"}]),
            "pay.figures[0].measure",
            "expected one of p10, p25, median, p75, p90, mean",
        ),
        (_set(("pay",), {"currency": "USD", "source": "bls"}), "pay.figures", "missing"),
        (
            _set(
                ("pay",),
                {
                    "currency": "USD",
                    "source": "bls",
                    "levels": [{"id": "a", "name": "A", "low": 1, "high": 2, "aliases": ["a"]}],
                },
            ),
            "pay.period",
            "missing",
        ),
        (_set(("career", "related"), [{"career": "loan_officers"}]), "career.related[0].name", "missing"),
        (_set(("pay", "levels", 0, "low"), "lots"), "pay.levels[0].low", "expected integer, got str 'lots'"),
        (_set(("pay", "levels", 2, "low"), 99000), "pay.levels[2].low", "expected at most high (87000), got 99000"),
        (_set(("duties", "colour"), "blue"), "duties.colour", "unknown key; expected one of items, source"),
        (_set(("pay", "source"), "glassdoor"), "pay.source", "expected a source id"),
        (_set(("hours", "first_day"), "Funday"), "hours.first_day", "expected one of Monday"),
        (_set(("duties", "items"), []), "duties.items", "expected a non-empty value"),
        (_set(("outlook", "period_start"), 2030), "outlook.period_start", "not after period_end"),
        (_set(("sources", "payscale", "cited_in"), "nowhere"), "sources.payscale.cited_in", "expected one of"),
        (_set(("pay", "levels", 1, "id"), "starting"), "pay.levels[1].id", "expected a unique id"),
    ],
)
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
