"""Handoff to a person and "Was this helpful?", with the real servers, over REST."""

from __future__ import annotations

import json

from bot.ops.report.figures import build_report
from bot.ops.report.loading import StoredEvents
from tests.support.servers import say, slot_values, text


def test_handoff_collects_a_valid_email_and_the_question(servers):
    sender = "handoff-happy"
    assert "Mortgage Loan Originator License" in text(say(servers, sender, "do I need a license?"))
    assert "What email address" in text(say(servers, sender, "/request_human"))
    assert "doesn't look like an email address" in text(say(servers, sender, "my email is nope"))
    assert "What would you like to ask them?" in text(say(servers, sender, "ann@example.com"))
    done = text(say(servers, sender, "Are the rules in Ohio different?"))
    assert "I've passed your question to our careers team" in done
    assert "reply to ann@example.com" in done
    from bot.handoff.outbox import Outbox

    [row] = [h for h in Outbox(servers.settings.tracker_url).list() if h.sender_id == sender]
    assert (row.email, row.question, row.route, row.topic) == (
        "ann@example.com",
        "Are the rules in Ohio different?",
        "our careers team",
        "licensing",
    )
    # The conversation keeps the handoff's id and outcome, not the address.
    assert slot_values(servers, sender, "handoff")[-1] == {"id": row.id, "status": "submitted", "topic": "licensing"}
    # Back to questions afterwards.
    assert "9am to 5pm" in text(say(servers, sender, "what are the hours?"))


def test_handoff_can_be_cancelled(servers):
    sender = "handoff-cancel"
    assert "What email address" in text(say(servers, sender, "/request_human"))
    assert "cancelled" in text(say(servers, sender, "/cancel"))
    assert slot_values(servers, sender, "handoff") == []
    assert "$24,000 to $42,000" in text(say(servers, sender, "how much do they earn?"))


def test_second_fallback_in_a_row_offers_a_person(servers):
    sender = "fallback-twice"
    first = say(servers, sender, "what are today's mortgage rates?")
    assert "Talk to a person" not in [b["title"] for m in first for b in m.get("buttons", [])]
    second = say(servers, sender, "tell me a joke")
    assert "Would you like to ask a person instead?" in text(second)
    assert "Talk to a person" in [b["title"] for m in second for b in m.get("buttons", [])]


def test_feedback_is_asked_sometimes_and_recorded_with_the_topic(servers):
    sender = "feedback"
    first = say(servers, sender, "how much do they earn?")
    assert "Was this helpful?" not in text(first)
    second = say(servers, sender, "what are the hours?")
    assert second[-1]["text"] == "Was this helpful?"
    yes, no = [b["payload"] for b in second[-1]["buttons"]]
    answer_id = json.loads(yes[len("/feedback_helpful") :])["answer_id"]
    assert (yes, no) == (
        f'/feedback_helpful{{"answer_id": "{answer_id}"}}',
        f'/feedback_unhelpful{{"answer_id": "{answer_id}"}}',
    )
    assert "Thanks for letting me know" in text(say(servers, sender, yes))
    assert slot_values(servers, sender, "feedback")[-1] == {"answer_id": answer_id, "topic": "hours", "helpful": True}
    third = say(servers, sender, "what do they do?")
    assert "Was this helpful?" not in text(third)  # not after every answer


def test_the_prompt_follows_the_2nd_and_the_6th_answer_and_a_typed_no_after_a_later_answer_counts(servers):
    sender = "feedback-sixth"
    questions = [
        "what do they do?",
        "how much do they earn?",
        "what are the hours?",
        "what degree do I need?",
        "who hires them?",
        "what is the job outlook?",
        "what skills help?",
    ]
    prompted = [
        n for n, question in enumerate(questions, 1) if "Was this helpful?" in text(say(servers, sender, question))
    ]
    assert prompted == [2, 6]
    # The 7th answer had no prompt under it; a typed "no" is still about it.
    assert "Sorry about that" in text(say(servers, sender, "no"))
    [feedback] = slot_values(servers, sender, "feedback")
    assert feedback["topic"] == "qualities" and feedback["helpful"] is False


def test_the_report_reads_what_the_servers_stored(servers):
    sender = "report-check"
    say(servers, sender, "what is the job outlook?")
    report = build_report(StoredEvents(servers.settings.tracker_url))
    assert report.totals.conversations >= 1 and {t.topic for t in report.topics} >= {"outlook"}


def test_a_missed_message_and_an_answer_rated_not_helpful_wait_in_the_review_inbox(servers, tmp_path):
    """The review CLI on the store the servers wrote: the fallback and the not-helpful paths."""
    import os
    import subprocess
    import sys

    from bot import PROJECT_DIR

    sender = "review-inbox"
    missed = "team"  # the classifier is unsure of it: nlu_fallback
    assert "Sorry" in text(say(servers, sender, missed))
    say(servers, sender, "how much do they earn?")
    rated = say(servers, sender, "what are the working hours like?")
    no = [b["payload"] for b in rated[-1]["buttons"]][1]
    assert "Sorry about that" in text(say(servers, sender, no))
    listed = subprocess.run(
        [sys.executable, "-m", "bot.ops.review", "list", "--json", "--review", str(tmp_path)],
        capture_output=True,
        text=True,
        env={**os.environ, "CAREERBOT_TRACKER_URL": servers.settings.tracker_url},
        cwd=PROJECT_DIR,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr
    waiting = {m["text"]: m for g in json.loads(listed.stdout)["groups"] for m in g["messages"]}
    # Unsure (nlu_fallback), it shows the classifier's best guess, for the owner to judge.
    assert waiting[missed]["reason"] == "fallback" and waiting[missed]["intent"] not in (None, "nlu_fallback")
    hours = waiting["what are the working hours like?"]
    assert (hours["reason"], hours["intent"], hours["career"]) == (
        "not_helpful",
        "ask_hours",
        "mortgage_servicing_specialist",
    )
    assert "how much do they earn?" not in waiting and not any(t.startswith("/") for t in waiting)
