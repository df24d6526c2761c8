"""The report's building blocks. Its figures are checked on conversations real
servers stored, in tests/e2e/test_report_figures.py (no made-up trackers here)."""

from __future__ import annotations

import re

import pytest

from bot.redaction import redact_contacts
from bot.ops.report import ReportError, load_rows, rate_chart


@pytest.mark.parametrize("text, expected", [
    ("mail me at ann.lee+x@example.co.uk please", "mail me at [e-mail redacted] please"),
    ("call +1 555 123 4567 or (555) 123-4567", "call [phone redacted] or [phone redacted]"),
    ("my account is 12345678, card 4111-1111-1111-1111", "my account is [number redacted], card [number redacted]"),
    ("pay of $42,000 in 2026 for 3 levels", "pay of $42,000 in 2026 for 3 levels"),
])
def test_contact_details_are_redacted(text, expected):
    assert redact_contacts(text) == expected


def test_rate_charts_are_on_a_fixed_0_to_100_axis_with_a_table():
    chart = rate_chart("Rates", [("Deflection", 0.61), ("Fallback", 0.05)], "r")
    assert [t for t in re.findall(r">(\d+) %<", chart)] == ["0", "25", "50", "75", "100"]
    widths = [float(w) for w in re.findall(r"<rect x='\d+' y='[\d.]+' width='([\d.]+)'", chart)]
    assert widths == [pytest.approx(200 * 0.61), pytest.approx(200 * 0.05)]  # 61 % is not the full width
    assert "<table>" in chart and "<td>61.0 %</td>" in chart and "role='img'" in chart


def test_a_rate_over_nothing_has_no_bar_and_each_rate_says_what_it_is_over():
    chart = rate_chart("Helpful", [("The pay", None), ("The hours", 0.5)], "h", of=[0, 4])
    assert chart.count("<rect") == 1 and ">none rated<" in chart and ">50.0 % of 4<" in chart
    assert "<td>The pay</td><td>–</td>" in chart and "<td>The hours</td><td>50.0 %</td>" in chart
    assert "<td>mine</td>" in rate_chart("Helpful", [("The pay", None)], "h", table="<td>mine</td>")


def test_a_missing_sqlite_file_is_an_error_and_is_not_created(tmp_path):
    missing = tmp_path / "typo.db"
    with pytest.raises(ReportError, match="does not exist"):
        load_rows(f"sqlite:///{missing}")
    assert not missing.exists()


def test_an_unreachable_database_is_one_line_without_the_password():
    with pytest.raises(ReportError) as raised:
        load_rows("postgresql://bot:hunter2@127.0.0.1:1/careerbot")
    message = str(raised.value)
    assert "postgresql://bot:***@127.0.0.1:1/careerbot" in message and "hunter2" not in message
    assert "\n" not in message


def test_answers_stored_before_answers_had_ids_count_once_by_their_message():
    """Rows as the previous version stored them: Rasa's carry-over wrote the topic slot again in the new
    session; the answers are counted from the bot messages, once each."""
    from bot.ops.report import Row, build_report

    def row(i, kind, at, **data):
        return Row(i, "old", kind, at, data.get("name"), data)

    rows = [
        row(1, "user", 1000.0, text="how much?", input_channel="rest"),
        row(2, "bot", 1000.1, text="The annual pay...", metadata={"utter_action": "utter_answer_pay"}),
        row(3, "slot", 1000.1, name="topic", value="pay"),
        row(4, "bot", 1000.2, text="Licensing...", metadata={"utter_action": "utter_answer_licensing_state"}),
        row(5, "session_started", 9000.0),
        row(6, "slot", 9000.0, name="topic", value="pay"),
        row(7, "user", 9000.1, text="hi", input_channel="rest"),
    ]
    report = build_report(rows)
    assert (report.totals.conversations, report.totals.answers, report.totals.deflected_conversations) == (2, 2, 1)
    assert {t.topic: t.answers for t in report.topics} == {"pay": 1, "licensing": 1}
