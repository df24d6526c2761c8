import pytest

from bot.vocab import occupation_plural, occupations, plural, resolve_state, us_states


def test_all_states_and_dc():
    states = us_states()
    assert len(states) == 51
    assert {"name": "District of Columbia", "code": "DC"} in states


@pytest.mark.parametrize(
    "mention, name",
    [
        ("Ohio", "Ohio"),
        ("ohio", "Ohio"),
        ("in OH", "Ohio"),
        ("TX", "Texas"),
        ("new york", "New York"),
        ("about DC", "District of Columbia"),
        ("Narnia", None),
        (None, None),
    ],
)
def test_resolve_state(mention, name):
    assert resolve_state(mention) == name


def test_the_occupation_list_is_broad_and_has_no_duplicates():
    jobs = [job.lower() for job in occupations()]
    assert len(jobs) >= 400
    assert len(set(jobs)) == len(jobs)
    for short_form in (
        "nurse",
        "vet",
        "lawyer",
        "cop",
        "accountant",
        "teacher",
        "dev",
        "coder",
        "programmer",
        "plumber",
        "bank manager",
        "branch manager",
        "sales manager",
    ):
        assert short_form in jobs, short_form


@pytest.mark.parametrize(
    "word",
    [
        "driver",
        "buyer",
        "agent",
        "advisor",
        "counselor",
        "representative",
        "principal",
        "manager",
        "specialist",
        "student",
        "server",
    ],
)
def test_ordinary_words_of_this_domain_are_no_occupation(word):
    # "a driver's licence", "a home buyer", "talk to an agent", "the loan's principal"...
    assert word not in [job.lower() for job in occupations()]


@pytest.mark.parametrize(
    "title, expected",
    [
        ("nurse", "nurses"),
        ("salesperson", "salespeople"),
        ("midwife", "midwives"),
        ("attorney", "attorneys"),
        ("secretary", "secretaries"),
        ("CEO", "CEOs"),
        ("policeman", "policemen"),
        ("actress", "actresses"),
        ("bank manager", "bank managers"),
        ("x-ray technician", "x-ray technicians"),
    ],
)
def test_plural(title, expected):
    assert plural(title) == expected


@pytest.mark.parametrize(
    "mention, named",
    [
        ("nurse", "nurses"),
        ("Nurses", "nurses"),
        ("vets", "vets"),
        ("ceo", "CEOs"),
        ("Bank Manager", "bank managers"),
    ],
)
def test_a_reply_names_the_job_in_the_plural(mention, named):
    assert occupation_plural(mention) == named
