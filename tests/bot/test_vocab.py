import pytest

from bot.vocab import resolve_state, us_states


def test_all_states_and_dc():
    states = us_states()
    assert len(states) == 51
    assert {"name": "District of Columbia", "code": "DC"} in states


@pytest.mark.parametrize("mention, name", [
    ("Ohio", "Ohio"), ("ohio", "Ohio"), ("in OH", "Ohio"), ("TX", "Texas"),
    ("new york", "New York"), ("about DC", "District of Columbia"), ("Narnia", None), (None, None),
])
def test_resolve_state(mention, name):
    assert resolve_state(mention) == name
