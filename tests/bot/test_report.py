"""The deflection report, from a real SQLite tracker store holding known conversations."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timezone

import pytest
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.ops.report import build_report, load_rows, main, summary, to_html

NOV_1 = datetime(2026, 11, 1, 12, tzinfo=timezone.utc).timestamp()
NOV_20 = datetime(2026, 11, 20, 12, tzinfo=timezone.utc).timestamp()


def turn(text, intent, action, slots=(), channel="socketio", at=NOV_20):
    events = [UserUttered(text, {"name": intent, "confidence": 1.0}, input_channel=channel, timestamp=at),
              ActionExecuted("action_extract_slots", timestamp=at),
              ActionExecuted(action, timestamp=at),
              BotUttered("reply", timestamp=at)]
    events += [SlotSet(name, value, timestamp=at) for name, value in slots]
    events.append(ActionExecuted("action_listen", timestamp=at))
    return events


CONVERSATIONS = {
    # 1: two answers, one helpful vote: deflected
    "ann": turn("how much do they earn?", "ask_pay", "action_answer_pay", [("topic", "pay")])
    + turn("and the managers?", "inform", "action_answer_followup", [("topic", "pay")])
    + turn("yes", "feedback_helpful", "action_record_feedback", [("feedback", {"topic": "pay", "helpful": True})]),
    # 2: a fallback, then an answer: deflected
    "bob": turn("today's rates?", "out_of_scope", "action_fallback")
    + turn("what are the hours", "ask_hours", "action_answer_hours", [("topic", "hours")])
    + turn("no", "feedback_unhelpful", "action_record_feedback",
           [("feedback", {"topic": "hours", "helpful": False})]),
    # 3: an answer, then a handoff: not deflected
    "cat": turn("do I need a license", "ask_licensing", "action_answer_licensing", [("topic", "licensing")])
    + turn("a person please", "request_human", "handoff_form")
    + turn("cat@example.com", "nlu_fallback", "handoff_form")
    + turn("is Ohio different?", "ask_licensing", "action_submit_handoff",
           [("handoff", {"email": "cat@example.com", "question": "is Ohio different?"})]),
    # 4: two fallbacks, never answered; on Slack. The second is a topic action
    # refusing a question about another job: its reply, utter_other_career, counts as a fallback.
    "dan": turn("today's rates?", "out_of_scope", "action_fallback", channel="slack")
    + [UserUttered("asdf lawyers hours", {"name": "ask_hours"}, input_channel="slack", timestamp=NOV_20),
       ActionExecuted("action_answer_hours", timestamp=NOV_20),
       BotUttered("Sorry...", metadata={"utter_action": "utter_other_career"}, timestamp=NOV_20),
       ActionExecuted("action_listen", timestamp=NOV_20)],
    # 5: an early conversation, outside the November 10+ window
    "eve": turn("duties?", "ask_duties", "action_answer_duties", [("topic", "duties")], at=NOV_1),
}


@pytest.fixture(scope="module")
def tracker_url(tmp_path_factory, rasa_domain):
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'tracker.db'}"
    store = SQLTrackerStore(rasa_domain, host=url)
    for sender, events in CONVERSATIONS.items():
        asyncio.run(store.save(DialogueStateTracker.from_events(sender, events, rasa_domain.slots)))
    return url


def test_every_figure(tracker_url):
    report = build_report(load_rows(tracker_url))
    assert report.conversations == 5
    assert report.messages == 13  # 3 + 3 + 4 + 2 + 1
    assert report.answered_conversations == 4
    assert report.deflected_conversations == 3  # ann, bob, eve; cat was handed off
    assert report.handoff_conversations == 1
    assert report.deflection_rate == pytest.approx(3 / 5)
    assert report.fallback_messages == 3
    assert report.fallback_rate == pytest.approx(3 / 13)
    assert report.handoff_rate == pytest.approx(1 / 5)
    assert report.answers_by_topic == {"pay": 2, "hours": 1, "licensing": 1, "duties": 1}
    assert report.helpful_by_topic == {"pay": {"helpful": 1}, "hours": {"not helpful": 1}}
    assert report.unanswered.most_common() == [("today's rates?", 2), ("asdf lawyers hours", 1)]
    assert report.channels == {"socketio": 4, "slack": 1}


def test_date_range(tracker_url):
    report = build_report(load_rows(tracker_url), since=date(2026, 11, 10), until=date(2026, 12, 1))
    assert (report.conversations, report.messages) == (4, 12)
    assert "duties" not in report.answers_by_topic
    early = build_report(load_rows(tracker_url), until=date(2026, 11, 10))
    assert (early.conversations, early.deflected_conversations) == (1, 1)


def test_channel_filter(tracker_url):
    slack = build_report(load_rows(tracker_url), channel="slack")
    assert (slack.conversations, slack.messages, slack.fallback_messages) == (1, 2, 2)
    assert slack.deflection_rate == 0.0
    assert build_report(load_rows(tracker_url), channel="telegram").conversations == 0


def test_an_empty_store_reports_zeros(tmp_path):
    report = build_report(load_rows(f"sqlite:///{tmp_path / 'empty.db'}"))
    assert (report.conversations, report.deflection_rate, report.fallback_rate) == (0, 0.0, 0.0)


def test_summary_and_html(tracker_url):
    report = build_report(load_rows(tracker_url))
    text = summary(report)
    assert "Deflection rate: 60.0% (3 answered without a person)" in text
    assert "Fallback rate:   23.1%" in text and "Handoff rate:    20.0%" in text
    assert "  2 x \"today's rates?\"" in text
    page = to_html(report, "report <test>")
    assert "<title>report &lt;test&gt;</title>" in page
    assert "today&#x27;s rates?" in page and "<svg" in page
    assert "cat@example.com" not in page  # handoff contact details stay in the store


def test_command_line(tracker_url, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", tracker_url)
    out = tmp_path / "report.html"
    assert main(["--out", str(out), "--channel", "socketio"]) == 0
    printed = capsys.readouterr().out
    assert "Conversations:   4" in printed and str(out) in printed
    assert out.read_text().startswith("<!doctype html>")
