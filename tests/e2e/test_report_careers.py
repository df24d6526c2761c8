"""The report split by career and by page context, on conversations real servers stored.

Real Rasa and action servers serve the three careers of bot/content/knowledge; visitors
talk over REST with the page context a widget sends (`metadata.context`), some move
between career pages, name another career than their page's, ask what a career's
source does not cover, rate answers and ask for a person. The report, its CSV files
and the SQLite and PostgreSQL views must give the same per-career and per-page figures.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional

import pytest
import requests

from bot.launch.serve import Servers
from tests.support.servers import MODEL, local_settings

HELPFUL = "Was this helpful?"


def say(servers: Servers, sender: str, message: str, context: Any = None) -> List[Dict[str, Any]]:
    body: Dict[str, Any] = {"sender": sender, "message": message}
    if context is not None:
        body["metadata"] = {"context": context}
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
    assert response.status_code == 200, response.text
    replies: List[Dict[str, Any]] = response.json()
    return replies


def texts(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def feedback(messages: List[Dict[str, Any]], title: str) -> str:
    [prompt] = [m for m in messages if m.get("text") == HELPFUL]
    return next(b["payload"] for b in prompt["buttons"] if b["title"] == title)


LOANS: Optional[Dict[str, str]] = {"career": "loan_officers"}
TELLERS: Optional[Dict[str, str]] = {"career": "tellers"}
PAGE_LOANS = {"career": "loan_officers"}
PAGE_TELLERS = {"career": "tellers"}
MORTGAGE = "mortgage_servicing_specialist"
NOT_RECORDED, NO_PAGE, OTHER_PAGE = "(not recorded)", "(no page context)", "(other page context)"


def copy_as_older_conversation(url: str, sender: str, copy: str) -> None:
    """`sender`'s events again as `copy`'s, as a version before careers were recorded stored them:
    no career on answers, no `career` slot, no page context."""
    import json

    import sqlalchemy as sa

    engine = sa.create_engine(url)
    with engine.begin() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT type_name, timestamp, intent_name, action_name, data FROM events WHERE sender_id = :s "
                "ORDER BY id"
            ),
            {"s": sender},
        ).all()
        for type_name, timestamp, intent_name, action_name, data in rows:
            event = json.loads(data)
            if type_name == "slot" and event.get("name") == "career":
                continue
            (event.get("metadata") or {}).pop("career", None)
            (event.get("metadata") or {}).pop("context", None)
            connection.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data) "
                    "VALUES (:s, :t, :ts, :i, :a, :d)"
                ),
                {
                    "s": copy,
                    "t": type_name,
                    "ts": timestamp,
                    "i": intent_name,
                    "a": action_name,
                    "d": json.dumps(event),
                },
            )
    engine.dispose()


@pytest.fixture(scope="module")
def store(tmp_path_factory, fake_platform):
    workdir = tmp_path_factory.mktemp("report-careers")
    hook = fake_platform({})
    settings = local_settings(f"sqlite:///{workdir / 'tracker.db'}")
    env = {"CAREERBOT_HANDOFF_WEBHOOK_URL": f"{hook.url}/hook", "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "x" * 24}
    with Servers(settings, MODEL, log_dir=workdir / "logs", extra_env=env) as servers:
        # lia, on the loan officers' page: two answers (the second rated helpful) and a fallback.
        assert "$63,380" in texts(say(servers, "lia", "how much do they make?", PAGE_LOANS))
        hours = say(servers, "lia", "what are the hours?", PAGE_LOANS)
        assert "Most loan officers work full time" in texts(hours)
        assert "Thanks for letting me know" in texts(say(servers, "lia", feedback(hours, "Yes"), PAGE_LOANS))
        assert "Sorry, I can't help with that" in texts(say(servers, "lia", "tell me a joke", PAGE_LOANS))
        # ted, on the tellers' page: an answer, then two topics the tellers' source does not cover.
        assert "$32,620" in texts(say(servers, "ted", "how much do they make?", PAGE_TELLERS))
        assert "My source on tellers doesn't cover the licence" in texts(
            say(servers, "ted", "do I need a license?", PAGE_TELLERS)
        )
        assert "My source on tellers doesn't cover the working hours" in texts(
            say(servers, "ted", "what are the hours?", PAGE_TELLERS)
        )
        # tom, on the tellers' page, asks about loan officers and stays on them; rates the duties not helpful.
        assert "$63,380" in texts(say(servers, "tom", "how much do loan officers make?", PAGE_TELLERS))
        duties = say(servers, "tom", "what do they do?", PAGE_TELLERS)
        assert "loan officers" in texts(duties)
        assert "Sorry about that" in texts(say(servers, "tom", feedback(duties, "No"), PAGE_TELLERS))
        # pam moves from the tellers' page to the loan officers'.
        assert "$32,620" in texts(say(servers, "pam", "how much do they make?", PAGE_TELLERS))
        assert "Most loan officers work full time" in texts(say(servers, "pam", "what are the hours?", PAGE_LOANS))
        # max, without page context: the default career's answer, then a handoff.
        assert "9am to 5pm" in texts(say(servers, "max", "what are the hours?"))
        say(servers, "max", "/request_human")
        say(servers, "max", "max@example.com")
        assert "they will reply to max@example.com" in texts(say(servers, "max", "Are the rules in Ohio different?"))
        # oli's page sends a context that names no career (markup, to be escaped if it were ever shown).
        assert "Sorry, I can't help with that" in texts(
            say(servers, "oli", "tell me a joke", {"career": "<img src=x onerror=alert(1)>", "article": "pay"})
        )
        # ola's page sends plain text.
        assert "9am to 5pm" in texts(say(servers, "ola", "what are the hours?", "pay-guide"))
    copy_as_older_conversation(settings.tracker_url, "lia", "old")
    yield settings.tracker_url


# What the conversations above give, per career and per page context:
# (conversations, messages, answers, deflected, could not answer, handed off).
CAREERS = {
    "loan_officers": (3, 8, 5, 2, 1, 0),  # lia 4 messages, tom 3 (duties rated not helpful), pam's second
    "tellers": (2, 4, 2, 2, 2, 0),  # ted 3 (two not covered), pam's first
    MORTGAGE: (2, 5, 2, 1, 0, 1),  # max 4 (a handoff), ola 1
    NOT_RECORDED: (2, 5, 2, 1, 2, 0),  # old (lia's as an older version stored it) 4, oli's fallback 1
}
PAGES = {
    "loan_officers": (2, 5, 3, 2, 1, 0),
    "tellers": (3, 7, 4, 2, 2, 0),  # ted, tom, pam: all answered, none handed off; tom rated one not helpful
    NO_PAGE: (2, 8, 3, 1, 1, 1),  # max, old
    OTHER_PAGE: (2, 2, 1, 1, 1, 0),  # oli, ola
}
# (page context, career) -> (questions, answered, could not answer)
PAGE_CAREERS = {
    ("loan_officers", "loan_officers"): (5, 3, 1),
    ("tellers", "tellers"): (4, 2, 2),
    ("tellers", "loan_officers"): (3, 2, 0),
    (NO_PAGE, MORTGAGE): (4, 1, 0),
    (NO_PAGE, NOT_RECORDED): (4, 2, 1),
    (OTHER_PAGE, NOT_RECORDED): (1, 0, 1),
    (OTHER_PAGE, MORTGAGE): (1, 1, 0),
}
# (career, topic) -> (answers, helpful, not helpful)
CAREER_TOPICS = {
    ("loan_officers", "pay"): (2, 0, 0),
    ("loan_officers", "hours"): (2, 1, 0),
    ("loan_officers", "duties"): (1, 0, 1),
    ("tellers", "pay"): (2, 0, 0),
    (MORTGAGE, "hours"): (2, 0, 0),
    (NOT_RECORDED, "pay"): (1, 0, 0),
    (NOT_RECORDED, "hours"): (1, 1, 0),
}


def figures(f):
    return (
        f.conversations,
        f.messages,
        f.answers,
        f.deflected_conversations,
        f.fallback_messages,
        f.handoff_conversations,
    )


def test_every_figure_by_career_and_page(store):
    from bot.ops.report.figures import build_report
    from bot.ops.report.loading import StoredEvents

    report = build_report(StoredEvents(store))
    t = report.totals
    assert (t.conversations, t.messages, t.answers, t.fallback_messages) == (8, 22, 11, 5)
    assert {name: figures(f) for name, f in report.careers} == CAREERS
    assert {name: figures(f) for name, f in report.pages} == PAGES
    assert {(p.page, p.career): (p.questions, p.answered, p.not_answered) for p in report.page_careers} == PAGE_CAREERS
    assert {(c, tf.topic): (tf.answers, tf.helpful, tf.not_helpful) for c, tf in report.career_topics} == CAREER_TOPICS
    # Could not answer, with the career: the tellers' source has no licence and no hours.
    assert [(career, said, n) for career, said, n, _ in report.not_covered] == [
        ("tellers", "the licence", 1),
        ("tellers", "the working hours", 1),
    ]
    assert sorted(text for text, _, _ in report.unanswered) == [
        "do I need a license?",
        "tell me a joke",
        "what are the hours?",
    ]
    assert dict((text, n) for text, n, _ in report.unanswered)["tell me a joke"] == 3


def test_html_csv_and_summary(store, tmp_path, monkeypatch, capsys):
    import csv

    from bot.ops.report.cli import main

    monkeypatch.setenv("CAREERBOT_TRACKER_URL", store)
    out, csv_dir = tmp_path / "report.html", tmp_path / "csv"
    assert main(["--out", str(out), "--csv", str(csv_dir)]) == 0
    printed = capsys.readouterr().out
    assert "By career" in printed and "By page context" in printed
    assert "  tellers -> loan_officers: 3 questions, 2 answered, 0 not" in printed
    assert "    1 x tellers: the licence" in printed
    page = out.read_text()
    for forbidden in ("<img", "onerror", "max@example.com", "<script"):
        assert forbidden not in page, forbidden
    careers = page[page.index("<h2>By career</h2>") : page.index("<h2>By page context</h2>")]
    assert (
        "<tr><td>loan_officers</td><td>3</td><td>8</td><td>5</td><td>66.7 %</td><td>1 (12.5 %)</td>"
        "<td>0 (0.0 %)</td></tr>"
    ) in careers
    assert "<tr><td>(not recorded)</td><td>2</td><td>5</td><td>2</td><td>50.0 %</td>" in careers
    assert "<tr><td>tellers</td><td>The pay</td><td>2</td>" in careers
    pages = page[page.index("<h2>By page context</h2>") : page.index("<h2>Top unanswered messages</h2>")]
    assert "<tr><td>tellers</td><td>loan_officers</td><td>3</td><td>2</td><td>0</td></tr>" in pages
    assert "<tr><td>(other page context)</td><td>2</td><td>2</td><td>1</td>" in pages
    gaps = page[page.index("<h3>Not covered by the career's source</h3>") : page.index("<h2>Transcripts</h2>")]
    assert "<td>tellers</td><td>the licence</td>" in gaps and "href='#c" in gaps

    def read(name):
        with open(csv_dir / name, newline="") as handle:
            return list(csv.DictReader(handle))

    assert {
        r["career"]: (
            int(r["conversations"]),
            int(r["messages"]),
            int(r["answers"]),
            int(r["deflected_conversations"]),
            int(r["fallback_messages"]),
            int(r["handoff_conversations"]),
        )
        for r in read("careers.csv")
    } == CAREERS
    assert {
        r["page_context"]: (
            int(r["conversations"]),
            int(r["messages"]),
            int(r["answers"]),
            int(r["deflected_conversations"]),
            int(r["fallback_messages"]),
            int(r["handoff_conversations"]),
        )
        for r in read("pages.csv")
    } == PAGES
    assert {
        (r["page_context"], r["career"]): (int(r["questions"]), int(r["answered"]), int(r["could_not_answer"]))
        for r in read("page_careers.csv")
    } == PAGE_CAREERS
    assert {
        (r["career"], r["topic"]): (int(r["answers"]), int(r["helpful"]), int(r["not_helpful"]))
        for r in read("topics.csv")
    } == CAREER_TOPICS
    assert [(r["career"], r["not_covered"], r["times"]) for r in read("not_covered.csv")] == [
        ("tellers", "the licence", "1"),
        ("tellers", "the working hours", "1"),
    ]


def test_the_unanswered_list_says_how_many_wait_in_the_review_inbox(store, tmp_path, monkeypatch, capsys):
    from bot.ops.report.cli import main
    from bot.ops.review.inbox import waiting_count

    monkeypatch.setenv("CAREERBOT_TRACKER_URL", store)
    review, out = tmp_path / "review", tmp_path / "report.html"
    waiting = waiting_count(store, review)
    assert waiting >= 3  # at least the joke and the two topics the tellers' source does not cover
    assert main(["--out", str(out), "--review", str(review)]) == 0
    said = f"{waiting} messages wait in the review inbox (whatever the period)"
    assert said in capsys.readouterr().out
    page = out.read_text()
    unanswered = page[page.index("<h2>Top unanswered messages</h2>") : page.index("<h3>Not covered")]
    assert said in unanswered and "<code>make review</code>" in unanswered
    # A ledger the inbox cannot read: the report is still written, and says why the count is missing.
    review.mkdir()
    (review / "decisions.yml").write_text("- id: [unclosed\n")
    out.unlink()
    assert main(["--out", str(out), "--review", str(review)]) == 0
    printed = capsys.readouterr().out
    assert "The review inbox could not be counted (" in printed and "Top unanswered messages" in printed
    assert "The review inbox could not be counted (" in out.read_text()


def test_the_report_reads_no_sentence_vectors(store, tmp_path):
    """Counting the inbox's messages needs no grouping: the report loads no embedding table (nor the libraries
    that read one), so it runs where `make embeddings` never did."""
    import subprocess
    import sys

    from bot import PROJECT_DIR
    from bot.settings import environment

    code = (
        "import sys; from bot.ops.report.cli import main; "
        f"assert main(['--out', {str(tmp_path / 'r.html')!r}]) == 0; "
        "from bot.vectors import WordLlamaVectors; "
        "print(len(WordLlamaVectors._loaded), sorted(m for m in sys.modules if m in ('safetensors', 'tokenizers')))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=PROJECT_DIR,
        env=dict(environment(), CAREERBOT_TRACKER_URL=store),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "0 []"
    assert "messages wait in the review inbox" in done.stdout


def view_figures(connection):
    import sqlalchemy as sa

    careers = {
        career: tuple(int(v) for v in rest)
        for career, *rest in connection.execute(
            sa.text(
                "SELECT career, SUM(conversations), SUM(messages), SUM(answers), SUM(deflected_conversations), "
                "SUM(fallback_messages), SUM(handoff_conversations) FROM careerbot_careers GROUP BY career"
            )
        )
    }
    pages = {
        (page, career): tuple(int(v) for v in rest)
        for page, career, *rest in connection.execute(
            sa.text(
                "SELECT page, career, SUM(questions), SUM(answered), SUM(could_not_answer) FROM careerbot_page_careers "
                "GROUP BY page, career"
            )
        )
    }
    topics = {
        (career, topic): tuple(int(v) for v in rest)
        for career, topic, *rest in connection.execute(
            sa.text(
                "SELECT career, topic, SUM(answers), SUM(helpful), SUM(not_helpful) FROM careerbot_topics "
                "GROUP BY career, topic"
            )
        )
    }
    totals = tuple(
        int(v)
        for v in connection.execute(
            sa.text(
                "SELECT SUM(conversations), SUM(messages), SUM(answers), SUM(fallback_messages) FROM careerbot_daily"
            )
        ).one()
    )
    return careers, pages, topics, totals


def test_the_sqlite_views_split_by_career_and_page(store, tmp_path):
    import sqlite3

    import sqlalchemy as sa

    from bot.ops.report_views import create_views

    copy = tmp_path / "copy.db"  # the views are created in a copy: the other tests read the store as stored
    with sqlite3.connect(store[len("sqlite:///") :]) as source, sqlite3.connect(copy) as target:
        source.backup(target)
    views = create_views(f"sqlite:///{copy}")
    assert {"careerbot_careers", "careerbot_page_careers", "careerbot_turns"} <= set(views)
    engine = sa.create_engine(f"sqlite:///{copy}")
    with engine.connect() as connection:
        assert view_figures(connection) == (CAREERS, PAGE_CAREERS, CAREER_TOPICS, (8, 22, 11, 5))
    engine.dispose()


@pytest.mark.services
def test_the_postgresql_views_split_by_career_and_page(store):
    """The store copied row by row into a real PostgreSQL: the report and the views give the same figures."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from bot.devtools.cluster import Postgres
    from bot.ops.report.figures import build_report
    from bot.ops.report.loading import StoredEvents
    from bot.ops.report_views import create_views

    postgres = Postgres().create()
    try:
        source, target = sa.create_engine(store), sa.create_engine(postgres.url)
        table = SQLTrackerStore.SQLEvent.__table__
        table.metadata.create_all(target, tables=[table])
        with source.connect() as reading, target.begin() as writing:
            writing.execute(table.insert(), [dict(r._mapping) for r in reading.execute(sa.select(table))])
        source.dispose()
        report = build_report(StoredEvents(postgres.url))
        assert {name: figures(f) for name, f in report.careers} == CAREERS
        assert {name: figures(f) for name, f in report.pages} == PAGES
        create_views(postgres.url)
        with target.connect() as connection:
            assert view_figures(connection) == (CAREERS, PAGE_CAREERS, CAREER_TOPICS, (8, 22, 11, 5))
        target.dispose()
    finally:
        postgres.close()


@pytest.mark.browser
def test_the_page_at_375_px(store, tmp_path, monkeypatch):
    from playwright.sync_api import sync_playwright

    from bot.ops.report.cli import main
    from tests.support.browser import CHROMIUM, CHROMIUM_ARGS

    monkeypatch.setenv("CAREERBOT_TRACKER_URL", store)
    out = tmp_path / "report.html"
    assert main(["--out", str(out)]) == 0
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(viewport={"width": 375, "height": 900})
        page.goto(out.as_uri())
        assert page.evaluate("document.documentElement.scrollWidth") <= 375
        # The wide tables scroll inside their own box; nothing else is wider than the phone.
        wide = page.evaluate("""[...document.querySelectorAll('body *')]
            .filter(e => e.getBoundingClientRect().right > innerWidth && !e.closest('div.table'))
            .map(e => e.tagName)""")
        assert wide == []
        assert page.locator("h2", has_text="By career").count() == 1
        page.screenshot(path=str(tmp_path / "report-careers-375.png"), full_page=True)
        browser.close()
