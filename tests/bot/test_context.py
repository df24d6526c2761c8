"""bot/context.py: which messages are read in the conversation's context, and what they then mean."""

from __future__ import annotations

import pytest

from bot.context import about_the_thing, compares, compares_last_answer, only_names, points_back, reconsider, resolve


@pytest.mark.parametrize(
    "text",
    [
        "and how long would that take?",
        "so how would I get it?",
        "weekends too?",
        "what about after that",
        "is it formal or on the job?",
        "what else would I need?",
        "on what, exactly?",
    ],
)
def test_messages_that_lean_on_the_previous_answer_point_back(text):
    assert points_back(text)


@pytest.mark.parametrize(
    "text",
    [
        "please set an alarm for six tomorrow morning",
        "what is the capital city of Australia",
        "tell me the latest football results from England",
        "",
    ],
)
def test_self_contained_messages_do_not(text):
    assert not points_back(text)


def ranking(**confidences):
    return [{"name": name, "confidence": value} for name, value in confidences.items()]


def test_the_previous_topic_and_its_neighbours_weigh_more():
    # Out of context the classifier prefers the general path; after the licence, getting it is meant.
    intent = {"name": "nlu_fallback", "confidence": 0.35}
    ranks = ranking(ask_how_to_become=0.3, ask_licensing_requirements=0.2, ask_pay=0.1)
    assert resolve("so how would I get it?", intent, ranks, "licensing") == "ask_licensing_requirements"
    assert resolve("so how would I get it?", intent, ranks, "hours") == "ask_how_to_become"


def test_with_no_support_in_the_ranking_the_previous_topic_continues():
    intent = {"name": "nlu_fallback", "confidence": 0.35}
    assert resolve("and how long would that take?", intent, ranking(greet=0.1), "how_to_become") == "ask_how_to_become"
    assert resolve("and after a few years?", intent, [], "pay") == "ask_pay"


def test_no_previous_topic_self_contained_or_surely_off_topic_keeps_the_classifiers_reading():
    fallback = {"name": "nlu_fallback", "confidence": 0.35}
    assert resolve("and how long would that take?", fallback, [], None) is None
    assert resolve("please set an alarm for six tomorrow morning", fallback, [], "pay") is None
    sure = {"name": "out_of_scope", "confidence": 0.9}
    assert resolve("tell me a joke then", sure, ranking(out_of_scope=0.9), "pay") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("how is this different from being a real estate agent?", True),
        ("is the pay better than a nurse's?", True),
        ("mortgage specialist vs bookkeeper", True),
        ("how much do nurses make?", False),
        ("I'm a nurse, what would I earn here?", False),
    ],
)
def test_comparisons(text, expected):
    assert compares(text) is expected


def test_an_unsure_message_that_reads_as_conversation_is_not_pulled_into_the_topic():
    fallback = {"name": "nlu_fallback", "confidence": 0.35}
    ranks = [fallback, *ranking(thanks=0.5, feedback_helpful=0.45)]
    assert resolve("thanks, very informative", fallback, ranks, "pay") is None


def test_the_gates_out_of_scope_is_kept_unless_a_sure_topic_opens_as_a_correction():
    gated = {"name": "out_of_scope", "confidence": 1.0}
    ranks = [gated, *ranking(ask_hours=0.72, ask_work_environment=0.15)]
    assert resolve("sorry, I meant the hours, not the place", gated, ranks, "work_environment") == "ask_hours"
    assert resolve("is the balloon festival this weekend", gated, ranks, "hours") is None


def test_a_comparison_put_out_of_scope_still_names_its_topic():
    from bot.context import compared_topic

    gated = {"name": "out_of_scope", "confidence": 1.0}
    assert compared_topic([gated, *ranking(ask_pay=0.6, ask_hours=0.2)]) == "ask_pay"
    assert compared_topic([gated, *ranking(greet=0.6, ask_hours=0.1)]) is None


def test_an_unsure_topic_in_a_message_that_points_back_gives_way_to_the_conversations():
    # The classifier's second reading is a follow-up: with the outlook's own share, the outlook goes on.
    ranks = ranking(ask_hours=0.45, inform=0.44, ask_outlook=0.04)
    assert reconsider("and in 5 years?", ranks[0], ranks, "outlook") == "ask_outlook"
    # The same ranking with no topic before it, or a message that stands alone, keeps the pick.
    assert reconsider("and in 5 years?", ranks[0], ranks, None) is None
    assert reconsider("what are the usual working hours at most banks", ranks[0], ranks, "outlook") is None


def test_a_sure_or_unrivalled_topic_is_kept():
    sure = ranking(ask_hours=0.7, inform=0.3)
    assert reconsider("and the hours?", sure[0], sure, "pay") is None
    alone = ranking(ask_hours=0.5, ask_duties=0.2, greet=0.1)
    assert reconsider("and the hours?", alone[0], alone, "pay") is None


@pytest.mark.parametrize(
    "text, expected",
    [
        ("compared with a nurse's shifts?", True),
        ("and how does that compare to pilots?", True),
        ("is that the same for bookkeepers?", True),
        ("is it better than being a cashier?", False),
        ("how is this different from a bookkeeper?", False),
    ],
)
def test_a_comparison_of_the_last_answer_or_of_the_job(text, expected):
    assert compares_last_answer(text) is expected


def test_getting_it_after_the_licence_is_how_to_get_it():
    ranks = ranking(follow_up=0.74, ask_how_to_become=0.21, ask_licensing_requirements=0.01)
    assert resolve("what's involved in getting it?", ranks[0], ranks, "licensing") == "ask_licensing_requirements"
    assert resolve("and is it hard?", ranks[0], ranks, "licensing") == "ask_licensing"


@pytest.mark.parametrize(
    "text, last, expected",
    [
        ("how much does it cost", "certification", "ask_certification"),
        ("is it paid?", "training", "ask_training"),
        ("would the bank pay for it?", "career_development", "ask_career_development"),
        ("is it hard to get?", "licensing", "ask_licensing_requirements"),
        ("and how much do they earn", "education", None),  # earning money, not a degree
        ("how much does a course cost", "certification", None),  # nothing points back
        ("how much does it cost", "duties", None),  # no thing to cost
    ],
)
def test_a_question_about_the_thing_just_discussed(text, last, expected):
    assert about_the_thing(text, last) == expected


def test_a_gated_follow_up_that_opens_back_is_read_in_context():
    gated = {"name": "out_of_scope", "confidence": 1.0}
    ranks = [gated, *ranking(inform=0.66, bot_challenge=0.16, ask_suitability=0.08)]
    assert resolve("and someone outgoing?", gated, ranks, "suitability") == "ask_suitability"
    # Not opening back, or the classifier's own reading no follow-up: it stays out of scope.
    assert resolve("someone outgoing", gated, ranks, "suitability") is None
    chat = [gated, *ranking(bot_challenge=0.66, inform=0.16)]
    assert resolve("and are you a robot?", gated, chat, "suitability") is None


@pytest.mark.parametrize(
    "words, spans, expected",
    [
        ("ok what about mortgage servicing specialists then", [(None, 3, 6)], True),
        ("and for tellers", [(None, 2, 3)], True),
        ("how much do tellers earn", [(None, 3, 4)], False),
        ("and then", [], False),
    ],
)
def test_a_message_that_only_names_a_career(words, spans, expected):
    assert only_names(words.split(), spans) is expected
