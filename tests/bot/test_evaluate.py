"""bot.devtools.evaluate's counting, fed with parse results in Rasa's shape, and its similarity rule."""

from __future__ import annotations

from bot.devtools.evaluate import (
    FALLBACK_INTENT,
    Report,
    fallback_grid,
    near_duplicates,
    normalise,
    outcome,
    with_fallback,
)


def parsed(intent, *ranking):
    return {
        "intent": {"name": intent, "confidence": ranking[0][1] if ranking else 0.9},
        "intent_ranking": [{"name": n, "confidence": c} for n, c in ranking],
    }


def fallback_between(first, second, c1=0.45, c2=0.40):
    return parsed(FALLBACK_INTENT, (FALLBACK_INTENT, 0.7), (first, c1), (second, c2))


def test_counting():
    report = Report(
        "set",
        [
            outcome("how much do they make", "ask_pay", parsed("ask_pay", ("ask_pay", 0.9))),
            outcome("pay or suits me", "ask_pay", fallback_between("ask_pay", "ask_suitability")),
            outcome(
                "gibberish",
                "ask_hours",
                parsed(FALLBACK_INTENT, (FALLBACK_INTENT, 0.7), ("ask_hours", 0.2), ("greet", 0.1)),
            ),
            outcome("what do nurses earn", "ask_pay", parsed("ask_pay_level", ("ask_pay_level", 0.8))),
            outcome("book a flight", "out_of_scope", parsed("out_of_scope", ("out_of_scope", 0.9))),
            outcome(
                "set an alarm",
                "out_of_scope",
                parsed(FALLBACK_INTENT, (FALLBACK_INTENT, 0.7), ("greet", 0.2), ("ask_hours", 0.1)),
            ),
            outcome("my card is lost", "out_of_scope", parsed("ask_hours", ("ask_hours", 0.6))),
            outcome("and in Ohio?", "out_of_scope", parsed("inform", ("inform", 0.6))),
        ],
    )
    assert [o.right for o in report.outcomes] == [True, False, False, False, True, True, False, False]
    assert report.accuracy == 3 / 8
    assert report.in_scope_accuracy == 1 / 4
    assert report.leak_rate == 2 / 4
    assert report.clarification_rate == 1 / 4  # of the in-scope lines
    assert report.fallback_rate == 1 / 4
    assert dict(report.confusions()) == {
        ("ask_pay", "clarify"): 1,
        ("ask_hours", FALLBACK_INTENT): 1,
        ("ask_pay", "ask_pay_level"): 1,
        ("out_of_scope", "ask_hours"): 1,
        ("out_of_scope", "inform"): 1,
    }
    text = report.summary()
    assert "intent accuracy: 37.5% (3/8)" in text
    assert "clarification rate of in-scope lines: 25.0% (1/4)" in text
    assert "leak rate of its out_of_scope lines: 50.0% (2/4)" in text


def test_traffic_counts_only_career_answers_as_errors():
    report = Report(
        "traffic",
        [
            outcome("thanks olly", "out_of_scope", parsed("thanks", ("thanks", 0.9))),
            outcome("play jazz", "out_of_scope", parsed("out_of_scope", ("out_of_scope", 0.9))),
            outcome("do i need a pin", "out_of_scope", parsed("ask_licensing", ("ask_licensing", 0.5))),
            outcome("what's on today", "out_of_scope", fallback_between("ask_hours", "ask_duties")),
            outcome("without it", "out_of_scope", parsed("ask_without", ("ask_without", 0.9))),
        ],
        traffic=True,
    )
    assert report.leak_rate == 2 / 5
    assert report.clarification_rate == 1 / 5
    assert [o.text for o in report.errors] == ["do i need a pin", "without it"]
    assert "leak rate (a career answer): 40.0% (2/5)" in report.summary()


def test_empty_report():
    assert Report("empty").accuracy == 0.0 and Report("empty").leak_rate == 0.0


def test_normalise_removes_entity_markup():
    assert normalise("What about  [Ohio](us_state)?") == "what about ohio?"
    assert normalise('pay for [seniors]{"entity": "job_level"}') == "pay for seniors"


def test_near_duplicates_follow_difflib():
    training = ["what's the work environment like", "how much do they earn", "a"]
    found = near_duplicates(["What is the work environment like", "do i need a licence"], training)
    assert [(line, other) for line, other, _ in found] == [
        ("What is the work environment like", "what's the work environment like")
    ]
    assert found[0][2] >= 0.85
    assert near_duplicates(["what is it"], ["what is it like to work there every day"]) == []


def test_other_fallback_thresholds_follow_rasas_rule():
    confident = outcome("pay", "ask_pay", parsed("ask_pay", ("ask_pay", 0.6), ("ask_pay_level", 0.3)))
    assert with_fallback(confident, 0.3, 0.1).predicted == "ask_pay"
    assert with_fallback(confident, 0.7, 0.1).predicted == FALLBACK_INTENT  # below the threshold
    assert with_fallback(confident, 0.7, 0.1).clarified
    assert with_fallback(confident, 0.3, 0.35).clarified  # the two best are within the ambiguity
    unsure = outcome("x", "ask_pay", fallback_between("ask_pay", "ask_hours", 0.31, 0.30))
    assert unsure.ranking[0]["name"] == "ask_pay"
    assert with_fallback(unsure, 0.3, 0.0).predicted == "ask_pay"
    assert with_fallback(unsure, 0.3, 0.05).clarified


def test_fallback_grid_prints_every_pair():
    dev = Report("dev", [outcome("pay", "ask_pay", parsed("ask_pay", ("ask_pay", 0.6), ("ask_hours", 0.3)))])
    traffic = Report(
        "traffic",
        [outcome("jazz", "out_of_scope", parsed("ask_hours", ("ask_hours", 0.42), ("out_of_scope", 0.4)))],
        traffic=True,
    )
    grid = fallback_grid(dev, traffic)
    assert "| 0.3 | 0.0 | 100.0% | 0.0% | 0.0% | 100.0% |" in grid
    assert "| 0.45 | 0.0 | 100.0% | 0.0% | 0.0% | 0.0% |" in grid
    assert "| 0.3 | 0.05 | 100.0% | 0.0% | 0.0% | 0.0% |" in grid


def test_a_blind_sets_variant_never_lists_its_lines():
    lines = [outcome("whta do thye earn", "ask_pay", parsed("ask_hours", ("ask_hours", 0.9)))]
    dev = Report("dev_set_2.yml, misspelled", lines)
    blind = Report("test_set.yml, misspelled", lines, blind=True)
    assert "whta do thye earn" in dev.summary(errors=True)
    assert "whta do thye earn" not in blind.summary(errors=True)
    assert "intent accuracy: 0.0% (0/1)" in blind.summary(errors=True)


def test_traffic_reports_the_leak_of_each_category():
    lines = [
        ("what is the point of it all", "small talk", parsed("ask_overview", ("ask_overview", 0.9))),
        ("where are you from", "small talk", parsed("out_of_scope", ("out_of_scope", 0.9))),
        ("is today payday", "own job and day", parsed("ask_pay", ("ask_pay", 0.7))),
        ("lights off", "utilities", parsed("out_of_scope", ("out_of_scope", 0.9))),
        ("my card is lost", "banking", parsed("thanks", ("thanks", 0.9))),
    ]
    outcomes = []
    for text, kind, result in lines:
        line = outcome(text, "out_of_scope", result)
        line.category = kind
        outcomes.append(line)
    report = Report("traffic", outcomes, traffic=True)
    assert report.leaks_by_category() == [
        ("small talk", 1, 2),
        ("own job and day", 1, 1),
        ("utilities", 0, 1),
        ("banking", 0, 1),
    ]
    text = report.summary()
    assert "leak rate (a career answer): 40.0% (2/5)" in text  # the total stays
    assert (
        "leak rate by category: small talk 50.0% (1/2), own job and day 100.0% (1/1), utilities 0.0% (0/1), "
        "banking 0.0% (0/1)"
    ) in text
    # The grid of other fallback thresholds keeps the categories.
    assert with_fallback(report.outcomes[2], 0.8, 0.0).category == "own job and day"
