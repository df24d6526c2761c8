"""Every figure in the careers written from fact sheets traces to those sheets (the project's copies).

The sheets live in bot/content/sources/ so that a fresh clone, with nothing
beside it, checks the knowledge against what it was written from.
"""

from __future__ import annotations

import re

import pytest

from bot import CONTENT_DIR, KNOWLEDGE_DIR
from bot.knowledge import load_career

SHEETS = {"loan_officers": "loan-officers.facts.md", "tellers": "tellers.facts.md"}
# How a sheet labels each pay measure.
MEASURES = {
    "p10": "10th percentile",
    "p25": "25th percentile",
    "median": "median",
    "p75": "75th percentile",
    "p90": "90th percentile",
    "mean": "mean",
}
PER = {"year": ("annual", "year"), "hour": ("hour",)}


def sheet(career_id: str) -> str:
    return (CONTENT_DIR / "sources" / SHEETS[career_id]).read_text(encoding="utf-8")


def numbers(text: str) -> set:
    """The numbers a text states, as the sheet would write them without thousands commas."""
    return {n.replace(",", "") for n in re.findall(r"\d[\d,]*(?:\.\d+)?", text)}


def strings(value):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def amount_text(amount: float) -> str:
    return f"{amount:,.2f}" if not float(amount).is_integer() else f"{int(amount):,}"


@pytest.mark.parametrize("career_id", sorted(SHEETS))
def test_every_number_in_the_file_is_in_its_sheet(career_id):
    career = load_career(KNOWLEDGE_DIR / f"{career_id}.yml")
    in_sheet = numbers(sheet(career_id))
    for section in career.sections:
        for text in strings({k: v for k, v in career.section(section).items() if k != "source"}):
            missing = numbers(text) - in_sheet
            assert not missing, f"{career_id}.{section}: {sorted(missing)} in {text!r} is not in {SHEETS[career_id]}"


@pytest.mark.parametrize("career_id", sorted(SHEETS))
def test_every_pay_figure_is_on_its_line_of_the_sheet(career_id):
    career = load_career(KNOWLEDGE_DIR / f"{career_id}.yml")
    lines = [line.lower() for line in sheet(career_id).splitlines()]
    assert career.pay_figures
    for figure in career.pay_figures:
        wanted = "$" + amount_text(figure.amount)
        matching = [line for line in lines if wanted in line]
        assert matching, f"{career_id}: {wanted} is not in {SHEETS[career_id]}"
        # The line that states the figure also names its measure, and the amount is annual or hourly as stated.
        line = matching[0]
        assert MEASURES[figure.measure] in line, f"{wanted} is not the {figure.measure} there: {line!r}"
        head = line[: line.index(wanted) + len(wanted) + 12]
        if figure.per == "hour":
            assert "hour" in head, f"{wanted} is not hourly there: {line!r}"
        else:
            assert "hour" not in line[: line.index(wanted)] or "annual" in line, f"{wanted} is not annual: {line!r}"


@pytest.mark.parametrize("career_id", sorted(SHEETS))
def test_sources_and_dates_are_the_sheets(career_id):
    career = load_career(KNOWLEDGE_DIR / f"{career_id}.yml")
    text = sheet(career_id)
    assert career.as_of("pay") in text  # "May 2021", "May 2020"
    for source in career.sources.values():
        assert source.licence, f"{career_id}: source {source.id} names no licence"
        if source.url:
            assert source.url.split("//", 1)[1].removeprefix("www.") in text
    for section in career.sections:
        assert career.source_of(section).id in career.sources


def test_tellers_tasks_cite_onet_and_pay_cites_oews():
    tellers = load_career(KNOWLEDGE_DIR / "tellers.yml")
    assert "O*NET 43-3071.00" in tellers.source_of("duties").name
    assert "43-3071" in tellers.source_of("pay").name and tellers.as_of("pay") == "May 2020"


def test_topics_the_sheets_say_are_not_covered_are_absent():
    tellers = load_career(KNOWLEDGE_DIR / "tellers.yml")
    for topic in ("hours", "licensing", "education", "outlook", "qualities", "advancement", "career_development"):
        assert not tellers.covers(topic), topic
    officers = load_career(KNOWLEDGE_DIR / "loan_officers.yml")
    for topic in ("qualities", "career_development", "advancement"):
        assert not officers.covers(topic), topic
