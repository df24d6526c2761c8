from rasa_sdk.events import SlotSet

from actions.feedback import ActionRecordFeedback, answers_this_session, should_ask_feedback


def answer(answer_id, topic):
    return {
        "event": "bot",
        "text": "...",
        "metadata": {"utter_action": f"utter_answer_{topic}", "answer_id": answer_id, "topic": topic},
    }


def prompt(answer_id):
    return {
        "event": "bot",
        "text": "Was this helpful?",
        "metadata": {"utter_action": "utter_ask_feedback", "answer_id": answer_id},
    }


def user(text="x"):
    return {"event": "user", "text": text}


def click(answer_id):
    return [{"entity": "answer_id", "value": answer_id}]


def test_asks_after_the_second_answer_then_every_fourth():
    assert [n for n in range(1, 15) if should_ask_feedback(n)] == [2, 6, 10, 14]


def test_the_prompt_is_not_counted_as_an_answer_so_the_second_prompt_follows_the_sixth(tracker):
    events = [user(), answer("a1", "pay"), user(), answer("a2", "hours"), prompt("a2")]
    for n in range(3, 6):
        events += [user(), answer(f"a{n}", "duties")]
    assert answers_this_session(tracker(events=events)) == 5
    assert should_ask_feedback(answers_this_session(tracker(events=events)) + 1)


def test_answers_are_counted_from_the_answers_of_this_session_not_from_slots(tracker):
    events = [
        user(),
        answer("a1", "pay"),
        {"event": "session_started"},
        {"event": "slot", "name": "topic", "value": "pay"},
        user(),
        answer("a2", "hours"),
    ]
    assert answers_this_session(tracker(events=events)) == 1


def test_a_click_rates_the_answer_it_was_shown_under(run_action):
    events = [user(), answer("a1", "duties"), user(), answer("a2", "pay"), prompt("a2"), user(), answer("a3", "hours")]
    late = run_action(ActionRecordFeedback(), intent="feedback_unhelpful", entities=click("a1"), events=events)
    assert late.events == [SlotSet("feedback", {"answer_id": "a1", "topic": "duties", "helpful": False})]
    assert "talk to a person" in late.text


def test_a_second_click_on_the_same_answer_changes_nothing(run_action):
    events = [
        user(),
        answer("a1", "pay"),
        prompt("a1"),
        user("/feedback_helpful"),
        {"event": "slot", "name": "feedback", "value": {"answer_id": "a1", "topic": "pay", "helpful": True}},
    ]
    again = run_action(ActionRecordFeedback(), intent="feedback_unhelpful", entities=click("a1"), events=events)
    assert again.events == []
    assert [r.response for r in again.replies] == ["utter_feedback_already"]


def test_a_typed_answer_rates_the_answer_the_prompt_was_about(run_action):
    events = [user(), answer("a1", "pay"), user(), answer("a2", "hours"), prompt("a2")]
    typed = run_action(ActionRecordFeedback(), intent="feedback_helpful", events=events)
    assert typed.events == [SlotSet("feedback", {"answer_id": "a2", "topic": "hours", "helpful": True})]


def test_a_click_on_an_answer_of_an_earlier_session_keeps_its_id(run_action):
    late = run_action(
        ActionRecordFeedback(), intent="feedback_helpful", entities=click("old"), events=[{"event": "session_started"}]
    )
    assert late.events == [SlotSet("feedback", {"answer_id": "old", "topic": None, "helpful": True})]


def test_feedback_without_an_answer_records_nothing(run_action):
    assert run_action(ActionRecordFeedback(), intent="feedback_helpful").events == []


def test_the_buttons_carry_the_answer_id_within_telegrams_64_bytes(run_action, knowledge):
    from actions.work import ActionAnswerHours

    events = [user(), answer("a1", "pay")]
    outcome = run_action(ActionAnswerHours(knowledge), text="what are the hours?", intent="ask_hours", events=events)
    [prompt] = [r for r in outcome.replies if r.response == "utter_ask_feedback"]
    payloads = [b["payload"] for b in prompt.buttons]
    assert all(len(p.encode()) <= 64 for p in payloads)
    assert len({p.split("{", 1)[1] for p in payloads}) == 1  # both name the same answer
