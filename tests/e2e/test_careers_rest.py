"""End to end over REST: one deployment serving every career, with the page's career, switching and comparisons.

The real Rasa and action servers with the trained model, the real knowledge
directory and the article's career as the default (tests/conftest.py), as
`make run` serves them. These are issue 19's "Done when" checks over REST.
"""

from __future__ import annotations

import re
import uuid
from typing import Any, Dict, List, Optional

import pytest
import requests

from tests.support.servers import buttons, running, slot_values, text

SITE_CAREERS = "loan officers, mortgage servicing specialists and tellers"


class Visitor:
    """One REST conversation; `page` is the career page it is on (metadata.context.career), if any."""

    def __init__(self, servers) -> None:
        self.servers = servers
        self.sender = f"careers-{uuid.uuid4().hex[:10]}"

    def say(self, message: str, page: Optional[str] = None) -> List[Dict[str, Any]]:
        body: Dict[str, Any] = {"sender": self.sender, "message": message}
        if page is not None:
            body["metadata"] = {"context": {"career": page}}
        response = requests.post(f"{self.servers.rasa_url}/webhooks/rest/webhook", json=body, timeout=60)
        assert response.status_code == 200, response.text
        replies: List[Dict[str, Any]] = response.json()
        return replies


def amounts(reply: str) -> set:
    return set(re.findall(r"\$[\d,.]*\d", reply))


def test_loan_officers_page_how_much_do_they_make(servers):
    reply = text(Visitor(servers).say("how much do they make?", page="loan_officers"))
    assert "$63,380" in reply
    assert "U.S. Bureau of Labor Statistics, Occupational Outlook Handbook: Loan Officers" in reply
    assert "May 2021" in reply
    assert "$24,000" not in reply  # never the article's figures


def test_tellers_page_how_much_do_they_make_gives_the_percentiles(servers):
    reply = text(Visitor(servers).say("how much do they make?", page="tellers"))
    assert "Median (half earn more, half less): $32,620 a year" in reply
    assert {"$24,660", "$28,080", "$37,780", "$41,220"} <= amounts(reply)
    assert "Occupational Employment and Wages" in reply and "May 2020" in reply


def test_no_context_a_question_naming_loan_officers(servers):
    reply = text(Visitor(servers).say("how much do loan officers make?"))
    assert "$63,380" in reply and "Occupational Outlook Handbook" in reply


def test_a_mortgage_pay_answer_then_and_for_loan_officers(servers):
    visitor = Visitor(servers)
    first = text(visitor.say("how much do they earn?"))
    assert "$59,000 to $87,000" in first  # the default career: the article's
    switched = text(visitor.say("and for loan officers?"))
    assert "$63,380" in switched and "$59,000" not in switched


def test_tellers_licence_is_not_covered_and_never_the_article_licence(servers):
    reply = text(Visitor(servers).say("do I need a license?", page="tellers"))
    assert "My source on tellers doesn't cover" in reply
    assert "Mortgage Loan Originator" not in reply


def test_which_careers_names_all_three(servers):
    replies = Visitor(servers).say("Which careers can you tell me about?")
    reply = text(replies)
    for name in ("Loan officers", "Mortgage servicing specialists", "Tellers"):
        assert name in reply
    assert '/ask_overview{"career":"tellers"}' in [b["payload"] for b in buttons(replies)]


def test_a_list_button_answers_that_careers_overview(servers):
    reply = text(Visitor(servers).say('/ask_overview{"career":"loan_officers"}'))
    assert "Loan officers evaluate loan applications" in reply
    assert "relative ease" not in reply


def test_compare_the_pay_shows_each_figure_with_its_source_and_year(servers):
    reply = text(Visitor(servers).say("Compare the pay of tellers and loan officers"))
    assert "Pay for tellers (May 2020)" in reply and "$32,620" in reply
    assert "Pay for loan officers (May 2021)" in reply and "$63,380" in reply
    assert "Occupational Employment and Wages" in reply and "Occupational Outlook Handbook" in reply
    assert "different sources or years" in reply
    # No figure computed across the two sources: every amount is one the files give.
    assert amounts(reply) <= {
        "$24,660",
        "$28,080",
        "$32,620",
        "$37,780",
        "$41,220",
        "$32,960",
        "$15.68",
        "$15.85",
        "$63,380",
        "$30.47",
    }


def test_tellers_vs_loan_officers_pay(servers):
    reply = text(Visitor(servers).say("tellers vs loan officers pay"))
    assert "$32,620" in reply and "$63,380" in reply


def test_how_do_the_hours_differ_says_which_source_does_not_cover_them(servers):
    reply = text(Visitor(servers).say("how do the hours of tellers and loan officers differ"))
    assert "My source on tellers doesn't cover the working hours" in reply
    assert "Most loan officers work full time." in reply


def test_moving_to_another_careers_page_switches(servers):
    visitor = Visitor(servers)
    assert "$32,620" in text(visitor.say("how much do they make?", page="tellers"))
    moved = text(visitor.say("how much do they make?", page="loan_officers"))
    assert "$63,380" in moved and "$32,620" not in moved


def test_the_conversation_remembers_the_career_it_moved_to(servers):
    visitor = Visitor(servers)
    assert "$63,380" in text(visitor.say("how much do loan officers make?"))
    # No career named, no page: the conversation's career (the slot), not the default.
    reply = text(visitor.say("what do they do?"))
    assert "Evaluating loan applications" in reply
    assert "loan_officers" in slot_values(servers, visitor.sender, "career")


def test_another_job_is_refused_naming_the_site_careers(servers):
    replies = Visitor(servers).say("how much do nurses make?")
    assert f"I only have information about {SITE_CAREERS}, not about nurses." in text(replies)
    assert "$" not in text(replies)
    assert '/ask_overview{"career":"loan_officers"}' in [b["payload"] for b in buttons(replies)]


def test_the_greeting_on_a_career_page_promises_only_what_its_sources_cover(servers):
    reply = text(Visitor(servers).say("hi", page="tellers"))
    assert "My sources on tellers cover what the job is, the daily duties, who hires them and the pay" in reply
    assert "licence" not in reply


def test_the_article_overview_offers_loan_officers(servers):
    replies = Visitor(servers).say("what exactly is a mortgage servicing specialist?")
    assert '/ask_overview{"career":"loan_officers"}' in [b["payload"] for b in buttons(replies)]


# A site with no default career ------------------------------------------------------


@pytest.fixture(scope="module")
def site_servers(tmp_path_factory):
    """The real servers with CAREERBOT_CAREER unset: nothing says which career a new conversation is about."""
    yield from running(tmp_path_factory.mktemp("site"), extra_env={"CAREERBOT_CAREER": ""}, CAREERBOT_CAREER="")


def test_with_no_default_the_greeting_names_the_site_careers(site_servers):
    replies = Visitor(site_servers).say("hello")
    assert f"I can tell you about these careers: {SITE_CAREERS}." in text(replies)
    assert [b["payload"] for b in buttons(replies)] == [
        '/ask_overview{"career":"loan_officers"}',
        '/ask_overview{"career":"mortgage_servicing_specialist"}',
        '/ask_overview{"career":"tellers"}',
    ]


def test_with_no_default_another_job_is_refused_not_asked_back(site_servers):
    reply = text(Visitor(site_servers).say("how much do nurses make?"))
    assert f"I only have information about {SITE_CAREERS}, not about nurses." in reply


def test_with_no_default_a_career_button_then_a_follow_up(site_servers):
    visitor = Visitor(site_servers)
    assert "Tellers receive and pay out money" in text(visitor.say('/ask_overview{"career":"tellers"}'))
    assert "$32,620" in text(visitor.say("how much do they make?"))
