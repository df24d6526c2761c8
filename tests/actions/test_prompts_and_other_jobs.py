"""Other jobs, job levels, clarifying questions and typed answers to the bot's own prompts.

Actions run with rasa-sdk's real Tracker and CollectingDispatcher, and their
replies are rendered by Rasa's own NLG from the project's domain.
"""

from __future__ import annotations

import asyncio

import pytest
from rasa_sdk import Tracker
from rasa_sdk.events import FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.conversation import ActionAnswerYesNo, ActionFallback
from actions.followup import ActionAnswerFollowup
from actions.handoff import ValidateHandoffForm
from actions.overview import ActionAnswerSuitability
from actions.pay import ActionAnswerPay
from actions.work import ActionAnswerHours

# The site's careers, as the refusal names them (every file in bot/content/knowledge/).
SITE_CAREERS = "loan officers, mortgage servicing specialists and tellers"


def entity(text, value, label):
    start = text.index(value)
    return {"entity": label, "value": value, "start": start, "end": start + len(value)}


# --- Other jobs --------------------------------------------------------------


@pytest.mark.parametrize(
    "action_class, intent, text, job, named",
    [
        (ActionAnswerPay, "ask_pay", "how much do nurses make?", "nurses", "nurses"),
        (ActionAnswerPay, "ask_pay_level", "what does a bank manager earn", "bank manager", "bank managers"),
        (ActionAnswerHours, "ask_hours", "do vets work weekends", "vets", "vets"),
        (ActionAnswerSuitability, "ask_suitability", "would I like being a ceo", "ceo", "CEOs"),
    ],
)
def test_a_topic_question_about_another_job_names_that_job(
    knowledge, run_action, action_class, intent, text, job, named
):
    outcome = run_action(
        action_class(knowledge), text=text, intent=intent, entities=[entity(text, job, "other_career")]
    )
    assert [r.response for r in outcome.replies] == ["utter_other_career"]
    assert f"I only have information about {SITE_CAREERS}, not about {named}." in outcome.text
    assert "Source" not in outcome.text and "$" not in outcome.text
    assert [b["payload"] for b in outcome.replies[0].buttons][:2] == ["/ask_duties", "/ask_pay"]
    assert outcome.events == []  # no topic answered


def test_the_fallback_and_a_follow_up_name_the_other_job_too(knowledge, run_action):
    for action, intent in ((ActionFallback(knowledge), "out_of_scope"), (ActionAnswerFollowup(knowledge), "inform")):
        text = "what about plumbers?"
        outcome = run_action(
            action,
            text=text,
            intent=intent,
            entities=[entity(text, "plumbers", "other_career")],
            slots={"topic": "pay"},
        )
        assert "not about plumbers" in outcome.text, action.name()


@pytest.mark.parametrize(
    "text, job",
    [
        ("I'm a nurse, how much would I earn?", "nurse"),
        ("I work as a teacher, what is the pay like", "teacher"),
        ("could a bank teller become a mortgage servicing specialist? what's the pay", "bank teller"),
        ("can a plumber do this job? how much is the pay", "plumber"),
    ],
)
def test_a_job_that_is_only_the_background_does_not_stop_the_answer(knowledge, run_action, text, job):
    outcome = run_action(
        ActionAnswerPay(knowledge), text=text, intent="ask_pay", entities=[entity(text, job, "other_career")]
    )
    assert "$24,000 to $42,000" in outcome.text
    assert SlotSet("topic", "pay") in outcome.events


# --- Job levels --------------------------------------------------------------


@pytest.mark.parametrize(
    "text, levels, expected",
    [
        ("what do senior managers earn", ["senior", "managers"], "Loan managers earn"),
        ("pay for managers who are senior", ["managers", "senior"], "Experienced mortgage specialists earn"),
        ("junior loan managers pay", ["junior", "loan managers"], "Loan managers earn"),
        ("what do senior specialists earn", ["senior"], "Experienced mortgage specialists earn"),
        ("entry-level pay", ["entry-level"], "Starting mortgage loan specialists earn"),
    ],
)
def test_a_level_is_resolved_from_every_level_named_longest_first(knowledge, run_action, text, levels, expected):
    outcome = run_action(
        ActionAnswerPay(knowledge),
        text=text,
        intent="ask_pay_level",
        entities=[entity(text, level, "job_level") for level in levels],
    )
    assert outcome.replies[0].text.startswith(expected)


# --- Clarifying questions ------------------------------------------------------


def ranking(*pairs):
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


def run_with_ranking(domain_dict, render, action, text, ranks, entities=()):
    latest = {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": ranks[0][1]},
        "intent_ranking": ranking(*ranks),
        "entities": list(entities),
    }
    tracker = Tracker(
        "test-user",
        {},
        latest,
        [{"event": "user", "text": text, "parse_data": latest}],
        False,
        None,
        {},
        "action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(action.run(dispatcher, tracker, domain_dict))
    return events, [render(m) for m in dispatcher.messages]


def test_two_close_topics_get_a_clarifying_question_with_a_button_each(knowledge, domain_dict, render):
    _, replies = run_with_ranking(
        domain_dict,
        render,
        ActionFallback(knowledge),
        "what would I make starting out",
        [("nlu_fallback", 0.5), ("ask_pay", 0.41), ("ask_suitability", 0.36)],
    )
    assert [r.response for r in replies] == ["utter_clarify"]
    assert replies[0].text == "Sorry, I'm not sure which you mean: the pay, or whether it suits you?"
    assert replies[0].buttons == [
        {"title": "The pay", "payload": "/ask_pay"},
        {"title": "Whether it suits you", "payload": "/ask_suitability"},
    ]


def test_a_clarifying_button_keeps_what_the_message_named(knowledge, domain_dict, render):
    text = "senior in Ohio?"
    _, replies = run_with_ranking(
        domain_dict,
        render,
        ActionFallback(knowledge),
        text,
        [("nlu_fallback", 0.5), ("ask_pay_level", 0.4), ("ask_licensing", 0.35)],
        [entity(text, "senior", "job_level"), entity(text, "Ohio", "us_state")],
    )
    assert [b["payload"] for b in replies[0].buttons] == [
        '/ask_pay_level{"job_level": "senior", "us_state": "Ohio"}',
        '/ask_licensing{"job_level": "senior", "us_state": "Ohio"}',
    ]


def test_every_topic_has_a_label_short_enough_for_a_button(domain_dict):
    from actions.conversation import topic_label
    from bot.clarify import is_topic

    topics = [i for i in domain_dict["intents"] if is_topic(i if isinstance(i, str) else next(iter(i)))]
    assert len(topics) >= 19
    for intent in topics:
        assert 0 < len(topic_label(domain_dict, intent)) <= 20, intent


@pytest.mark.parametrize(
    "ranks",
    [
        [("nlu_fallback", 0.5), ("ask_pay", 0.4), ("greet", 0.35)],  # not two topics
        [("nlu_fallback", 0.5), ("ask_pay", 0.25), ("ask_hours", 0.1)],  # the second is noise
        [("nlu_fallback", 0.5), ("out_of_scope", 0.2), ("ask_pay", 0.19)],
    ],
)
def test_otherwise_the_plain_fallback(knowledge, domain_dict, render, ranks):
    _, replies = run_with_ranking(domain_dict, render, ActionFallback(knowledge), "hmm", ranks)
    assert [r.response for r in replies] == ["utter_fallback"]


# --- Typed yes and no after the bot's own questions ------------------------------


def after_prompt(prompt, intent, text, topic="hours"):
    events = [
        {"event": "user", "text": "what are the hours?", "parse_data": {"intent": {"name": "ask_hours"}}},
        {"event": "action", "name": "action_answer_hours"},
        {
            "event": "bot",
            "text": "...",
            "metadata": {"utter_action": "utter_answer_hours", "answer_id": "a1", "topic": "hours"},
        },
    ]
    if prompt:
        # Only "Was this helpful?" names an answer (for its buttons).
        meta = {"utter_action": prompt, **({"answer_id": "a1"} if prompt == "utter_ask_feedback" else {})}
        events.append({"event": "bot", "text": "?", "metadata": meta})
    latest = {"text": text, "intent": {"name": intent, "confidence": 0.9}, "entities": []}
    events += [{"event": "action", "name": "action_listen"}, {"event": "user", "text": text, "parse_data": latest}]
    return Tracker("test-user", {"topic": topic}, latest, events, False, None, {}, "action_listen")


def run_yes_no(knowledge, domain_dict, render, tracker):
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionAnswerYesNo(knowledge).run(dispatcher, tracker, domain_dict))
    return events, [render(m) for m in dispatcher.messages]


@pytest.mark.parametrize(
    "intent, text, helpful, response",
    [
        ("affirm", "yes", True, "utter_feedback_thanks"),
        ("affirm", "sure", True, "utter_feedback_thanks"),
        ("deny", "no", False, "utter_feedback_sorry"),
        ("deny", "not really", False, "utter_feedback_sorry"),
    ],
)
def test_a_typed_answer_to_was_this_helpful_is_the_feedback(
    knowledge, domain_dict, render, intent, text, helpful, response
):
    events, replies = run_yes_no(knowledge, domain_dict, render, after_prompt("utter_ask_feedback", intent, text))
    assert [r.response for r in replies] == [response]
    assert events == [SlotSet("feedback", {"answer_id": "a1", "topic": "hours", "helpful": helpful})]


def test_a_typed_yes_to_ask_a_person_starts_the_handoff(knowledge, domain_dict, render):
    events, replies = run_yes_no(
        knowledge, domain_dict, render, after_prompt("utter_fallback_offer_handoff", "affirm", "yes please")
    )
    assert events == [FollowupAction("action_request_human")] and replies == []


def test_a_typed_no_to_ask_a_person_closes_politely(knowledge, domain_dict, render):
    events, replies = run_yes_no(
        knowledge, domain_dict, render, after_prompt("utter_fallback_offer_handoff", "deny", "no thanks")
    )
    assert events == [] and [r.response for r in replies] == ["utter_ok"]


def test_a_yes_after_a_plain_answer_invites_the_next_question(knowledge, domain_dict, render):
    events, replies = run_yes_no(knowledge, domain_dict, render, after_prompt(None, "affirm", "ok"))
    assert events == [] and [r.response for r in replies] == ["utter_anything_else"]


def test_a_no_after_a_plain_answer_rates_that_answer_not_helpful(knowledge, domain_dict, render):
    events, replies = run_yes_no(knowledge, domain_dict, render, after_prompt(None, "deny", "not really"))
    assert [r.response for r in replies] == ["utter_feedback_sorry"]
    assert events == [SlotSet("feedback", {"answer_id": "a1", "topic": "hours", "helpful": False})]


def test_a_no_after_something_other_than_an_answer_closes_politely(knowledge, domain_dict, render):
    latest = {"text": "no", "intent": {"name": "deny", "confidence": 0.9}, "entities": []}
    events = [
        {"event": "user", "text": "hi", "parse_data": {"intent": {"name": "greet"}}},
        {"event": "bot", "text": "Hi!", "metadata": {"utter_action": "utter_greet"}},
        {"event": "action", "name": "action_listen"},
        {"event": "user", "text": "no", "parse_data": latest},
    ]
    tracker = Tracker("test-user", {}, latest, events, False, None, {}, "action_listen")
    events, replies = run_yes_no(knowledge, domain_dict, render, tracker)
    assert events == [] and [r.response for r in replies] == ["utter_ok"]


# --- The handoff form ---------------------------------------------------------


def test_a_topic_question_instead_of_an_email_is_answered(knowledge, tracker, domain_dict, render):
    dispatcher = CollectingDispatcher()
    result = ValidateHandoffForm().validate_handoff_email(
        "what are the hours?", dispatcher, tracker(text="what are the hours?", intent="ask_hours"), domain_dict
    )
    assert result == {"handoff_email": None, "topic": "hours"}
    replies = [render(m) for m in dispatcher.messages]
    assert [r.response for r in replies] == ["utter_answer_hours"]  # no "Was this helpful?" inside the form
    assert "9am to 5pm" in replies[0].text


def test_a_non_topic_instead_of_an_email_is_still_an_invalid_address(tracker, domain_dict):
    dispatcher = CollectingDispatcher()
    result = ValidateHandoffForm().validate_handoff_email(
        "my email is nope", dispatcher, tracker(text="my email is nope", intent="inform"), domain_dict
    )
    assert result == {"handoff_email": None}
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_email"]


def test_the_question_slot_takes_a_topic_sounding_question_as_it_is(tracker, domain_dict):
    dispatcher = CollectingDispatcher()
    result = ValidateHandoffForm().validate_handoff_question(
        "what are the hours?", dispatcher, tracker(text="what are the hours?", intent="ask_hours"), domain_dict
    )
    assert result == {"handoff_question": "what are the hours?"} and dispatcher.messages == []
