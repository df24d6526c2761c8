from rasa_sdk.events import SlotSet

from actions.pay import ActionAnswerPay


def test_pay_lists_every_level_with_its_source(knowledge, run_action):
    outcome = run_action(ActionAnswerPay(knowledge), text="how much do they earn?", intent="ask_pay")
    assert outcome.events == [SlotSet("topic", "pay")]
    text = outcome.text
    assert "Starting mortgage loan specialists: $24,000 to $42,000 a year" in text
    assert "Experienced mortgage specialists: $42,000 to $59,000 a year" in text
    assert "Loan managers: $59,000 to $87,000 a year" in text
    assert "Source: Payscale, as cited in “How to Become a Mortgage Servicing Specialist in the US”" in text
    assert 2 <= len(outcome.replies[0].buttons) <= 3


def test_pay_for_one_level(knowledge, run_action):
    outcome = run_action(
        ActionAnswerPay(knowledge),
        text="what do managers make",
        intent="ask_pay_level",
        entities={"job_level": "managers"},
    )
    assert outcome.replies[0].response == "utter_answer_pay_level"
    assert "Loan managers earn $59,000 to $87,000 a year." in outcome.text
    assert "$24,000" not in outcome.text and "Payscale" in outcome.text


def test_unknown_level_falls_back_to_all_levels(knowledge, run_action):
    outcome = run_action(
        ActionAnswerPay(knowledge),
        text="pay for astronauts",
        intent="ask_pay_level",
        entities={"job_level": "astronaut"},
    )
    assert outcome.replies[0].response == "utter_answer_pay"


def test_a_second_career_answers_from_its_own_file(fixture_knowledge, run_action):
    outcome = run_action(
        ActionAnswerPay(fixture_knowledge),
        text="and the principal keepers?",
        intent="ask_pay_level",
        entities={"job_level": "principal keepers"},
    )
    assert "Principal keepers earn $31,000 to $37,000 a year." in outcome.text
    assert "Fixture Wage Survey, as cited in “Test Fixture Handbook”" in outcome.text
