"""Questions about the answers (actions/meta.py), follow-ups read in context and comparisons with other jobs."""

from __future__ import annotations

from rasa_sdk.events import SlotSet

from actions.conversation import ActionFallback
from actions.followup import ActionAnswerFollowup
from actions.meta import ActionAnswerInForm, ActionAnswerSource
from actions.pay import ActionAnswerPay

ARTICLE = "http://www.careeraddict.com/become-a-mortgage-servicing-specialist-in-the-us"


def entity(text, value, label):
    start = text.index(value)
    return {"entity": label, "value": value, "start": start, "end": start + len(value)}


def test_the_source_of_the_last_answer(knowledge, run_action, career):
    outcome = run_action(
        ActionAnswerSource(knowledge),
        text="where do these figures come from?",
        intent="ask_source",
        slots={"topic": "pay"},
    )
    assert [r.response for r in outcome.replies] == ["utter_answer_source_at"]
    source = career.source_of("pay")
    assert source.name in outcome.text and ARTICLE in outcome.text and "the pay" in outcome.text
    assert "$" not in outcome.text  # the source, not the facts again


def test_the_sources_of_a_career_before_any_answer(knowledge, run_action):
    outcome = run_action(
        ActionAnswerSource(knowledge),
        text="where does your information come from?",
        intent="ask_source",
        slots={"career": "loan_officers"},
    )
    assert [r.response for r in outcome.replies] == ["utter_answer_sources_at"]
    assert "Bureau of Labor Statistics" in outcome.text and "https://www.bls.gov/ooh/" in outcome.text


def test_a_topic_the_career_does_not_cover_is_not_given_a_source(knowledge, run_action):
    # Tellers' sources say nothing on hours: the career's sources, never a source for hours.
    outcome = run_action(
        ActionAnswerSource(knowledge),
        text="what's your source?",
        intent="ask_source",
        slots={"topic": "hours", "career": "tellers"},
    )
    assert [r.response for r in outcome.replies] == ["utter_answer_sources_at"]


def test_briefly_gives_the_last_topic_again(knowledge, run_action):
    outcome = run_action(
        ActionAnswerInForm(knowledge), text="briefly please", intent="answer_form", slots={"topic": "hours"}
    )
    assert SlotSet("topic", "hours") in outcome.events
    assert outcome.replies[0].response == "utter_answer_hours"


def test_a_form_request_before_any_answer_gets_the_overview(knowledge, run_action):
    outcome = run_action(ActionAnswerInForm(knowledge), text="in bullet points", intent="answer_form")
    assert SlotSet("topic", "overview") in outcome.events


def test_a_fallback_that_points_back_answers_the_previous_topic(knowledge, run_action):
    outcome = run_action(
        ActionFallback(knowledge),
        text="and how long would that take?",
        intent="nlu_fallback",
        slots={"topic": "how_to_become"},
    )
    assert SlotSet("topic", "how_to_become") in outcome.events


def test_a_self_contained_off_topic_message_still_gets_the_fallback(knowledge, run_action):
    outcome = run_action(
        ActionFallback(knowledge),
        text="please set an alarm for six tomorrow morning",
        intent="out_of_scope",
        slots={"topic": "pay"},
    )
    assert [r.response for r in outcome.replies] == ["utter_fallback"]
    assert outcome.events == []


def test_a_bare_follow_up_continues_the_topic(knowledge, run_action):
    outcome = run_action(
        ActionAnswerFollowup(knowledge), text="and weekends?", intent="inform", slots={"topic": "hours"}
    )
    assert SlotSet("topic", "hours") in outcome.events


def test_a_comparison_with_another_job_answers_this_careers_side_only(knowledge, run_action):
    text = "what do they earn compared to a real estate agent?"
    outcome = run_action(
        ActionAnswerPay(knowledge),
        text=text,
        intent="ask_pay",
        entities=[entity(text, "real estate agent", "other_career")],
    )
    responses = [r.response for r in outcome.replies]
    assert responses[0] == "utter_answer_pay" and "utter_compare_other_job" in responses
    assert "no information about real estate agents" in outcome.text
    assert "utter_other_career" not in responses


def test_how_is_this_different_from_another_job_gets_what_this_job_is(knowledge, run_action):
    text = "how is this different from a bookkeeper?"
    outcome = run_action(
        ActionFallback(knowledge),
        text=text,
        intent="out_of_scope",
        entities=[entity(text, "bookkeeper", "other_career")],
    )
    assert SlotSet("topic", "overview") in outcome.events
    assert "no information about bookkeepers" in outcome.text


def test_a_comparison_of_the_answer_just_given_compares_that_topic(knowledge, run_action):
    text = "compared with a nurse's shifts?"
    outcome = run_action(
        ActionFallback(knowledge),
        text=text,
        intent="out_of_scope",
        entities=[entity(text, "nurse", "other_career")],
        slots={"topic": "hours"},
    )
    assert [r.response for r in outcome.replies][:1] == ["utter_answer_hours"]
    assert "no information about nurses" in outcome.text


def test_a_comparison_of_the_job_after_some_topic_is_still_what_the_job_is(knowledge, run_action):
    text = "how is this different from a bookkeeper?"
    outcome = run_action(
        ActionFallback(knowledge),
        text=text,
        intent="out_of_scope",
        entities=[entity(text, "bookkeeper", "other_career")],
        slots={"topic": "hours"},
    )
    assert SlotSet("topic", "overview") in outcome.events


def test_a_question_about_another_job_alone_is_still_refused(knowledge, run_action):
    text = "how much do nurses make?"
    outcome = run_action(
        ActionAnswerPay(knowledge), text=text, intent="ask_pay", entities=[entity(text, "nurses", "other_career")]
    )
    assert [r.response for r in outcome.replies] == ["utter_other_career"]


def test_a_comparison_the_classifier_put_out_of_scope_answers_the_topic_it_ranks(
    knowledge, run_action, tracker, domain_dict, render
):
    import asyncio

    from rasa_sdk.executor import CollectingDispatcher

    text = "do they earn more than a real estate agent?"
    latest = tracker(text=text, intent="out_of_scope", entities=[entity(text, "real estate agent", "other_career")])
    latest.latest_message["intent_ranking"] = [
        {"name": "out_of_scope", "confidence": 1.0},
        {"name": "ask_pay", "confidence": 0.7},
    ]
    dispatcher = CollectingDispatcher()
    events = asyncio.run(ActionFallback(knowledge).run(dispatcher, latest, domain_dict))
    replies = [render(m) for m in dispatcher.messages]
    assert SlotSet("topic", "pay") in events
    assert "$24,000 to $42,000" in "\n".join(r.text for r in replies)
    assert "no information about real estate agents" in "\n".join(r.text for r in replies)


def test_a_comparison_with_a_career_of_the_site_put_out_of_scope_answers_for_that_career(knowledge, run_action):
    outcome = run_action(
        ActionFallback(knowledge),
        text="hows that stack up against tellers",
        intent="out_of_scope",
        slots={"topic": "pay"},
    )
    assert "$32,620" in outcome.text and "$59,000" not in outcome.text
