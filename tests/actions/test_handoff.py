import pytest
from rasa_sdk.events import ActiveLoop, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.handoff import ActionCancelHandoff, ActionSubmitHandoff, ValidateHandoffForm


@pytest.mark.parametrize("value, kept", [
    ("ann@example.com", "ann@example.com"), (" <bo.b+x@mail.co.uk>. ", "bo.b+x@mail.co.uk"),
    ("nope", None), ("a@b", None), ("two@at@signs.com", None), ("spaces in@x.com", None), ("", None),
])
def test_email_validation(tracker, value, kept):
    dispatcher = CollectingDispatcher()
    result = ValidateHandoffForm().validate_handoff_email(value, dispatcher, tracker(text=value, intent="inform"), {})
    assert result == {"handoff_email": kept}
    assert [m["response"] for m in dispatcher.messages] == ([] if kept else ["utter_invalid_email"])


def test_submit_records_the_handoff_with_the_configured_route(run_action, monkeypatch):
    monkeypatch.setenv("CAREERBOT_HANDOFF_ROUTE", "the careers desk")
    outcome = run_action(ActionSubmitHandoff(), intent="ask_pay",
                         slots={"handoff_email": "a@b.co", "handoff_question": "Q?", "topic": "pay"})
    assert outcome.events[0] == SlotSet("handoff", {"email": "a@b.co", "question": "Q?",
                                                    "route": "the careers desk", "topic": "pay"})
    assert "passed your question to the careers desk, and they will reply to a@b.co" in outcome.text


def test_cancel_closes_the_form_and_forgets_the_details(run_action):
    outcome = run_action(ActionCancelHandoff(), intent="cancel", slots={"handoff_email": "a@b.co"})
    assert outcome.events[0] == ActiveLoop(None)
    assert SlotSet("handoff_email", None) in outcome.events
    assert "cancelled" in outcome.text
