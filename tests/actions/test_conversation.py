import pytest

from actions.conversation import ActionAnythingElse, ActionFallback, ActionGreet, ActionHelp


@pytest.mark.parametrize("action_class", [ActionGreet, ActionHelp, ActionFallback, ActionAnythingElse])
def test_names_the_career_and_offers_topics(knowledge, run_action, action_class):
    outcome = run_action(action_class(knowledge), text="hello", intent="greet")
    assert "mortgage servicing specialist" in outcome.text
    assert len(outcome.replies[0].buttons) >= 3
    assert outcome.events == []


def test_fallback_states_no_fact(knowledge, run_action):
    text = run_action(ActionFallback(knowledge), text="what is the weather", intent="out_of_scope").text
    assert "$" not in text and "Source" not in text and "Payscale" not in text
