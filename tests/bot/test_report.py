"""The report's building blocks. Its figures are checked on conversations real
servers stored, in tests/e2e/test_report_figures.py (no made-up trackers here)."""

from __future__ import annotations

import re

import pytest

from bot.ops.report.figures import build_report
from bot.ops.report.html_page import rate_chart
from bot.ops.report.loading import ListedEvents, Row, StoredEvents
from bot.ops.store import StoreError
from bot.redaction import redact_contacts


@pytest.mark.parametrize(
    "text, expected",
    [
        ("mail me at ann.lee+x@example.co.uk please", "mail me at [e-mail redacted] please"),
        ("call +1 555 123 4567 or (555) 123-4567", "call [phone redacted] or [phone redacted]"),
        ("my account is 12345678, card 4111-1111-1111-1111", "my account is [number redacted], card [number redacted]"),
        ("pay of $42,000 in 2026 for 3 levels", "pay of $42,000 in 2026 for 3 levels"),
    ],
)
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
    with pytest.raises(StoreError, match="does not exist"):
        list(StoredEvents(f"sqlite:///{missing}")())
    assert not missing.exists()


def test_an_unreachable_database_is_one_line_without_the_password():
    with pytest.raises(StoreError) as raised:
        list(StoredEvents("postgresql://bot:hunter2@127.0.0.1:1/careerbot")())
    message = str(raised.value)
    assert "postgresql://bot:***@127.0.0.1:1/careerbot" in message and "hunter2" not in message
    assert "\n" not in message


def test_answers_stored_before_answers_had_ids_count_once_by_their_message():
    """Rows as the previous version stored them: Rasa's carry-over wrote the topic slot again in the new
    session; the answers are counted from the bot messages, once each."""

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
    report = build_report(ListedEvents(rows))
    assert (report.totals.conversations, report.totals.answers, report.totals.deflected_conversations) == (2, 2, 1)
    assert {t.topic: t.answers for t in report.topics} == {"pay": 1, "licensing": 1}


def _rows(sender, *events):
    """Rows as the tracker store holds them: (type, data) in order, one second apart."""
    return [Row(i, sender, kind, 1000.0 + i, data.get("name"), data) for i, (kind, data) in enumerate(events, 1)]


def _user(text, context=None):
    return "user", {"text": text, "input_channel": "rest", **({"metadata": {"context": context}} if context else {})}


def _bot(response, **meta):
    return "bot", {"text": response, "metadata": {"utter_action": response, **meta}}


def test_answers_stored_before_careers_were_recorded_are_not_recorded_and_nothing_breaks():
    rows = _rows(
        "old",
        _user("how much?"),
        _bot("utter_answer_pay"),
        _user("and the hours?"),
        _bot("utter_answer_hours", answer_id="a1", topic="hours"),
        _user("a joke"),
        _bot("utter_fallback"),
    )
    report = build_report(ListedEvents(rows))
    assert [(name, f.conversations, f.messages, f.answers, f.fallback_messages) for name, f in report.careers] == [
        ("(not recorded)", 1, 3, 2, 1)
    ]
    assert [(name, f.messages) for name, f in report.pages] == [("(no page context)", 3)]
    assert {(career, tf.topic, tf.answers) for career, tf in report.career_topics} == {
        ("(not recorded)", "hours", 1),
        ("(not recorded)", "pay", 1),
    }


def test_a_page_context_that_names_no_career_is_other_and_a_name_that_is_no_id_is_not_a_career():
    rows = [
        *_rows("a", _user("hi", "pay-guide"), _bot("utter_fallback")),
        *_rows("b", _user("hi", {"article": "pay"}), _bot("utter_fallback")),
        *_rows("c", _user("hi", {"career": "<b>Tellers</b>"}), _bot("utter_fallback")),
        *_rows("d", _user("hi", {"career": "tellers"}), _bot("utter_fallback")),
        *_rows("e", _user("hi"), _bot("utter_fallback")),
    ]
    report = build_report(ListedEvents(rows))
    assert {name: f.messages for name, f in report.pages} == {
        "(other page context)": 3,
        "tellers": 1,
        "(no page context)": 1,
    }
    # A fallback on the tellers' page was a question about tellers; elsewhere nothing says which career.
    assert {name: f.fallback_messages for name, f in report.careers} == {"tellers": 1, "(not recorded)": 4}


def test_one_question_answered_in_several_messages_is_one_answer_and_a_partial_gap_is_not_a_fallback():
    """Today only the first answer message of a turn has an id; the others are no old-style answers."""
    rows = _rows(
        "lo",
        _user("what should I study?", {"career": "loan_officers"}),
        _bot("utter_answer_statements", answer_id="a1", topic="education", career="loan_officers"),
        _bot("utter_answer_statements", career="loan officer"),
        _bot("utter_not_covered_only", topics="the training", career_plural="loan officers"),
        ("slot", {"name": "career", "value": "loan_officers"}),
        _user("do I need a license?", {"career": "tellers"}),
        _bot("utter_not_covered", topics="the licence", career_plural="tellers"),
        ("slot", {"name": "career", "value": "tellers"}),
    )
    report = build_report(ListedEvents(rows))
    assert (report.totals.answers, report.totals.fallback_messages) == (1, 1)
    assert {name: (f.messages, f.answers, f.fallback_messages) for name, f in report.careers} == {
        "loan_officers": (1, 1, 0),
        "tellers": (1, 0, 1),
    }
    assert [(career, said) for career, said, _, _ in report.not_covered] == [
        ("loan_officers", "the training"),
        ("tellers", "the licence"),
    ]


DEFAULT_CAREER_ROWS = [
    # On the default career the actions set no `career` slot: the answers say which career it is on.
    _user("how much?"),
    _bot("utter_answer_pay", answer_id="d1", topic="pay", career="mortgage_servicing_specialist"),
    _user("a joke"),
    _bot("utter_fallback"),
    # A not-covered reply that names its career needs no slot either.
    _user("do tellers need a license?"),
    _bot("utter_not_covered", topics="the licence", career="tellers"),
    _user("another joke"),
    _bot("utter_fallback"),
]


def test_a_conversation_on_the_default_career_stays_on_the_career_of_its_answers_and_gaps():
    report = build_report(ListedEvents(_rows("dflt", *DEFAULT_CAREER_ROWS)))
    assert {name: (f.messages, f.answers, f.fallback_messages) for name, f in report.careers} == {
        "mortgage_servicing_specialist": (2, 1, 1),
        "tellers": (2, 0, 2),
    }


def test_the_sqlite_views_read_old_answers_page_contexts_and_partial_gaps_as_the_report(tmp_path):
    """The rows of the tests above in a real SQLite store: the views give the report's split."""
    import json

    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.ops.report_views import create_views

    rows = [
        *_rows(
            "old",
            _user("how much?"),
            _bot("utter_answer_pay"),
            _user("and the hours?"),
            _bot("utter_answer_hours", answer_id="a1", topic="hours"),
            _user("a joke"),
            _bot("utter_fallback"),
        ),
        *_rows("a", _user("hi", "pay-guide"), _bot("utter_fallback")),
        *_rows("c", _user("hi", {"career": "<b>Tellers</b>"}), _bot("utter_fallback")),
        *_rows("d", _user("hi", {"career": "tellers"}), _bot("utter_fallback")),
        *_rows(
            "lo",
            _user("what should I study?", {"career": "loan_officers"}),
            _bot("utter_answer_statements", answer_id="a1", topic="education", career="loan_officers"),
            _bot("utter_answer_statements", career="loan officer"),
            _bot("utter_not_covered_only", topics="the training"),
            ("slot", {"name": "career", "value": "loan_officers"}),
            _user("do I need a license?", {"career": "tellers"}),
            _bot("utter_not_covered", topics="the licence"),
            ("slot", {"name": "career", "value": "tellers"}),
            _user("and the pay?"),
            _bot("utter_fallback"),
        ),
        *_rows("dflt", *DEFAULT_CAREER_ROWS),
    ]
    url = f"sqlite:///{tmp_path / 'tracker.db'}"
    engine = sa.create_engine(url)
    table = SQLTrackerStore.SQLEvent.__table__
    table.metadata.create_all(engine, tables=[table])
    with engine.begin() as connection:
        connection.execute(
            table.insert(),
            [
                {
                    "sender_id": r.sender_id,
                    "type_name": r.type_name,
                    "timestamp": r.timestamp,
                    "action_name": None,
                    "data": json.dumps({"event": r.type_name, "timestamp": r.timestamp, **r.data}),
                }
                for r in rows
            ],
        )
    report = build_report(StoredEvents(url))
    create_views(url)
    with engine.connect() as connection:
        careers = {
            c: (int(n), int(m), int(a), int(f))
            for c, n, m, a, f in connection.execute(
                sa.text(
                    "SELECT career, SUM(conversations), SUM(messages), SUM(answers), SUM(fallback_messages) "
                    "FROM careerbot_careers GROUP BY career"
                )
            )
        }
        pages = {
            (p, c): (int(q), int(a), int(n))
            for p, c, q, a, n in connection.execute(
                sa.text(
                    "SELECT page, career, SUM(questions), SUM(answered), SUM(could_not_answer) "
                    "FROM careerbot_page_careers GROUP BY page, career"
                )
            )
        }
    engine.dispose()
    assert careers == {
        name: (f.conversations, f.messages, f.answers, f.fallback_messages) for name, f in report.careers
    }
    assert pages == {(p.page, p.career): (p.questions, p.answered, p.not_answered) for p in report.page_careers}
    # The visitor's last question, on no page now, stays on the career in force: tellers.
    assert careers == {
        "(not recorded)": (3, 5, 2, 3),
        "tellers": (3, 5, 0, 5),
        "loan_officers": (1, 1, 1, 0),
        "mortgage_servicing_specialist": (1, 2, 1, 1),
    }
