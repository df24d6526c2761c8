"""Follow-ups lean on the `topic` slot the previous answer set."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.development import ActionAnswerAdvancement
from actions.followup import ActionAnswerFollowup
from actions.overview import ActionAnswerOverview
from actions.pay import ActionAnswerPay
from actions.work import ActionAnswerHours


def test_and_the_managers_after_pay(knowledge, run_action):
    outcome = run_action(
        ActionAnswerFollowup(knowledge),
        text="and the managers?",
        intent="inform",
        entities={"job_level": "managers"},
        slots={"topic": "pay"},
    )
    assert outcome.events == [SlotSet("topic", "pay")]
    assert "Loan managers earn $59,000 to $87,000 a year." in outcome.text


def test_what_about_ohio_after_licensing(knowledge, run_action):
    outcome = run_action(
        ActionAnswerFollowup(knowledge),
        text="what about in Ohio?",
        intent="inform",
        entities={"us_state": "Ohio"},
        slots={"topic": "licensing"},
    )
    assert outcome.events == [SlotSet("topic", "licensing")]
    assert "vary by state" in outcome.text and "no rules specific to Ohio" in outcome.text
    assert "Pass a licensing examination" in outcome.text


def test_without_one_after_education(knowledge, run_action):
    outcome = run_action(
        ActionAnswerFollowup(knowledge),
        text="and if I don't have one?",
        intent="ask_without",
        slots={"topic": "education"},
    )
    assert outcome.events == [SlotSet("topic", "no_degree")]
    assert "loan document specialist or accounting clerk" in outcome.text


def test_a_state_after_pay_says_the_figures_are_us_wide_and_gives_them(knowledge, run_action):
    outcome = run_action(
        ActionAnswerFollowup(knowledge),
        text="what about Texas",
        intent="inform",
        entities={"us_state": "Texas"},
        slots={"topic": "pay"},
    )
    assert outcome.events == [SlotSet("topic", "pay")]
    assert [r.response for r in outcome.replies[:2]] == ["utter_state_not_covered_then", "utter_answer_pay"]
    # No Texas figure is invented: Texas is named only where the source is said to be US-wide.
    assert "Texas" in outcome.replies[0].text and "Texas" not in outcome.text.split(outcome.replies[0].text, 1)[1]


def test_a_state_before_any_topic_says_the_source_is_us_wide(knowledge, run_action):
    outcome = run_action(
        ActionAnswerFollowup(knowledge), text="what about Texas", intent="inform", entities={"us_state": "Texas"}
    )
    assert outcome.events == []
    assert outcome.replies[0].response == "utter_state_not_covered"
    assert "$" not in outcome.text


@pytest.mark.parametrize("intent, slots", [("inform", {}), ("ask_without", {})])
def test_unclear_followups_ask_back(knowledge, run_action, intent, slots):
    outcome = run_action(ActionAnswerFollowup(knowledge), text="what about that", intent=intent, slots=slots)
    assert outcome.replies[0].response == "utter_followup_unclear"
    assert outcome.events == []


@pytest.mark.parametrize("intent, topic", [("inform", "pay"), ("ask_without", "hours")])
def test_a_followup_naming_nothing_continues_the_previous_topic(knowledge, run_action, intent, topic):
    # "What about that": nothing named, so the conversation's topic (bot/context.py), not "unclear".
    outcome = run_action(ActionAnswerFollowup(knowledge), text="what about that", intent=intent, slots={"topic": topic})
    assert SlotSet("topic", topic) in outcome.events


def test_a_topic_the_classifier_picked_unsurely_gives_way_to_the_conversations(knowledge, run_action):
    outcome = run_action(
        ActionAnswerHours(knowledge),
        text="and in 5 years?",
        ranking={"ask_hours": 0.45, "inform": 0.44, "ask_outlook": 0.04},
        slots={"topic": "outlook"},
    )
    assert outcome.replies[0].response == "utter_answer_outlook"
    assert outcome.events == [SlotSet("topic", "outlook")]


def test_a_sure_topic_is_answered_whatever_came_before(knowledge, run_action):
    outcome = run_action(
        ActionAnswerHours(knowledge),
        text="and the hours?",
        ranking={"ask_hours": 0.9, "inform": 0.1},
        slots={"topic": "outlook"},
    )
    assert outcome.replies[0].response == "utter_answer_hours"


def test_a_level_named_right_after_the_pay_is_that_levels_pay(knowledge, run_action):
    outcome = run_action(
        ActionAnswerAdvancement(knowledge),
        text="and the boss level?",
        intent="ask_advancement",
        entities={"job_level": "boss level"},
        slots={"topic": "pay"},
    )
    assert outcome.replies[0].response.startswith("utter_answer_pay")
    assert outcome.events[0] == SlotSet("topic", "pay")


def test_with_reading_in_context_off_the_classifiers_topic_is_answered(knowledge, run_action, monkeypatch):
    # What `make bench-choices` compares against: every message read alone.
    monkeypatch.setenv("CAREERBOT_READ_IN_CONTEXT", "false")
    outcome = run_action(
        ActionAnswerHours(knowledge),
        text="and in 5 years?",
        ranking={"ask_hours": 0.45, "inform": 0.44, "ask_outlook": 0.04},
        slots={"topic": "outlook"},
    )
    assert outcome.replies[0].response == "utter_answer_hours"


def test_the_last_topic_for_a_career_named_alone(knowledge, run_action):
    outcome = run_action(
        ActionAnswerOverview(knowledge),
        text="ok what about mortgage servicing specialists then",
        ranking={"ask_overview": 0.92, "ask_pay": 0.02},
        slots={"topic": "pay", "career": "tellers"},
    )
    assert outcome.replies[0].response == "utter_answer_pay"
    assert "$59,000 to $87,000" in outcome.text


def test_what_a_certificate_costs_is_asked_of_the_certificate(knowledge, run_action):
    outcome = run_action(
        ActionAnswerPay(knowledge),
        text="how much does it cost",
        ranking={"ask_pay": 0.94, "out_of_scope": 0.06},
        slots={"topic": "certification"},
    )
    assert outcome.replies[0].response == "utter_answer_certification"


def test_a_level_alone_right_after_the_pay_is_that_levels_pay(knowledge, run_action):
    outcome = run_action(
        ActionAnswerAdvancement(knowledge),
        text="the bosses?",
        intent="ask_advancement",
        entities={"job_level": "bosses"},
        slots={"topic": "pay"},
    )
    assert SlotSet("topic", "pay") in outcome.events


def test_a_buttons_payload_is_taken_at_its_word(knowledge, run_action):
    outcome = run_action(
        ActionAnswerAdvancement(knowledge),
        text='/ask_advancement{"job_level":"boss"}',
        intent="ask_advancement",
        entities={"job_level": "boss"},
        slots={"topic": "pay"},
    )
    assert outcome.replies[0].response == "utter_answer_advancement"
