"""One deployment, several careers: which career a message is about, and honest gaps.

The real knowledge directory serves the article's career (the default here),
loan officers and tellers, whose sources cover different topics.
"""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.base import choose_career
from actions.licensing import ActionAnswerLicensing
from actions.overview import ActionAnswerHowToBecome
from actions.pay import ActionAnswerPay
from actions.work import ActionAnswerDuties, ActionAnswerHours
from bot import KNOWLEDGE_DIR
from bot.knowledge import KnowledgeBase

TELLERS = {"context": {"career": "tellers"}}
OFFICERS = {"context": {"career": "loan_officers"}}


def page(career_id):
    return {"context": {"career": career_id}}


def user(text, metadata=None):
    return {"event": "user", "text": text, "parse_data": {"text": text}, "metadata": metadata or {}}


@pytest.fixture(scope="module")
def site():
    """The real careers with no default: a site that lets the page decide."""
    return KnowledgeBase.load(KNOWLEDGE_DIR)


# Which career -----------------------------------------------------------------


def test_a_named_career_wins_over_page_slot_and_default(knowledge, tracker):
    t = tracker(text="how much do bank tellers make?", metadata=OFFICERS, slots={"career": "loan_officers"})
    assert choose_career(t, knowledge).id == "tellers"


def test_a_button_names_the_career_by_id(knowledge, tracker):
    t = tracker(text="/ask_pay", entities=[{"entity": "career", "value": "loan_officers"}])
    assert choose_career(t, knowledge).id == "loan_officers"
    unknown = tracker(text="/ask_pay", entities=[{"entity": "career", "value": "astronauts"}])
    assert choose_career(unknown, knowledge).id == "mortgage_servicing_specialist"


def test_a_new_page_wins_over_the_conversations_career(knowledge, tracker):
    t = tracker(
        text="how much do they make?", metadata=OFFICERS, slots={"career": "tellers"}, events=[user("hi", TELLERS)]
    )
    assert choose_career(t, knowledge).id == "loan_officers"


def test_on_the_same_page_the_conversations_career_stays(knowledge, tracker):
    # The visitor on the tellers page asked about loan officers; "and the hours?" stays on loan officers.
    t = tracker(
        text="and their hours?",
        metadata=TELLERS,
        slots={"career": "loan_officers"},
        events=[user("what do loan officers do?", TELLERS)],
    )
    assert choose_career(t, knowledge).id == "loan_officers"


def test_the_page_then_the_default(knowledge, tracker):
    assert choose_career(tracker(text="pay?", metadata=TELLERS), knowledge).id == "tellers"
    assert choose_career(tracker(text="pay?"), knowledge).id == "mortgage_servicing_specialist"
    odd = tracker(text="pay?", metadata={"context": {"career": ["tellers"]}})  # not an id: ignored
    assert choose_career(odd, knowledge).id == "mortgage_servicing_specialist"
    unknown_page = tracker(text="pay?", metadata=page("astronauts"))
    assert choose_career(unknown_page, knowledge).id == "mortgage_servicing_specialist"


def test_the_visitors_own_job_is_not_the_subject(knowledge, tracker):
    assert choose_career(tracker(text="I'm a bank teller, what's the pay?"), knowledge).id == (
        "mortgage_servicing_specialist"
    )
    t = tracker(text="could a bank teller become a loan officer? what's the pay")
    assert choose_career(t, knowledge).id == "loan_officers"


def test_with_no_default_and_nothing_said_the_bot_asks(site, run_action):
    outcome = run_action(ActionAnswerPay(site), text="how much do they make?", intent="ask_pay")
    assert outcome.events == []
    assert outcome.replies[0].response == "utter_ask_career"
    buttons = {b["title"]: b["payload"] for b in outcome.replies[0].buttons}
    assert buttons == {
        "Loan officers": '/ask_pay{"career":"loan_officers"}',
        "Mortgage servicing specialists": '/ask_pay{"career":"mortgage_servicing_specialist"}',
        "Tellers": '/ask_pay{"career":"tellers"}',
    }


def test_the_answer_remembers_a_career_the_conversation_moved_to(knowledge, run_action):
    outcome = run_action(ActionAnswerPay(knowledge), text="how much do they make?", metadata=OFFICERS)
    assert SlotSet("career", "loan_officers") in outcome.events
    stays = run_action(ActionAnswerPay(knowledge), text="how much do they make?")
    assert stays.events == [SlotSet("topic", "pay")]  # the default needs no slot


# Pay as each source gives it ---------------------------------------------------


def test_loan_officers_pay_is_the_median_with_its_source_and_date(knowledge, run_action):
    outcome = run_action(ActionAnswerPay(knowledge), text="how much do they make?", metadata=OFFICERS)
    assert outcome.replies[0].response == "utter_answer_pay_figures"
    assert "$63,380 a year ($30.47 an hour)" in outcome.text
    assert "Occupational Outlook Handbook: Loan Officers (May 2021)" in outcome.text
    assert "Payscale" not in outcome.text and "$24,000" not in outcome.text


def test_tellers_pay_is_the_percentiles(knowledge, run_action):
    text = run_action(ActionAnswerPay(knowledge), text="how much do they make?", metadata=TELLERS).text
    for figure in (
        "$24,660",
        "$28,080",
        "$32,620 a year ($15.68 an hour)",
        "$37,780",
        "$41,220",
        "$32,960 a year ($15.85 an hour)",
    ):
        assert figure in text
    assert "43-3071 Tellers (May 2020)" in text


def test_a_level_the_source_does_not_give_is_said_so(knowledge, run_action):
    outcome = run_action(
        ActionAnswerPay(knowledge),
        text="what do senior tellers make",
        intent="ask_pay_level",
        entities={"job_level": "senior"},
        metadata=TELLERS,
    )
    assert outcome.replies[0].response == "utter_answer_pay_no_levels"
    assert "gives no pay by job level" in outcome.text and "$32,620" in outcome.text
    assert "$42,000" not in outcome.text  # never the article's experienced range


# Honest gaps -------------------------------------------------------------------


def test_tellers_licensing_is_not_covered_and_never_the_articles_licence(knowledge, run_action):
    outcome = run_action(
        ActionAnswerLicensing(knowledge), text="do I need a license?", intent="ask_licensing", metadata=TELLERS
    )
    assert outcome.replies[0].response == "utter_not_covered"
    assert "My source on tellers doesn't cover the licence." in outcome.text
    assert "Mortgage Loan Originator" not in outcome.text
    offered = [b["payload"] for b in outcome.replies[0].buttons]
    assert offered == ["/ask_overview", "/ask_duties", "/ask_employers", "/ask_pay"]
    # The topic stays, so that "and for loan officers?" asks the same of another career.
    assert outcome.events == [SlotSet("topic", "licensing"), SlotSet("career", "tellers")]


def test_a_topic_given_as_statements_is_quoted_with_its_source(knowledge, run_action):
    outcome = run_action(
        ActionAnswerLicensing(knowledge), text="do I need a license?", intent="ask_licensing", metadata=OFFICERS
    )
    assert outcome.replies[0].response == "utter_answer_statements"
    assert "Mortgage loan officers must be licensed." in outcome.text
    assert "Occupational Outlook Handbook: Loan Officers" in outcome.text
    assert "Mortgage Loan Originator" not in outcome.text
    hours = run_action(ActionAnswerHours(knowledge), text="what are the hours?", intent="ask_hours", metadata=OFFICERS)
    assert "Most loan officers work full time." in hours.text and "9am" not in hours.text


def test_a_topic_made_of_several_sections_answers_what_the_source_covers(knowledge, run_action):
    officers = run_action(
        ActionAnswerHowToBecome(knowledge), text="how do I become one?", intent="ask_how_to_become", metadata=OFFICERS
    )
    assert "bachelor's degree" in officers.text and "must be licensed" in officers.text
    assert "moderate-term on-the-job training" in officers.text
    tellers = run_action(
        ActionAnswerHowToBecome(knowledge), text="how do I become one?", intent="ask_how_to_become", metadata=TELLERS
    )
    assert tellers.replies[0].response == "utter_not_covered"
    assert "Business, Finance" not in tellers.text


def test_tellers_duties_cite_onet(knowledge, run_action):
    text = run_action(
        ActionAnswerDuties(knowledge), text="what do they do?", intent="ask_duties", metadata=TELLERS
    ).text
    assert "Balancing the currency, coins and checks" in text and "O*NET 43-3071.00" in text
