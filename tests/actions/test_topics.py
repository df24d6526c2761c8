"""Every topic action answers with the article's facts, its source and 2-3 follow-up buttons."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions import development, education, licensing, overview, work
from actions.followup import TOPIC_ACTIONS
from actions.pay import ActionAnswerPay

ARTICLE = "Source: How to Become a Mortgage Servicing Specialist in the US"

CASES = [
    (overview.ActionAnswerOverview, ["banking industry", "accounting, business or finance"], ARTICLE),
    (
        work.ActionAnswerDuties,
        ["Responding to customers' queries about mortgage loans", "Initiating foreclosure"],
        ARTICLE,
    ),
    (work.ActionAnswerHours, ["from 9am to 5pm, Monday through Friday"], ARTICLE),
    (work.ActionAnswerWorkEnvironment, ["an office", "occasionally travel to meet clients"], ARTICLE),
    (work.ActionAnswerEmployers, ["Commercial banks", "Investment banks", "Other investment firms"], ARTICLE),
    (education.ActionAnswerEducation, ["a bachelor's degree", "Business, Finance, Economics or Accounting"], ARTICLE),
    (
        education.ActionAnswerNoDegree,
        ["customer service or accounting experience", "loan document specialist or accounting clerk"],
        ARTICLE,
    ),
    (
        licensing.ActionAnswerLicensing,
        ["Mortgage Loan Originator License", "vary by state", "Pass a criminal background check"],
        ARTICLE,
    ),
    (
        licensing.ActionAnswerLicensingRequirements,
        ["Find work with a registered company", "Pass a licensing examination"],
        ARTICLE,
    ),
    (overview.ActionAnswerQualities, ["Excellent customer service skills", "attention to detail"], ARTICLE),
    (development.ActionAnswerTraining, ["on-the-job training", "banking practices"], ARTICLE),
    (
        development.ActionAnswerCareerDevelopment,
        ["master's degree in business administration", "Certified Residential Mortgage Specialist"],
        ARTICLE,
    ),
    (
        development.ActionAnswerCertification,
        [
            "Certified Residential Mortgage Specialist",
            "Association of Mortgage Professionals (AMP)",
            "AMP also offers membership",
        ],
        ARTICLE,
    ),
    (
        development.ActionAnswerAdvancement,
        ["mortgage loan manager or a customer relationship manager", "mortgage consulting business"],
        ARTICLE,
    ),
    (
        development.ActionAnswerOutlook,
        [
            "From 2012 through 2022",
            "Bureau of Labor Statistics",
            "8 percent job growth for all loan officers",
            "middle class",
        ],
        "Sources: Bureau of Labor Statistics, as cited in “How to Become",
    ),
    (overview.ActionAnswerSuitability, ["a talent with numbers and an interest in the banking sector"], ARTICLE),
    (
        overview.ActionAnswerHowToBecome,
        ["bachelor's degree", "Mortgage Loan Originator License", "on-the-job training"],
        ARTICLE,
    ),
]


@pytest.mark.parametrize("action_class, facts, source", CASES, ids=[c[0].topic for c in CASES])
def test_topic_answer(knowledge, run_action, action_class, facts, source):
    outcome = run_action(action_class(knowledge), text="question", intent=f"ask_{action_class.topic}")
    assert outcome.events == [SlotSet("topic", action_class.topic)]
    assert len(outcome.replies) == 1
    reply = outcome.replies[0]
    for fact in facts:
        assert fact in reply.text
    assert source in reply.text
    assert 2 <= len(reply.buttons) <= 3
    assert all(len(b["title"]) <= 20 and b["payload"].startswith("/") for b in reply.buttons)


def test_every_topic_action_is_tested():
    assert {c[0] for c in CASES} | {ActionAnswerPay} == set(TOPIC_ACTIONS)


def test_licensing_for_a_state_invents_no_state_rule(knowledge, run_action):
    outcome = run_action(
        licensing.ActionAnswerLicensing(knowledge),
        text="do I need a licence in Ohio",
        intent="ask_licensing",
        entities={"us_state": "Ohio"},
    )
    reply = outcome.replies[0]
    assert reply.response == "utter_answer_licensing_state"
    assert "vary by state" in reply.text and "no rules specific to Ohio" in reply.text
    assert "Pass a criminal background check" in reply.text


def test_requirements_remember_the_state_from_earlier(knowledge, run_action):
    outcome = run_action(
        licensing.ActionAnswerLicensingRequirements(knowledge),
        text="how do I get it",
        intent="ask_licensing_requirements",
        slots={"us_state": "TX"},
    )
    assert "no rules specific to Texas" in outcome.text


@pytest.mark.parametrize(
    "field, response, shown",
    [
        ("economics", "utter_answer_education_field_listed", "Yes: Economics is one of the fields"),
        ("biology", "utter_answer_education_field_not_listed", "does not mention Biology"),
    ],
)
def test_education_with_a_field(knowledge, run_action, field, response, shown):
    outcome = run_action(
        education.ActionAnswerEducation(knowledge),
        text=f"is {field} ok",
        intent="ask_education",
        entities={"degree_field": field},
    )
    assert outcome.replies[0].response == response
    assert shown in outcome.text


def test_fixture_career_uses_its_own_facts_everywhere(fixture_knowledge, run_action):
    for action_class in TOPIC_ACTIONS:
        outcome = run_action(action_class(fixture_knowledge), text="q", intent=f"ask_{action_class.topic}")
        assert "Test Fixture Handbook" in outcome.text, action_class.topic
        assert "mortgage" not in outcome.text.lower(), action_class.topic


def test_a_question_about_another_job_is_refused_naming_it_not_answered(knowledge, run_action):
    from actions.work import ActionAnswerHours

    outcome = run_action(
        ActionAnswerHours(knowledge),
        text="how many hours do lawyers work",
        intent="ask_hours",
        entities={"other_career": "lawyers"},
    )
    assert outcome.events == []
    assert [r.response for r in outcome.replies] == ["utter_other_career"]
    assert "not about lawyers" in outcome.text
    assert "9am" not in outcome.text and "Source" not in outcome.text
