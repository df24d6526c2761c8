"""The review inbox (bot/ops/review/): reading a real store, grouping, decisions and the CLI.

The stores are real SQLite files (PostgreSQL in the services test) with events written as Rasa's
SQL tracker store writes them; the visitor's messages carry their parse data, as the bot stores it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
import yaml

from bot import PROJECT_DIR
from bot.ops.report.loading import Row
from bot.ops.review.decisions import ReviewError, decide, empty_nlu, needs_content, read_ledger, reviewed_lines
from bot.ops.review.groups import group
from bot.ops.review.inbox import Message, load_inbox, message_id, messages, transcript, waiting_count
from bot.ops.review.threshold import LOW_CONFIDENCE
from tests.support.stores import write_events

EMAIL_QUESTION = "what do nurses earn? mail me at ann.lee@example.com"


def _user(text, intent, confidence=1.0, *ranking):
    parse = {"intent": {"name": intent, "confidence": confidence}, "intent_ranking": [dict(r) for r in ranking]}
    return "user", {"text": text, "input_channel": "rest", "parse_data": parse}


def _bot(response, buttons=None, **meta):
    return "bot", {"text": response, "data": {"buttons": buttons}, "metadata": {"utter_action": response, **meta}}


def _clarify():
    return _bot(
        "utter_clarify",
        buttons=[{"title": "The pay", "payload": "/ask_pay"}, {"title": "The hours", "payload": "/ask_hours"}],
    )


def _rows(sender, start, *events):
    return [Row(0, sender, kind, start + i, data) for i, (kind, data) in enumerate(events, 1)]


def _feedback(answer_id, helpful):
    return "slot", {"name": "feedback", "value": {"answer_id": answer_id, "topic": "pay", "helpful": helpful}}


VISITOR = _rows(
    "visitor-1",
    1000.0,
    ("session_started", {}),
    _user(EMAIL_QUESTION, "ask_pay", 0.9),
    _bot("utter_other_career"),
    _user("blah wibble", "nlu_fallback", 0.2),
    _bot("utter_fallback"),
    _user("pay or hours?", "nlu_fallback", 0.3),
    _clarify(),
    _user("/ask_pay", "ask_pay"),  # a click on an offered button: resolved
    _bot("utter_answer_pay", answer_id="a1", topic="pay", career="tellers"),
    _user("which one then", "nlu_fallback", 0.3),
    _clarify(),
    _user("hello there", "greet"),  # neither offered topic: unresolved
    _bot("utter_greet"),
    _user("what do they earn hmm", "ask_pay", LOW_CONFIDENCE - 0.05),
    _bot("utter_answer_pay", answer_id="a2", topic="pay", career="tellers"),
    _feedback("a2", False),  # low confidence and not helpful: once, as low confidence
    _user("what is the pay like", "ask_pay", min(LOW_CONFIDENCE + 0.05, 1.0)),
    _bot("utter_answer_pay", answer_id="a3", topic="pay", career="tellers"),
    _user("tell me the hours", "ask_hours", 0.99),
    _bot("utter_answer_hours", answer_id="a4", topic="hours", career="tellers"),
    _bot("utter_ask_feedback", answer_id="a4"),
    _user("no", "deny"),
    _feedback("a4", False),
    _bot("utter_feedback_sorry"),
    _user("book me a flight", "out_of_scope"),
    _bot("utter_fallback"),
    _user("is the pay good or the hours?", "nlu_fallback", 0.3),
    _clarify(),
    ("session_started", {}),
    _user("/ask_pay", "ask_pay"),  # in the next session: the question stays unresolved
)
# Another visitor says the same off-topic words, and asks about nurses in other words.
OTHER = _rows(
    "visitor-2",
    5000.0,
    _user("book me a flight", "out_of_scope"),
    _bot("utter_fallback"),
    _user("how much do nurses make on a night shift in alaska", "ask_pay", 0.9),
    _bot("utter_other_career"),
    # Unsure, and answered in context all the same: low confidence, by the best intent of its ranking.
    _user(
        "hmm and the money",
        "nlu_fallback",
        0.3,
        {"name": "nlu_fallback", "confidence": 0.3},
        {"name": "ask_pay", "confidence": LOW_CONFIDENCE - 0.1},
    ),
    _bot("utter_answer_pay", answer_id="b1", topic="pay", career="tellers"),
)
EXPECTED = {
    "what do nurses earn? mail me at [e-mail redacted]": "out_of_scope",
    "blah wibble": "fallback",
    "which one then": "unresolved_clarification",
    "what do they earn hmm": "low_confidence",
    "tell me the hours": "not_helpful",
    "book me a flight": "out_of_scope",
    "is the pay good or the hours?": "unresolved_clarification",
}


@pytest.fixture()
def store(tmp_path):
    return write_events(f"sqlite:///{tmp_path / 'tracker.db'}", [*VISITOR, *OTHER])


@pytest.fixture()
def dirs(tmp_path):
    """A data folder with the two reviewed files as first committed, and an empty review folder."""
    data, review = tmp_path / "data", tmp_path / "review"
    (data / "nlu").mkdir(parents=True)
    for name, out_of_scope in (("reviewed.yml", False), ("reviewed_out_of_scope.yml", True)):
        (data / "nlu" / name).write_text(empty_nlu(out_of_scope))
    return data, review


def test_each_missed_message_waits_once_with_its_reason_redacted_and_a_stable_id(store, tmp_path):
    found = messages(store, tmp_path / "review")
    first = [m for m in found if m.sender_id == "visitor-1"]
    assert {m.text: m.reason for m in first} == EXPECTED
    assert [(m.text, m.reason, m.intent) for m in found if m.sender_id == "visitor-2"] == [
        ("book me a flight", "out_of_scope", "out_of_scope"),
        ("how much do nurses make on a night shift in alaska", "out_of_scope", "ask_pay"),
        ("hmm and the money", "low_confidence", "ask_pay"),
    ]
    low = next(m for m in first if m.reason == "low_confidence")
    assert (low.intent, low.confidence, low.career, low.channel) == (
        "ask_pay",
        LOW_CONFIDENCE - 0.05,
        "tellers",
        "rest",
    )
    assert all(m.id == message_id(m.sender_id, m.at, m.text) and len(m.id) == 16 for m in found)
    assert [m.id for m in messages(store, tmp_path / "review")] == [m.id for m in found]
    assert waiting_count(store, tmp_path / "review") == len(found) == 10
    lines = transcript(store, "visitor-1")
    assert ("visitor", "what do nurses earn? mail me at [e-mail redacted]", 1002.0) in lines
    assert not any("ann.lee" in text for _, text, _ in lines) and all(who in ("visitor", "bot") for who, _, _ in lines)


def test_similar_messages_are_grouped_largest_first_and_the_same_way_every_time():
    def message(n, text):
        return Message(f"{n:016x}", text, "fallback", None, None, "tellers", "rest", float(n), "s")

    texts = ["how much do nurses earn", "book me a flight", "How much do nurses earn?", "how much do nurses earn!"]
    groups = group([message(n, t) for n, t in enumerate(texts)])
    assert [(g.id, [m.text for m in g.messages]) for g in groups] == [
        ("g" + f"{0:016x}", ["how much do nurses earn", "How much do nurses earn?", "how much do nurses earn!"]),
        ("g" + f"{1:016x}", ["book me a flight"]),
    ]
    assert groups[0].count == 3 and len(groups[0].examples) == 3 and groups[0].reasons == {"fallback": 3}
    assert [g.id for g in group([message(n, t) for n, t in reversed(list(enumerate(texts)))])] == [g.id for g in groups]


def test_a_label_writes_each_redacted_text_once_and_decided_messages_leave(store, dirs):
    data, review = dirs
    inbox = load_inbox(store, review)
    flights = next(g for g in inbox.groups if g.examples == ["book me a flight"])
    assert flights.count == 2  # two visitors, the same words
    assert inbox.find(flights.id) == flights.messages
    nurses = [m for g in inbox.groups for m in g.messages if "nurses earn" in m.text]
    assert decide(nurses, "label", "ask_pay", data, review) == 1
    assert decide(flights.messages, "out_of_scope", data_dir=data, review_dir=review) == 2
    assert decide(flights.messages, "out_of_scope", data_dir=data, review_dir=review) == 0  # never twice
    assert reviewed_lines(data) == [
        ("what do nurses earn? mail me at [e-mail redacted]", "ask_pay"),
        ("book me a flight", "out_of_scope"),
    ]
    assert "ann.lee" not in (data / "nlu" / "reviewed.yml").read_text()
    assert {(e["decision"], e["text"]) for e in read_ledger(review)} == {
        ("label", "what do nurses earn? mail me at [e-mail redacted]"),
        ("out_of_scope", "book me a flight"),
    }
    left = {m.text for g in load_inbox(store, review).groups for m in g.messages}
    assert left == {
        "blah wibble",
        "which one then",
        "what do they earn hmm",
        "tell me the hours",
        "is the pay good or the hours?",
        "how much do nurses make on a night shift in alaska",
        "hmm and the money",
    }
    with pytest.raises(ReviewError, match="no group or message 'g123' is waiting"):
        load_inbox(store, review).find("g123")


def test_rasa_reads_the_reviewed_examples_with_their_metadata(dirs):
    from rasa.shared.nlu.training_data.loading import load_data

    data, review = dirs
    message = Message(
        "0123456789abcdef", "what's the pay in ohio?", "fallback", None, None, "tellers", "rest", 1.0, "s"
    )
    decide([message], "label", "ask_pay", data, review)
    examples = load_data(str(data / "nlu" / "reviewed.yml")).intent_examples
    assert [(e.get("text"), e.get("intent"), e.get("metadata")) for e in examples] == [
        ("what's the pay in ohio?", "ask_pay", {"example": {"review": "0123456789abcdef"}})
    ]
    assert load_data(str(data / "nlu" / "reviewed_out_of_scope.yml")).intent_examples == []


def test_a_near_copy_of_a_held_out_line_an_unknown_intent_or_decision_writes_nothing(dirs):
    data, review = dirs
    line = yaml.safe_load((PROJECT_DIR / "tests/nlu/dev_set_2.yml").read_text())["nlu"][0]["examples"].splitlines()[0][
        2:
    ]
    message = Message("feedfacefeedface", line + "?", "fallback", None, None, "tellers", "rest", 1.0, "s")
    before = (data / "nlu" / "reviewed.yml").read_text()
    held_out = rf"'{line}\?' is 0\.9\d similar to the held-out line '{line}' of tests/nlu/(dev|test)_set(_2)?\.yml"
    with pytest.raises(ReviewError, match=held_out):
        decide([message], "label", "ask_overview", data, review)
    with pytest.raises(ReviewError, match="'ask_nurses' is not an intent"):
        decide([message], "label", "ask_nurses", data, review)
    with pytest.raises(ReviewError, match="'out_of_scope' is not an intent"):
        decide([message], "label", "out_of_scope", data, review)
    with pytest.raises(ReviewError, match="unknown decision"):
        decide([message], "forget", None, data, review)
    assert (data / "nlu" / "reviewed.yml").read_text() == before and read_ledger(review) == []
    decide([message], "needs_content", None, data, review)  # ignoring or asking for content is always possible
    assert needs_content(review) == {"tellers": [dict(read_ledger(review)[0])]}


def test_words_the_training_data_holds_are_refused_under_another_intent_and_not_written_again(dirs):
    import shutil

    from bot.similarity import nlu_examples

    data, review = dirs
    shutil.copy(PROJECT_DIR / "data" / "nlu" / "hours.yml", data / "nlu" / "hours.yml")
    text, intent = nlu_examples(data / "nlu" / "hours.yml")[0]
    message = Message("0000000000000abc", text.upper(), "fallback", None, None, "tellers", "rest", 1.0, "s")
    with pytest.raises(ReviewError, match=rf"already a training example of {intent} in data/nlu/hours.yml"):
        decide([message], "label", "ask_pay", data, review)
    assert read_ledger(review) == []
    assert decide([message], "label", intent, data, review) == 1  # decided, and the data already says so
    assert reviewed_lines(data) == [] and [e["intent"] for e in read_ledger(review)] == [intent]


def _decide_one(args):
    number, data, review = args
    decision = "out_of_scope" if number % 2 else "ignore"  # the ledger alone, or both files
    message = Message(
        f"{number:016x}", f"question number {number} about llamas", "fallback", None, None, "tellers", "rest", 1.0, "s"
    )
    return decide([message], decision, data_dir=Path(data), review_dir=Path(review))


def test_writers_at_the_same_moment_lose_no_decision(dirs):
    data, review = dirs
    with ProcessPoolExecutor(4) as pool:
        assert sum(pool.map(_decide_one, [(n, str(data), str(review)) for n in range(8)])) == 8
    assert sorted(int(e["id"], 16) for e in read_ledger(review)) == list(range(8))
    assert len(reviewed_lines(data)) == 4


def _cli(*args, url):
    env = {**os.environ, "CAREERBOT_TRACKER_URL": url}
    return subprocess.run(
        [sys.executable, "-m", "bot.ops.review", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=PROJECT_DIR,
        timeout=120,
    )


def check_cli_list_and_label(url, data, review):
    """`list --json`, then `label` of its first group, then the list without it (SQLite and PostgreSQL)."""
    options = ("--data", str(data), "--review", str(review))
    listed = _cli("list", "--json", *options, url=url)
    assert listed.returncode == 0, listed.stderr
    inbox = json.loads(listed.stdout)
    assert inbox["waiting"] == 10 and sum(g["count"] for g in inbox["groups"]) == 10
    assert "ann.lee" not in listed.stdout and "visitor-2" not in json.dumps([g["messages"] for g in inbox["groups"]])
    flights = next(g for g in inbox["groups"] if g["examples"] == ["book me a flight"])
    assert (flights["count"], flights["reasons"], flights["transcript"]) == (2, {"out_of_scope": 2}, "visitor-1")
    labelled = _cli("out-of-scope", flights["id"], *options, url=url)
    assert (labelled.returncode, labelled.stdout) == (0, "2 messages decided: out of scope\n")
    nurse = next(
        m
        for g in inbox["groups"]
        for m in g["messages"]
        if m["text"] == "how much do nurses make on a night shift in alaska"
    )
    assert _cli("label", nurse["id"], "ask_pay", *options, url=url).returncode == 0
    after = json.loads(_cli("list", "--json", *options, url=url).stdout)
    assert after["waiting"] == 7 and flights["id"] not in {g["id"] for g in after["groups"]}
    assert ("how much do nurses make on a night shift in alaska", "ask_pay") in reviewed_lines(data)


def test_the_cli_lists_decides_and_says_what_is_wrong_in_one_line(store, dirs, tmp_path):
    data, review = dirs
    check_cli_list_and_label(store, data, review)
    options = ("--data", str(data), "--review", str(review))
    text = _cli("list", *options, url=store)
    assert text.returncode == 0 and "7 messages waiting" in text.stdout and "[e-mail redacted]" in text.stdout
    for args, url, message in [
        (("ignore", "nope"), store, "error: no group or message 'nope' is waiting"),
        (("list",), f"sqlite:///{tmp_path / 'typo.db'}", "error: no conversation store at"),
    ]:
        result = _cli(*args, *options, url=url)
        assert result.returncode == 1 and result.stderr.startswith(message) and result.stderr.count("\n") == 1
    first = json.loads(_cli("list", "--json", *options, url=store).stdout)["groups"][0]["id"]
    wrong = _cli("label", first, "ask_nurses", *options, url=store)
    assert wrong.returncode == 1 and "'ask_nurses' is not an intent" in wrong.stderr
    assert _cli("label", first, *options, url=store).returncode == 2  # usage: the intent is missing
    assert _cli("needs-content", first, *options, url=store).returncode == 0
    content = json.loads(_cli("content", "--json", *options, url=store).stdout)
    assert [len(entries) for entries in content.values()] == [1]


@pytest.mark.services
def test_the_cli_lists_and_labels_in_postgresql(dirs):
    from bot.devtools.cluster import Postgres

    postgres = Postgres().create()
    try:
        write_events(postgres.url, [*VISITOR, *OTHER])
        check_cli_list_and_label(postgres.url, *dirs)
    finally:
        postgres.close()
