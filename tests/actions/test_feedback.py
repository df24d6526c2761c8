from rasa_sdk.events import SlotSet

from actions.feedback import ActionRecordFeedback, should_ask_feedback


def test_asks_after_the_second_answer_then_every_fourth():
    assert [n for n in range(1, 15) if should_ask_feedback(n)] == [2, 6, 10, 14]


def test_records_feedback_against_the_last_topic(run_action):
    helpful = run_action(ActionRecordFeedback(), intent="feedback_helpful", slots={"topic": "pay"})
    assert helpful.events == [SlotSet("feedback", {"topic": "pay", "helpful": True})]
    unhelpful = run_action(ActionRecordFeedback(), intent="feedback_unhelpful", slots={"topic": "hours"})
    assert unhelpful.events == [SlotSet("feedback", {"topic": "hours", "helpful": False})]
    assert "talk to a person" in unhelpful.text


def test_feedback_without_an_answer_records_nothing(run_action):
    assert run_action(ActionRecordFeedback(), intent="feedback_helpful").events == []
