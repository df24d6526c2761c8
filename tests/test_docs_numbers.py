"""The numbers of README.md and docs/ are their sources' (bot/devtools/docs_numbers.py, `make docs-numbers`).

Each number sits in a marked span naming its key; no sentence is matched, so rewording
the prose around a number never fails a test. The measured numbers come from
docs/numbers.yml; tests/nlu/test_accuracy.py and test_conversations.py check that the
record holds what the current model measures.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.devtools import docs_numbers
from bot.settings import Settings, SettingsError


@pytest.fixture(scope="module")
def checked():
    """The check of `make docs-numbers` over the project's docs: (stale spans, keys used)."""
    return docs_numbers.run(docs_numbers.docs(), check=True)


def test_every_number_of_the_docs_is_its_sources(checked):
    stale, used = checked
    assert used, "no marked number in README.md or docs/"
    assert [str(s) for s in stale] == [], "run `make docs-numbers` (after the measuring command, for a measured one)"


def test_every_number_the_code_defines_is_quoted_somewhere(checked):
    """A span removed from the docs would leave its number unchecked: each source must still be used."""
    _, used = checked
    assert sorted(set(docs_numbers.SOURCES) - set(used)) == []


def test_the_record_holds_every_measuring_run():
    """load_record checks that each names its command and day (below)."""
    assert {"evaluate", "conversations", "bench", "check"} <= set(docs_numbers.load_record())


def test_the_shortest_token_found_is_the_one_refused_one_shorter():
    length = docs_numbers.shortest_token("CAREERBOT_REST_TOKEN")
    with pytest.raises(SettingsError):
        Settings.from_env({"CAREERBOT_REST_TOKEN": "x" * (length - 1)})
    assert Settings.from_env({"CAREERBOT_REST_TOKEN": "x" * length}).rest_token


@pytest.mark.parametrize(
    "value, shown", [(2000, "2,000"), (65536, "65,536"), (30.0, "30"), (0.85, "0.85"), (0.011 * 100, "1.1"), (5, "5")]
)
def test_numbers_are_shown_as_the_docs_write_them(value, shown):
    assert docs_numbers.plain(value) == shown


def test_a_constant_is_read_from_its_file_and_a_missing_one_is_named():
    assert docs_numbers.constant("bot/channels/validation.py", "MAX_JSON_DEPTH") == 16
    with pytest.raises(docs_numbers.NumbersError, match="bot/channels/validation.py: no module-level NO_SUCH"):
        docs_numbers.constant("bot/channels/validation.py", "NO_SUCH")


# The detector itself, on documents and records of its own.


@pytest.fixture()
def record(tmp_path: Path) -> Path:
    path = tmp_path / "numbers.yml"
    docs_numbers.record("evaluate", "python -m bot.devtools.evaluate --record", {"test.answer_accuracy": "96.2"}, path)
    docs_numbers.record("bench", "python -m bot.devtools.bench --record", {"table": "| a | b |\n|---|---|"}, path)
    return path


def write(tmp_path: Path, text: str) -> Path:
    doc = tmp_path / "page.md"
    doc.write_text(text, encoding="utf-8")
    return doc


def test_a_stale_number_is_named_and_check_writes_nothing(tmp_path, record):
    text = (
        "Answers: **<!-- n:evaluate.test.answer_accuracy -->95.0<!-- /n --> %**.\n"
        "Waits <!-- n:settings.action_timeout -->`9`<!-- /n --> s.\n"
    )
    doc = write(tmp_path, text)
    stale, used = docs_numbers.run([doc], check=True, record_path=record)
    assert used == ["evaluate.test.answer_accuracy", "settings.action_timeout"]
    timeout = docs_numbers.plain(Settings.from_env({}).action_timeout_s)
    assert [(s.line, s.key, s.written, s.expected) for s in stale] == [
        (1, "evaluate.test.answer_accuracy", "95.0", "96.2"),
        (2, "settings.action_timeout", "9", timeout),
    ]
    assert "page.md:1: evaluate.test.answer_accuracy: the docs say '95.0', it is '96.2'" in str(stale[0])
    assert doc.read_text(encoding="utf-8") == text


def test_make_docs_numbers_rewrites_only_the_spans(tmp_path, record):
    doc = write(tmp_path, "Waits <!-- n:settings.action_timeout -->`9`<!-- /n --> s (not 9).\n")
    docs_numbers.run([doc], check=False, record_path=record)
    timeout = docs_numbers.plain(Settings.from_env({}).action_timeout_s)
    assert (
        doc.read_text(encoding="utf-8")
        == f"Waits <!-- n:settings.action_timeout -->`{timeout}`<!-- /n --> s (not 9).\n"
    )
    assert docs_numbers.run([doc], check=True, record_path=record)[0] == []


def test_a_block_of_several_lines_stands_between_the_markers(tmp_path, record):
    doc = write(tmp_path, "Latest:\n\n<!-- n:bench.table -->\n| old |\n<!-- /n -->\n")
    stale, _ = docs_numbers.run([doc], check=False, record_path=record)
    assert [s.key for s in stale] == ["bench.table"]
    assert doc.read_text(encoding="utf-8") == "Latest:\n\n<!-- n:bench.table -->\n| a | b |\n|---|---|\n<!-- /n -->\n"


def test_an_unknown_key_fails_and_nothing_is_written(tmp_path, record, capsys):
    other = write(tmp_path, "Waits <!-- n:settings.action_timeout -->9<!-- /n --> s.\n")
    typo = tmp_path / "typo.md"
    typo.write_text("<!-- n:evaluate.test.answer_acuracy -->96.2<!-- /n -->\n", encoding="utf-8")
    stale, _ = docs_numbers.run([other, typo], check=False, record_path=record)
    assert [(s.key, s.expected) for s in stale if s.expected is None] == [("evaluate.test.answer_acuracy", None)]
    assert "no such number" in str(stale[-1])
    assert "9<!-- /n -->" in other.read_text(encoding="utf-8")


def test_the_command_exits_1_naming_a_stale_number(tmp_path, record, monkeypatch, capsys):
    monkeypatch.setattr(docs_numbers, "RECORD", record)
    doc = write(tmp_path, "<!-- n:evaluate.test.answer_accuracy -->90.0<!-- /n -->\n")
    assert docs_numbers.main(["--check", str(doc)]) == 1
    assert "evaluate.test.answer_accuracy: the docs say '90.0', it is '96.2'" in capsys.readouterr().err
    assert docs_numbers.main([str(doc)]) == 0
    assert docs_numbers.main(["--check", str(doc)]) == 0


def test_a_record_entry_without_its_command_is_named(tmp_path):
    path = tmp_path / "numbers.yml"
    path.write_text("evaluate:\n  measured: '2026-12-07'\n  values: {a: '1'}\n", encoding="utf-8")
    with pytest.raises(docs_numbers.NumbersError, match=r"numbers.yml: evaluate.command: expected str, got None"):
        docs_numbers.load_record(path)
    path.write_text("evaluate:\n  command: x\n  measured: '2026-12-07'\n  values: {a: 96.2}\n", encoding="utf-8")
    with pytest.raises(docs_numbers.NumbersError, match=r"evaluate.values.a: expected text as the docs show it"):
        docs_numbers.load_record(path)
    path.write_text("evaluate:\n  command: x\n  measured: 'last week'\n  values: {a: '1'}\n", encoding="utf-8")
    with pytest.raises(docs_numbers.NumbersError, match=r"evaluate.measured: expected a day, YYYY-MM-DD"):
        docs_numbers.load_record(path)


def test_the_record_may_not_shadow_a_number_of_the_code(tmp_path):
    path = tmp_path / "numbers.yml"
    docs_numbers.record("settings", "make x", {"action_timeout": "7"}, path)
    with pytest.raises(docs_numbers.NumbersError, match="settings.action_timeout is a number the code defines"):
        docs_numbers.sources(path)


# What the measuring commands record.


@pytest.mark.parametrize("seconds, shown", [(93.4, "1 min 33 s"), (45.0, "45 s"), (270.0, "4 min 30 s")])
def test_make_checks_time_is_shown_as_the_readme_writes_it(seconds, shown):
    assert docs_numbers.minutes(seconds) == shown


def test_evaluate_records_each_default_set_by_its_name():
    from bot.devtools.evaluate import (
        DEV_SET,
        OFFTOPIC_NAME,
        TEST_SET,
        Outcome,
        Report,
        _shown,
        figures,
        misspelled_name,
    )

    right, wrong = Outcome("a", "ask_pay", "ask_pay"), Outcome("b", "ask_pay", "ask_hours")
    off, leaked = Outcome("c", "out_of_scope", "out_of_scope"), Outcome("d", "out_of_scope", "ask_pay")
    reports = [
        Report(_shown(TEST_SET), [right, right, right, wrong, off]),
        Report(_shown(DEV_SET), [right]),
        Report(misspelled_name(TEST_SET), [right, wrong]),
        Report("tests/nlu/other.yml", [wrong]),  # not a default set: not recorded
        Report(OFFTOPIC_NAME, [off, off, off, leaked], traffic=True),
    ]
    found = figures(reports)
    assert found["test.intent_accuracy"] == "80.0" and found["test.leak"] == "0.0"
    assert found["dev.answer_accuracy"] == "100.0" and "dev.leak" not in found
    assert found["misspelled_test.answer_accuracy"] == "50.0"
    assert (found["offtopic.leak"], found["offtopic.leaked"], found["offtopic.refused"]) == ("25.0", "1", "75.0")
    assert not any(key.startswith("other") for key in found)


def test_bench_records_the_targets_figures_as_its_table_shows_them():
    from bot.devtools import bench

    def run(first_answer: float, memory: float, latency: float, wall: float) -> "bench.BotRun":
        result = bench.BotRun("x", 0.0, first_answer, memory)
        result.rounds = {c: [bench.LoadResult([latency] * 10, 0, 0, wall)] for c in (1, 8)}
        return result

    found = bench.headline(run(18.5, 778.3, 0.0337, 1.0), run(58.1, 1091.3, 0.0613, 2.0))
    assert (found["p50_1.ratio"], found["p50_1.careerbot"], found["p50_1.stock"]) == ("0.55x", "33.7", "61.3")
    assert (found["memory.careerbot"], found["memory.stock"], found["first_answer.ratio"]) == ("778", "1,091", "0.32x")
    assert (found["throughput_8.careerbot"], found["throughput_8.stock"], found["errors_8"]) == ("10.0", "5.0", "0")


def test_the_check_time_counts_every_test_of_the_tier_once():
    """make check's output as make prints it: the lint step's architecture tests (run again in the tier), the
    tier's run in two processes, then a serial file that passed and one with no test of the tier."""
    output = (
        ".venv/bin/python -m pytest -q -p no:cacheprovider tests/test_architecture.py\n"
        "9 passed in 0.52s\n"
        '.venv/bin/python -m pytest -q -p no:cacheprovider -n 2 -m "(not model) and not serial"\n'
        "756 passed, 1 skipped, 24 warnings in 55.77s\n"
        "14 passed, 1 warning in 5.53s\n"
        "4 deselected in 0.40s\n"
    )
    assert docs_numbers.tier_tests(output) == 770
    assert docs_numbers.tier_tests(output.replace(" -n 2 ", " ")) is None
    assert docs_numbers.tier_tests("no summary at all") is None
