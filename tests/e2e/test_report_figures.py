"""The report on conversations that real servers stored: every figure checked exactly.

Real Rasa and action servers, driven over REST (and one visitor over the
widget's socket.io channel), write a real SQLite store. A visitor's earlier
session is moved 10 days back in the store (tests/support/servers.py
age_conversation), so that Rasa's own session expiry starts a new session
when the visitor returns. Feedback is given by sending the payloads of the
buttons the bot sent, including a late click under an earlier answer and a
second click on an answer already rated.
"""

from __future__ import annotations

import asyncio
import csv
import re
from datetime import datetime, timedelta, timezone

import pytest

from bot.launch.processes import wait_until
from bot.launch.serve import Servers
from bot.ops.report.cli import main, summary
from bot.ops.report.figures import FIGURE_NAMES, build_report
from bot.ops.report.loading import StoredEvents
from tests.support.servers import MODEL, age_conversation, local_settings
from tests.support.servers import say as rest_say

DAY = 86400
HELPFUL = "Was this helpful?"


def texts(messages):
    return "\n".join(m.get("text", "") for m in messages)


def feedback_buttons(messages):
    [prompt] = [m for m in messages if m.get("text") == HELPFUL]
    return {b["title"]: b["payload"] for b in prompt["buttons"]}


async def socketio_turn(servers, message):
    import socketio

    client = socketio.AsyncClient(reconnection=False)
    confirmed, replies = [], []
    client.on("session_confirm", lambda data: confirmed.append(data))
    client.on("bot_uttered", lambda data: replies.append(data))
    await client.connect(
        servers.rasa_url,
        transports=["polling"],
        socketio_path="socket.io",
        headers={"Origin": servers.widget_url},
        wait_timeout=30,
    )
    await client.emit("session_request")
    for _ in range(600):
        if confirmed:
            break
        await asyncio.sleep(0.05)
    await client.emit("user_uttered", {"message": message, "session_id": confirmed[-1]})
    for _ in range(600):
        if replies:
            break
        await asyncio.sleep(0.05)
    await client.eio.disconnect(abort=True)
    return confirmed[-1].split(".", 1)[0], replies


@pytest.fixture(scope="module")
def store(tmp_path_factory, fake_platform):
    workdir = tmp_path_factory.mktemp("report")
    hook = fake_platform({})
    settings = local_settings(f"sqlite:///{workdir / 'tracker.db'}")
    env = {"CAREERBOT_HANDOFF_WEBHOOK_URL": f"{hook.url}/hook", "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "x" * 24}
    with Servers(settings, MODEL, log_dir=workdir / "logs", extra_env=env) as servers:
        url = settings.tracker_url
        say = lambda sender, message: rest_say(servers, sender, message)  # noqa: E731

        # ann, 10 days ago: pay, then hours with "Was this helpful?"; Yes clicked twice.
        assert HELPFUL not in texts(say("ann", "how much do they earn?"))
        hours = say("ann", "what are the hours?")
        yes_hours = feedback_buttons(hours)["Yes"]
        assert "Thanks for letting me know" in texts(say("ann", yes_hours))
        assert "already" in texts(say("ann", yes_hours))
        age_conversation(url, "ann", 10 * DAY)
        # ann returns today: a new session. The first answer gets no prompt; the second does.
        assert HELPFUL not in texts(say("ann", "how much do they earn?"))
        duties = say("ann", "what do they do?")
        no_duties, yes_duties = feedback_buttons(duties)["No"], feedback_buttons(duties)["Yes"]
        assert "job growth" in texts(say("ann", "what is the job outlook?"))
        assert "Sorry about that" in texts(say("ann", no_duties))  # late: rates duties, not the outlook
        assert "already" in texts(say("ann", yes_duties))  # a second click changes nothing

        # bob, 3 days ago: two fallbacks (one with contact details), then an answer.
        assert "Sorry, I can't help with that" in texts(
            say("bob", "what are today's mortgage rates? mail me at bob@example.com or call +1 555 123 4567")
        )
        assert "ask a person instead" in texts(say("bob", "tell me a joke"))
        assert "9am to 5pm" in texts(say("bob", "what are the hours?"))
        age_conversation(url, "bob", 3 * DAY)

        # cat, 3 days ago: an answer, then a handoff.
        assert "Mortgage Loan Originator License" in texts(say("cat", "do I need a license?"))
        say("cat", "/request_human")
        say("cat", "cat@example.com")
        assert "they will reply to cat@example.com" in texts(say("cat", "Are the rules in Ohio different?"))
        age_conversation(url, "cat", 3 * DAY)

        # dan, today, on the widget's channel: one answer.
        dan, replies = asyncio.run(socketio_turn(servers, "what should I study?"))
        assert "bachelor" in " ".join(r.get("text", "") for r in replies)

        # eve, today: gives an address, then cancels: an abandoned handoff.
        say("eve", "/request_human")
        say("eve", "eve@example.com")
        assert "cancelled" in texts(say("eve", "/cancel"))
        yield url, dan


def today():
    return datetime.now(timezone.utc).date()


def test_every_figure(store):
    url, dan = store
    report = build_report(StoredEvents(url))
    t = report.totals
    # ann twice (two sessions), bob, cat, dan, eve.
    assert (t.conversations, t.visitors) == (6, 5)
    assert t.messages == 4 + 5 + 3 + 4 + 1 + 3
    assert t.answers == 2 + 3 + 1 + 1 + 1
    assert t.answered_conversations == 5
    assert t.deflected_conversations == 3  # ann's first, bob, dan
    assert t.rated_unhelpful_conversations == 1  # ann's second: duties rated not helpful
    assert (t.handoff_conversations, t.handoffs, t.abandoned_handoffs) == (1, 1, 1)
    assert t.fallback_messages == 2
    assert t.deflection_rate == pytest.approx(3 / 6)
    assert t.fallback_rate == pytest.approx(2 / 20)
    assert t.handoff_rate == pytest.approx(1 / 6)
    topics = {tf.topic: (tf.label, tf.answers, tf.helpful, tf.not_helpful, tf.unrated) for tf in report.topics}
    assert topics == {
        "pay": ("The pay", 2, 0, 0, 2),
        "hours": ("The working hours", 2, 1, 0, 1),
        "duties": ("The daily duties", 1, 0, 1, 0),
        "outlook": ("The job outlook", 1, 0, 0, 1),
        "licensing": ("The licence", 1, 0, 0, 1),
        "education": ("The degree you need", 1, 0, 0, 1),
    }
    # The helpful rate is over the rated answers: an unrated answer is no verdict on its topic.
    rates = {tf.topic: (tf.rated, tf.helpful_rate) for tf in report.topics}
    assert rates == {
        "pay": (0, None),
        "hours": (1, 1.0),
        "duties": (1, 0.0),
        "outlook": (0, None),
        "licensing": (0, None),
        "education": (0, None),
    }
    assert {name: (f.conversations, f.messages, f.deflected_conversations) for name, f in report.channels} == {
        "rest": (5, 19, 2),
        "socketio": (1, 1, 1),
    }
    assert [(text, n) for text, n, _ in report.unanswered] == [
        ("tell me a joke", 1),
        ("what are today's mortgage rates? mail me at [e-mail redacted] or call [phone redacted]", 1),
    ]
    assert [(label, question) for label, question, _ in report.not_helpful] == [
        ("The daily duties", "what do they do?")
    ]
    by_day = {name: (f.conversations, f.deflected_conversations, f.handoff_conversations) for name, f in report.trend}
    assert report.granularity == "day" and len(by_day) == 11
    assert by_day[(today() - timedelta(days=10)).isoformat()] == (1, 1, 0)
    assert by_day[(today() - timedelta(days=3)).isoformat()] == (2, 1, 1)
    assert by_day[today().isoformat()] == (3, 1, 0)
    assert sum(c for c, _, _ in by_day.values()) == 6


def test_a_returning_visitor_is_counted_once_per_period(store):
    url, _ = store
    recent = build_report(StoredEvents(url), since=today() - timedelta(days=3))
    assert (recent.totals.conversations, recent.totals.answers) == (5, 6)
    assert {tf.topic: tf.answers for tf in recent.topics}["pay"] == 1  # ann's old pay answer stays in its day
    assert {tf.topic: tf.helpful for tf in recent.topics}["hours"] == 0
    only_today = build_report(StoredEvents(url), since=today(), until=today() + timedelta(days=1))
    assert (only_today.totals.conversations, only_today.totals.handoffs, only_today.totals.abandoned_handoffs) == (
        3,
        0,
        1,
    )


def test_channel_filter_and_weeks(store):
    url, _ = store
    widget = build_report(StoredEvents(url), channel="socketio")
    assert (widget.totals.conversations, widget.totals.deflection_rate) == (1, 1.0)
    weekly = build_report(StoredEvents(url), granularity="week")
    assert sum(f.conversations for _, f in weekly.trend) == 6
    assert all(datetime.fromisoformat(name).weekday() == 0 for name, _ in weekly.trend)


def test_command_line_html_and_csv(store, tmp_path, monkeypatch, capsys):
    url, _ = store
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", url)
    out, csv_dir = tmp_path / "report.html", tmp_path / "csv"
    assert main(["--out", str(out), "--csv", str(csv_dir)]) == 0
    printed = capsys.readouterr().out
    assert "Conversations:   6 (5 visitors)" in printed and "Deflection rate: 50.0 %" in printed
    assert f"Store: {url}" in printed
    page = out.read_text()
    for forbidden in (
        "bob@example.com",
        "555 123 4567",
        "cat@example.com",
        "eve@example.com",
        "<script",
        "http://",
        "https://",
    ):
        assert forbidden not in page, forbidden
    assert page.count("class='chart'") == 5 and "0 %" in page and "100 %" in page
    assert "href='#c" in page and "id='c" in page
    # Helpful by topic: over the rated answers, with how many; a topic with none rated has no bar.
    helpful = page[page.index("<svg id='helpful'") : page.index("</svg>", page.index("<svg id='helpful'"))]
    assert ">The working hours<" in helpful and ">100.0 % of 1<" in helpful and ">0.0 % of 1<" in helpful
    assert helpful.count(">none rated<") == 4 and helpful.count("<rect") == 2
    assert "<td>The pay</td><td>2</td><td>0</td><td>0</td><td>0</td><td>2</td><td>–</td>" in page
    assert "The working hours" in printed and "100.0 % of 1 rated" in printed and "none rated" in printed
    # Conversations per day: one bar a day, as tall as its count, and its table.
    volume = page[page.index("<svg id='volume'") : page.index("</svg>", page.index("<svg id='volume'"))]
    heights = [float(h) for h in re.findall(r"<rect [^>]*height='([\d.]+)'", volume)]
    assert len(heights) == 11 and heights[-1] == pytest.approx(3 * heights[0], rel=0.01) and heights[0] > 0
    assert heights[7] == pytest.approx(2 * heights[0], rel=0.01) and sum(1 for h in heights if h) == 3
    table = page[page.index("</svg>", page.index("<svg id='volume'")) :]
    assert f"<tr><td>{today().isoformat()}</td><td>3</td><td>3</td><td>9</td></tr>" in table
    with open(csv_dir / "topics.csv", newline="") as handle:
        rows = {r["topic"]: r for r in csv.DictReader(handle)}
    assert (rows["duties"]["not_helpful"], rows["pay"]["unrated"]) == ("1", "2")
    assert [(rows[t]["rated"], rows[t]["helpful_rate"]) for t in ("pay", "hours", "duties")] == [
        ("0", ""),
        ("1", "1.0"),
        ("1", "0.0"),
    ]
    with open(csv_dir / "totals.csv", newline="") as handle:
        [totals] = list(csv.DictReader(handle))
    assert (totals["conversations"], totals["deflection_rate"]) == ("6", "0.5")


def test_errors_are_one_line_and_a_non_zero_exit(store, tmp_path, monkeypatch, capsys):
    url, _ = store
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", url)
    cases = [
        (["--channel", "telegram"], "unknown channel 'telegram'; channels in the store: rest, socketio"),
        (["--since", "2026-11-10", "--until", "2026-11-10"], "is not after --since"),
        (["--out", "/proc/report.html"], "cannot write"),
    ]
    for args, message in cases:
        assert main(args + ["--out", str(tmp_path / "r.html")] if "--out" not in args else args) == 2
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1, err
    missing = tmp_path / "typo.db"
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", f"sqlite:///{missing}")
    assert main(["--out", str(tmp_path / "r.html")]) == 2
    assert "does not exist" in capsys.readouterr().err and not missing.exists()
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", "postgresql://bot:secret@127.0.0.1:1/careerbot")
    assert main(["--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "cannot read the conversation store postgresql://bot:***@127.0.0.1:1/careerbot" in err
    assert "secret" not in err and len(err.strip().splitlines()) == 1


def test_an_empty_period_says_so(store, tmp_path, monkeypatch, capsys):
    url, _ = store
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", url)
    future = today() + timedelta(days=5)
    out = tmp_path / "empty.html"
    assert main(["--since", future.isoformat(), "--out", str(out)]) == 0
    assert "No conversations in this period." in capsys.readouterr().out
    assert "No conversations in this period." in out.read_text()


@pytest.mark.parametrize(
    "damage, message",
    [
        ('{"event": "user", "text": "cut off', "is not valid JSON"),
        ('["user"]', "is list JSON, not an object"),
    ],
)
def test_a_damaged_event_is_one_line_and_a_non_zero_exit(store, tmp_path, monkeypatch, capsys, damage, message):
    """One stored event that is not a JSON object: the report and the views name it; forget can still delete it."""
    import sqlite3

    from bot.ops import privacy, report_views

    url, _ = store
    copy = _copy(url, tmp_path)
    with sqlite3.connect(copy[len("sqlite:///") :]) as connection:
        [(row_id,)] = connection.execute(
            "SELECT id FROM events WHERE sender_id = 'bob' AND type_name = 'user' ORDER BY id LIMIT 1"
        ).fetchall()
        connection.execute("UPDATE events SET data = ? WHERE id = ?", (damage, row_id))
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", copy)
    for command in (lambda: main(["--out", str(tmp_path / "r.html")]), lambda: report_views.main([])):
        assert command() == 2
        captured = capsys.readouterr()
        assert captured.out == "" and len(captured.err.strip().splitlines()) == 1, captured.err
        assert f"{copy} is damaged: event id {row_id} (table events) {message}" in captured.err
    assert not (tmp_path / "r.html").exists()
    with sqlite3.connect(copy[len("sqlite:///") :]) as connection:
        assert not connection.execute("SELECT name FROM sqlite_master WHERE type = 'view'").fetchall()
    assert privacy.main(["forget", "--sender", "bob"]) == 0
    assert main(["--out", str(tmp_path / "r.html")]) == 0
    assert "Conversations:   5 (4 visitors)" in capsys.readouterr().out


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 375])
def test_the_page_in_chromium(store, tmp_path, monkeypatch, width):
    from pathlib import Path

    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    url, _ = store
    # The page names its store: a long path (one long word) must not widen the page.
    long_name = tmp_path / ("a-site-owners-conversation-store-" * 3)
    long_name.symlink_to(Path(url.removeprefix("sqlite:///")).parent, target_is_directory=True)
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", f"sqlite:///{long_name / 'tracker.db'}")
    out = tmp_path / "report.html"
    assert main(["--out", str(out)]) == 0
    assert Path(CHROMIUM).exists(), f"no Chromium at {CHROMIUM}: `make browser` installs Debian's chromium"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.goto(out.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= width
        # What is wider than the phone scrolls inside its own box, and only tables do.
        wide = page.evaluate("""[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth && !e.closest('div.table'))
            .map(e => e.tagName)""")
        assert wide == []
        charts = page.locator("svg.chart")
        assert charts.count() == 5
        for i in range(5):
            box = charts.nth(i).bounding_box()
            assert box["width"] > 0 and box["x"] + box["width"] <= width
            # Each chart is followed by its table.
            assert page.evaluate(
                f"document.querySelectorAll('svg.chart')[{i}].closest('figure')"
                ".nextElementSibling.querySelector('table') !== null"
            )
        assert page.locator("table").count() >= 6
        page.screenshot(path=str(tmp_path / f"report-{width}.png"), full_page=True)
        browser.close()


def test_the_sql_views_give_the_reports_figures(store, tmp_path):
    import sqlite3

    import sqlalchemy as sa

    from bot.ops.report_views import create_views

    url, _ = store
    copy = tmp_path / "copy.db"  # the views are created in a copy: the other tests read the store as stored
    with sqlite3.connect(url[len("sqlite:///") :]) as source, sqlite3.connect(copy) as target:
        source.backup(target)  # the store runs in WAL mode: copying the file alone would miss the log
    views = create_views(f"sqlite:///{copy}")
    assert "careerbot_daily" in views
    report = build_report(StoredEvents(url))
    engine = sa.create_engine(f"sqlite:///{copy}")
    with engine.connect() as connection:
        names = FIGURE_NAMES
        sums = connection.execute(
            sa.text(f"SELECT {', '.join(f'SUM({n})' for n in names if n != 'visitors')} FROM careerbot_daily")
        ).one()
        t = report.totals
        assert list(sums) == [getattr(t, n) for n in names if n != "visitors"]
        by_day = {
            (day, channel): (n, d)
            for day, channel, n, d in connection.execute(
                sa.text("SELECT day, channel, conversations, deflected_conversations FROM careerbot_daily")
            )
        }
        assert sum(n for n, _ in by_day.values()) == t.conversations
        topics = {
            topic: (n, h, nh, u)
            for topic, n, h, nh, u in connection.execute(
                sa.text(
                    "SELECT topic, COUNT(*), SUM(rating = 'helpful'), SUM(rating = 'not helpful'), "
                    "SUM(rating = 'unrated') FROM careerbot_answers GROUP BY topic"
                )
            )
        }
        assert topics == {tf.topic: (tf.answers, tf.helpful, tf.not_helpful, tf.unrated) for tf in report.topics}
        assert_topic_rates(connection, report)
    engine.dispose()


def assert_topic_rates(connection, report):
    """careerbot_topics: the helpful rate over the rated answers, NULL where none was rated, as the report."""
    import sqlalchemy as sa

    rows = connection.execute(
        sa.text("SELECT topic, answers, rated, helpful, unrated, helpful_rate FROM careerbot_topics")
    ).all()
    for topic, answers, rated, helpful, unrated, rate in rows:
        assert (rate is None) if not rated else float(rate) == pytest.approx(helpful / rated), (topic, rate)
        assert int(answers) == int(rated) + int(unrated)
    totals = {}
    for topic, answers, rated, helpful, _, _ in rows:
        n, r, h = totals.get(topic, (0, 0, 0))
        totals[topic] = (n + int(answers), r + int(rated), h + int(helpful))
    assert totals == {tf.topic: (tf.answers, tf.rated, tf.helpful) for tf in report.topics}
    # The pay: two answers, none rated: no rate, where helpful over answers said 0 %.
    assert [rate for topic, *_, rate in rows if topic == "pay"] == [None, None]


def page(report):
    import io

    from bot.ops.report.html_page import write_html

    out = io.StringIO()
    write_html(report, {"Store": "the test's"}, out)
    return out.getvalue()


def _copy(url, tmp_path):
    import sqlite3

    copy = tmp_path / "copy.db"
    with sqlite3.connect(url[len("sqlite:///") :]) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    return f"sqlite:///{copy}"


def test_make_handoffs_lists_them_with_their_status(store, tmp_path, monkeypatch, capsys):
    from bot.handoff.outbox import Outbox
    from bot.ops import handoffs as cli

    url, _ = store
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", url)
    wait_until(lambda: [h for h in Outbox(url).list() if h.status == "sent"], 60, what="cat's handoff sent")
    assert cli.main([]) == 0
    printed = capsys.readouterr().out
    assert "cat@example.com" in printed and "2 handoffs: 1 sent, 1 abandoned" in printed
    assert cli.main(["--status", "abandoned"]) == 0
    [line] = [x for x in capsys.readouterr().out.splitlines() if "abandoned" in x and "[" in x]
    assert "rest" in line and "cat@" not in line
    assert cli.main(["--since", (today() + timedelta(days=1)).isoformat()]) == 0
    assert "No handoffs." in capsys.readouterr().out
    out = tmp_path / "handoffs.csv"
    assert cli.main(["--csv", str(out)]) == 0
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert sorted((r["status"], r["email"], r["question"]) for r in rows) == [
        ("abandoned", "", ""),
        ("sent", "cat@example.com", "Are the rules in Ohio different?"),
    ]


def test_purge_deletes_old_conversations_and_finished_handoffs(store, tmp_path, monkeypatch, capsys):
    from bot.ops import privacy

    url, _ = store
    copy = _copy(url, tmp_path)
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", copy)
    assert privacy.main(["purge", "--days", "5"]) == 0
    assert "deleted 1 conversations older than 5 days" in capsys.readouterr().out
    left = build_report(StoredEvents(copy))
    assert (left.totals.conversations, left.totals.visitors) == (5, 5)  # ann's first session is gone, not ann
    assert privacy.main(["purge", "--days", "0"]) == 0
    printed = capsys.readouterr().out
    assert "deleted 5 conversations older than 0 days" in printed and "and 2 handoffs (1 abandoned, 1 sent)" in printed
    assert build_report(StoredEvents(copy)).totals.conversations == 0


def test_forget_deletes_one_visitors_data(store, tmp_path, monkeypatch, capsys):
    import sqlite3

    from bot.handoff.outbox import Outbox
    from bot.ops import privacy

    url, _ = store
    copy = _copy(url, tmp_path)
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", copy)

    def stored():
        with sqlite3.connect(copy[len("sqlite:///") :]) as connection:
            return connection.execute("SELECT COUNT(*) FROM events WHERE sender_id = 'cat'").fetchone()[0]

    before = stored()
    assert privacy.main(["forget", "--sender", "cat"]) == 0
    assert f"deleted {before} events and 1 handoffs (1 sent) of conversation 'cat'" in capsys.readouterr().out
    assert stored() == 0
    assert not [h for h in Outbox(copy).list() if h.sender_id == "cat"]
    assert build_report(StoredEvents(copy)).totals.conversations == 5
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", f"sqlite:///{tmp_path / 'typo.db'}")
    assert privacy.main(["forget", "--sender", "cat"]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "typo.db").exists()


@pytest.mark.services
def test_the_same_figures_from_postgresql(store):
    """The store copied row by row into a real PostgreSQL: the report and the PostgreSQL views agree."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.devtools.cluster import Postgres
    from bot.ops.report_views import create_views

    url, _ = store
    expected = build_report(StoredEvents(url))
    postgres = Postgres().create()
    try:
        source, target = sa.create_engine(url), sa.create_engine(postgres.url)
        table = SQLTrackerStore.SQLEvent.__table__
        table.metadata.create_all(target, tables=[table])
        with source.connect() as reading, target.begin() as writing:
            rows = [dict(r._mapping) for r in reading.execute(sa.select(table))]
            writing.execute(table.insert(), rows)
        source.dispose()
        report = build_report(StoredEvents(postgres.url))
        assert report.totals == expected.totals
        # Streamed from PostgreSQL's server-side cursor: the same page, conversation numbers and transcripts too.
        assert page(report) == page(expected) and summary(report) == summary(expected)
        assert [(t.topic, t.answers, t.helpful, t.not_helpful, t.unrated) for t in report.topics] == [
            (t.topic, t.answers, t.helpful, t.not_helpful, t.unrated) for t in expected.topics
        ]
        create_views(postgres.url)
        with target.connect() as connection:
            sums = connection.execute(
                sa.text(
                    "SELECT SUM(conversations), SUM(messages), SUM(answers), SUM(deflected_conversations), "
                    "SUM(rated_unhelpful_conversations), SUM(handoff_conversations), SUM(abandoned_handoffs), "
                    "SUM(fallback_messages) FROM careerbot_daily"
                )
            ).one()
            t = expected.totals
            assert [int(v) for v in sums] == [
                t.conversations,
                t.messages,
                t.answers,
                t.deflected_conversations,
                t.rated_unhelpful_conversations,
                t.handoff_conversations,
                t.abandoned_handoffs,
                t.fallback_messages,
            ]
            topics = {
                topic: (n, h)
                for topic, n, h in connection.execute(
                    sa.text(
                        "SELECT topic, COUNT(*), SUM(CASE WHEN rating = 'helpful' THEN 1 ELSE 0 END) "
                        "FROM careerbot_answers GROUP BY topic"
                    )
                )
            }
            assert topics == {tf.topic: (tf.answers, tf.helpful) for tf in expected.topics}
            assert_topic_rates(connection, expected)
            names = ["conversations", "messages", "answers", "deflected_conversations", "fallback_messages"]
            channels = {
                channel: tuple(int(v) for v in values)
                for channel, *values in connection.execute(
                    sa.text(
                        f"SELECT channel, {', '.join(f'SUM({n})' for n in names)} FROM careerbot_daily GROUP BY channel"
                    )
                )
            }
            assert channels == {name: tuple(getattr(f, n) for n in names) for name, f in expected.channels}
        target.dispose()
    finally:
        postgres.close()
