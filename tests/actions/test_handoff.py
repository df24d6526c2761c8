import pytest
from rasa_sdk.events import ActiveLoop, FollowupAction, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionCancelHandoff, ActionRequestHuman, ActionSubmitHandoff, ValidateHandoffForm
from actions.session import ActionSessionStart
from bot.handoff.outbox import Outbox


@pytest.fixture
def store(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("CAREERBOT_TRACKER_URL", url)
    return Outbox(url)


@pytest.fixture
def delivery(monkeypatch):
    monkeypatch.setenv("CAREERBOT_HANDOFF_WEBHOOK_URL", "http://127.0.0.1:9/hook")
    monkeypatch.setenv("CAREERBOT_HANDOFF_WEBHOOK_SECRET", "s" * 16)


@pytest.mark.parametrize(
    "value, kept",
    [
        ("ann@example.com", "ann@example.com"),
        (" <bo.b+x@mail.co.uk>. ", "bo.b+x@mail.co.uk"),
        ("nope", None),
        ("a@b", None),
        ("two@at@signs.com", None),
        ("spaces in@x.com", None),
        ("", None),
    ],
)
def test_email_validation(tracker, value, kept):
    dispatcher = CollectingDispatcher()
    result = ValidateHandoffForm().validate_handoff_email(value, dispatcher, tracker(text=value, intent="inform"), {})
    assert result == {"handoff_email": kept}
    assert [m["response"] for m in dispatcher.messages] == ([] if kept else ["utter_invalid_email"])


def test_a_request_starts_the_form_only_when_handoffs_can_be_delivered(run_action, delivery):
    assert run_action(ActionRequestHuman(), intent="request_human").events == [FollowupAction("handoff_form")]


def test_without_delivery_the_bot_gives_the_contact_route_and_promises_nothing(run_action, monkeypatch):
    monkeypatch.setenv("CAREERBOT_HANDOFF_CONTACT", "careers@example.com")
    outcome = run_action(ActionRequestHuman(), intent="request_human")
    assert outcome.events == []
    assert "careers@example.com" in outcome.text and "reply" not in outcome.text
    monkeypatch.delenv("CAREERBOT_HANDOFF_CONTACT")
    assert [r.response for r in run_action(ActionRequestHuman(), intent="request_human").replies] == [
        "utter_handoff_unavailable"
    ]


def test_submit_queues_the_handoff_and_keeps_only_its_id_in_the_conversation(run_action, monkeypatch, store, delivery):
    monkeypatch.setenv("CAREERBOT_HANDOFF_ROUTE", "the careers desk")
    outcome = run_action(
        ActionSubmitHandoff(),
        text="Q?",
        intent="ask_pay",
        slots={"handoff_email": "a@b.co", "handoff_question": "Q?", "topic": "pay"},
        events=[
            {"event": "user", "text": "how much?", "timestamp": 1.0},
            {"event": "bot", "text": "The pay...", "timestamp": 2.0},
        ],
    )
    [row] = store.list()
    assert (row.status, row.email, row.question, row.topic, row.route) == (
        "pending",
        "a@b.co",
        "Q?",
        "pay",
        "the careers desk",
    )
    assert [(line["from"], line["text"]) for line in row.transcript] == [
        ("visitor", "how much?"),
        ("bot", "The pay..."),
        ("visitor", "Q?"),
    ]
    assert outcome.events[0] == SlotSet("handoff", {"id": row.id, "status": "submitted", "topic": "pay"})
    assert "passed your question to the careers desk, and they will reply to a@b.co" in outcome.text


def test_cancel_after_the_address_records_an_abandoned_form_without_it(run_action, store, delivery):
    outcome = run_action(ActionCancelHandoff(), intent="cancel", slots={"handoff_email": "a@b.co", "topic": "pay"})
    [row] = store.list()
    assert (row.status, row.email, row.topic) == ("abandoned", None, "pay")
    assert outcome.events[0] == SlotSet(
        "handoff", {"id": row.id, "status": "abandoned", "topic": "pay", "reason": "cancelled"}
    )
    assert ActiveLoop(None) in outcome.events and SlotSet("handoff_email", None) in outcome.events
    assert "cancelled" in outcome.text


def test_cancel_before_the_address_records_nothing(run_action, store):
    outcome = run_action(ActionCancelHandoff(), intent="cancel")
    assert outcome.events[0] == ActiveLoop(None)
    assert store.list() == []


def test_a_new_session_keeps_only_the_visitors_context(run_action, store):
    outcome = run_action(
        ActionSessionStart(),
        intent="ask_pay",
        slots={
            "topic": "pay",
            "job_level": "manager",
            "us_state": "Ohio",
            "handoff": {"id": "x"},
            "feedback": {"answer_id": "a", "helpful": True},
            "handoff_email": None,
        },
    )
    assert outcome.events == [
        SessionStarted(),
        SlotSet("topic", "pay"),
        SlotSet("job_level", "manager"),
        SlotSet("us_state", "Ohio"),
        {"event": "action", "name": "action_listen", "policy": None, "confidence": None, "timestamp": None},
    ]


def test_a_session_ending_in_the_open_form_records_it_abandoned(run_action, store):
    outcome = run_action(
        ActionSessionStart(),
        intent="ask_pay",
        active_loop={"name": "handoff_form"},
        slots={"handoff_email": "a@b.co", "requested_slot": "handoff_question"},
    )
    [row] = store.list()
    assert (row.status, row.email) == ("abandoned", None)
    assert outcome.events[0]["value"]["reason"] == "session ended"
    assert outcome.events[1] == SessionStarted()
    assert not any(e.get("name") in ("handoff_email", "requested_slot") for e in outcome.events)
