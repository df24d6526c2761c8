"""The report's building blocks. Its figures are checked on conversations real
servers stored, in tests/e2e/test_report_figures.py (no made-up trackers here)."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest

from bot.ops.report.figures import FIGURE_NAMES, build_report
from bot.ops.report.html_page import rate_chart
from bot.ops.report.loading import ListedEvents, Row, StoredEvents
from bot.ops.store import StoreError
from bot.redaction import redact_contacts
from tests.support.stores import write_events


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
        return Row(i, "old", kind, at, data)

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
    return [Row(i, sender, kind, 1000.0 + i, data) for i, (kind, data) in enumerate(events, 1)]


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
    import sqlalchemy as sa

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
    url = _store(tmp_path, rows)
    engine = sa.create_engine(url)
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


def _store(tmp_path, rows, name="tracker.db"):
    """The rows in a real SQLite store, as Rasa's SQL tracker store writes them."""
    return write_events(f"sqlite:///{tmp_path / name}", rows)


def _visitor(sender, start, channel="rest", helpful=True, handoff=True):
    """A visitor with two sessions: answers rated (one late, one twice), a fallback, a gap in a career's
    source, a handoff; then a fallback, an abandoned handoff and an answer stored before answers had ids."""
    return [
        Row(i, sender, kind, start + i, data)
        for i, (kind, data) in enumerate(
            [
                (
                    "user",
                    {
                        "text": "how much? mail a@b.com",
                        "input_channel": channel,
                        "metadata": {"context": {"career": "tellers"}},
                    },
                ),
                _bot("utter_answer_pay", answer_id=f"{sender}1", topic="pay", career="tellers"),
                _user("and the hours?"),
                _bot("utter_answer_hours", answer_id=f"{sender}2", topic="hours", career="tellers"),
                ("slot", {"name": "feedback", "value": {"answer_id": f"{sender}2", "helpful": helpful}}),
                ("slot", {"name": "feedback", "value": {"answer_id": f"{sender}1", "helpful": False}}),
                ("slot", {"name": "feedback", "value": {"answer_id": f"{sender}1", "helpful": True}}),
                _user("tell me a joke"),
                _bot("utter_fallback"),
                _user("do they need a license?", "pay-guide"),
                _bot("utter_not_covered", topics="the licence", career="loan_officers"),
                (
                    "slot",
                    {
                        "name": "handoff",
                        "value": {"id": f"{sender}h", "status": "submitted" if handoff else "abandoned"},
                    },
                ),
                ("session_started", {}),
                _user("tell me a joke"),
                _bot("utter_fallback"),
                ("slot", {"name": "handoff", "value": {"id": f"{sender}a", "status": "abandoned"}}),
                _user("how much?"),
                _bot("utter_answer_pay"),
            ],
            1,
        )
    ]


VISITORS = [
    # Two visitors start at the same second: they are numbered by sender id, as before.
    *_visitor("zed", 1000.0),
    *_visitor("amy", 1000.0, channel="socketio", helpful=False),
    *_visitor("bo", 2000.0, handoff=False),
    *_visitor("cy", 500.0),
]


def _reference(conversations):
    """The figures as the report defined them before it streamed: over every conversation at once."""
    from bot.ops.report.figures import Figures

    def figures(parts):
        f = Figures()
        for c in parts:
            f.add(c)
        f.visitors = len({c.sender_id for c in parts})
        return f

    def split(key):
        parts = {}
        for c in conversations:
            for name, part in c.split(lambda t: getattr(t, key), lambda a: getattr(a, key)).items():
                parts.setdefault(name, []).append(part)
        return sorted(((k, figures(ps)) for k, ps in parts.items()), key=lambda i: (-i[1].conversations, i[0]))

    channels = {}
    for c in conversations:
        channels.setdefault(c.channel, []).append(c)
    return (
        figures(conversations),
        sorted(((k, figures(cs)) for k, cs in channels.items()), key=lambda i: (-i[1].conversations, i[0])),
        split("career"),
        split("page"),
    )


@pytest.mark.parametrize(
    "rows, order",
    [
        (VISITORS, ["cy", "cy", "amy", "zed", "amy", "zed", "bo", "bo"]),
        (
            [*_rows("old", _user("hi"), _bot("utter_fallback")), *VISITORS],
            ["cy", "cy", "amy", "old", "zed", "amy", "zed", "bo", "bo"],
        ),
    ],
)
def test_the_streamed_figures_are_those_over_every_conversation_at_once(tmp_path, rows, order):
    from bot.ops.report.loading import conversations

    url = _store(tmp_path, rows)
    report = build_report(StoredEvents(url))
    everything = [c for sender in conversations(StoredEvents(url)()) for c in sender]
    assert (report.totals, report.channels, report.careers, report.pages) == _reference(everything)
    assert report.totals.conversations == len(everything) == len(order)
    # Numbered over all of them in the order they started; at the same second, by sender id.
    assert [report.transcript(n).sender_id for n in sorted(report.linked)] == order
    numbers = [n for n, sender in enumerate(order, 1) if sender != "old"]
    assert report.unanswered[0] == ("tell me a joke", 8, numbers)
    assert [(label, n) for label, _, n in report.not_helpful] == [
        ("The pay", 1),
        ("The pay", 3),
        ("The working hours", 3),
        ("The pay", order.index("zed") + 1),
        ("The pay", order.index("bo") + 1),
    ]


def test_the_report_holds_one_visitors_conversations_at_a_time(tmp_path, monkeypatch):
    """However many visitors: the conversations are read and counted one visitor after another, and only
    the transcripts the report links to are kept, on disk."""
    import weakref

    from bot.ops.report import loading

    rows = [r for n in range(40) for r in _visitor(f"v{n:02d}", 1000.0 * n, helpful=n % 2 == 0)]
    rows += [
        r for n in range(40) for r in _rows(f"w{n:02d}", _user("how much?"), _bot("utter_answer_pay", answer_id="a"))
    ]
    url = _store(tmp_path, rows)
    read, refs = loading.sender_conversations, []

    def registered(sender, events):
        found = read(sender, events)
        refs.extend(weakref.ref(c) for c in found)
        return found

    def alive():
        return sum(ref() is not None for ref in refs)

    monkeypatch.setattr(loading, "sender_conversations", registered)
    source = StoredEvents(url)
    held = []

    def counting():
        sender = None
        for row in source():
            if row.sender_id != sender:
                sender = row.sender_id
                held.append(alive())
            yield row

    report = build_report(counting)
    assert report.totals.conversations == 120 and len(held) == 80
    # At most the visitor being read and the one before it (two conversations each) are in memory.
    assert 0 < max(held) <= 4, held
    assert alive() == 0
    # The transcripts of the conversations with something to link to (the v visitors'), from the spool.
    assert len(report.linked) == 80 and {report.transcript(n).sender_id[0] for n in report.linked} == {"v"}


def test_the_sqlite_views_and_the_report_give_the_same_figures(tmp_path):
    """One day of visitors with every kind of record: each view's figures are the report's."""
    import sqlalchemy as sa

    from bot.ops.report_views import create_views

    url = _store(tmp_path, [*_rows("old", _user("hi"), _bot("utter_fallback")), *VISITORS])
    report = build_report(StoredEvents(url))
    create_views(url)
    engine = sa.create_engine(url)
    columns = ", ".join(FIGURE_NAMES)
    with engine.connect() as connection:
        daily = {
            c: tuple(v) for c, *v in connection.execute(sa.text(f"SELECT channel, {columns} FROM careerbot_daily"))
        }
        careers = {
            c: tuple(v) for c, *v in connection.execute(sa.text(f"SELECT career, {columns} FROM careerbot_careers"))
        }
        topics = {
            (c, t): tuple(v)
            for c, t, *v in connection.execute(
                sa.text("SELECT career, topic, answers, rated, helpful, not_helpful, unrated FROM careerbot_topics")
            )
        }
        pages = {
            (p, c): tuple(v)
            for p, c, *v in connection.execute(
                sa.text("SELECT page, career, questions, answered, could_not_answer FROM careerbot_page_careers")
            )
        }
    engine.dispose()
    assert daily == {name: tuple(getattr(f, n) for n in FIGURE_NAMES) for name, f in report.channels}
    assert careers == {name: tuple(getattr(f, n) for n in FIGURE_NAMES) for name, f in report.careers}
    assert topics == {
        (c, t.topic): (t.answers, t.rated, t.helpful, t.not_helpful, t.unrated) for c, t in report.career_topics
    }
    assert pages == {(p.page, p.career): (p.questions, p.answered, p.not_answered) for p in report.page_careers}
    assert report.totals.handoff_conversations and report.totals.rated_unhelpful_conversations


def test_the_views_are_one_definition_written_out_for_each_dialect():
    """The dialects differ only where SQL does (reading JSON, making a day); the lists of replies are the
    report's own, and every placeholder is filled in."""
    from bot.ops.report import loading
    from bot.ops.report_views import VIEWS_SQL, sql_for, statements

    sqlite, postgresql = sql_for("sqlite"), sql_for("postgresql")
    assert "{{" not in sqlite + postgresql and "{{" in VIEWS_SQL.read_text(encoding="utf-8")
    assert len(statements(sqlite)) == len(statements(postgresql)) == 22
    assert "json_extract(data, '$.metadata.utter_action')" in sqlite and "->>" not in sqlite
    assert "(data::json)->'metadata'->>'utter_action'" in postgresql and "json_extract" not in postgresql
    for reply in loading.FALLBACK_RESPONSES | loading.NOT_COVERED_RESPONSES:
        assert f"'{reply}'" in sqlite and f"'{reply}'" in postgresql


def _everything(report):
    """All a report says: its figures and lists, and each linked conversation's transcript by its number."""
    fields = {name: value for name, value in vars(report).items() if name not in ("spool", "linked")}
    transcripts = {n: vars(report.transcript(n)) for n in report.linked}
    return fields, transcripts


@pytest.mark.parametrize("processes", [2, 3, 5])
def test_the_store_read_in_several_processes_gives_the_report_of_one(tmp_path, processes):
    """The senders cut into ranges, each read by a process of its own, merged: the same report, to the numbering
    of the conversations (visitors starting at the same second in different ranges), the order of what first
    appears where, the transcripts linked to, and with a period and a channel."""
    rows = [*VISITORS, *_rows("old", _user("hi"), _bot("utter_fallback")), *_visitor("zz", 4000.0, channel="slack")]
    rows += [
        r
        for n in range(30)
        for r in _visitor(
            f"v{n:02d}", 1000.0 * (n % 4) + 86400 * (n % 3), channel=("rest", "socketio")[n % 2], helpful=n % 3 != 0
        )
    ]
    url = _store(tmp_path, rows)
    parts = StoredEvents(url, processes=processes).parts()
    assert len(parts) == processes
    senders = [[r.sender_id for r in part()] for part in parts]
    # Disjoint ranges that follow each other, each with senders of its own: all the store's, in its order.
    assert all(senders) and [s for part in senders for s in part] == [r.sender_id for r in StoredEvents(url)()]
    assert {s for s in senders[0]}.isdisjoint(senders[1])
    one = StoredEvents(url, processes=1)
    assert one.parts() == [one]
    for filters in ({}, {"channel": "socketio"}, {"until": date(1970, 1, 1) + timedelta(days=1), "top": 1}):
        alone, together = build_report(one, **filters), build_report(StoredEvents(url, processes=processes), **filters)
        assert alone.totals.conversations and alone.linked
        assert _everything(together) == _everything(alone)


def test_a_damaged_event_read_in_another_process_is_the_same_one_line(tmp_path):
    import sqlite3

    url = _store(tmp_path, [*VISITORS, *_visitor("zz", 3000.0)])
    with sqlite3.connect(url[len("sqlite:///") :]) as connection:
        [(row_id,)] = connection.execute("SELECT MAX(id) FROM events WHERE sender_id = 'zz'").fetchall()
        connection.execute('UPDATE events SET data = \'{"event": "bot"\' WHERE id = ?', (row_id,))
    with pytest.raises(StoreError) as alone:
        build_report(StoredEvents(url, processes=1))
    with pytest.raises(StoreError) as together:
        build_report(StoredEvents(url, processes=2))
    assert f"event id {row_id} (table events) is not valid JSON" in str(alone.value)
    assert str(together.value) == str(alone.value)
