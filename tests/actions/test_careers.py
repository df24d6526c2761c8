"""Several careers on one site: the list, comparisons, switching, related careers, site-wide replies.

Replies are rendered as the Rasa server renders what the action server returns
(rasa's RemoteAction._utter_responses with the project's NLG), so buttons an
action adds to a response's own buttons are checked as visitors get them.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.careers import MAX_NAMED, ActionListCareers
from actions.conversation import ActionFallback, ActionGreet, ActionHelp
from actions.followup import ActionAnswerFollowup
from actions.licensing import ActionAnswerLicensing
from actions.overview import ActionAnswerOverview
from actions.pay import ActionAnswerPay
from actions.work import ActionAnswerHours
from bot import KNOWLEDGE_DIR
from bot.knowledge import KnowledgeBase

SITE_CAREERS = "loan officers, mortgage servicing specialists and tellers"


def overview_payload(career_id: str) -> str:
    return "/ask_overview" + json.dumps({"career": career_id}, separators=(",", ":"))


@pytest.fixture(scope="module")
def say(rasa_domain, domain_dict, tracker):
    """Runs an action and returns the bot messages the Rasa server would send and store."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels import CollectingOutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa.rendering import ChannelRenderingNLG

    nlg = ChannelRenderingNLG(domain=rasa_domain)

    def _say(action, **tracker_args) -> "Said":
        dispatcher = CollectingDispatcher()
        events = asyncio.run(action.run(dispatcher, tracker(**tracker_args), domain_dict))
        uttered = asyncio.run(
            RemoteAction._utter_responses(
                [dict(m) for m in dispatcher.messages],
                CollectingOutputChannel(),
                nlg,
                DialogueStateTracker("test-user", rasa_domain.slots),
            )
        )
        assert len(uttered) == len(dispatcher.messages), "a response is missing from the domain"
        messages = [
            {"text": u.text or "", "buttons": u.data.get("buttons") or [], "metadata": u.metadata} for u in uttered
        ]
        for message in messages:
            assert "{" not in message["text"], f"unfilled placeholder: {message['text']}"
        return Said(events, messages)

    return _say


class Said:
    def __init__(self, events: List[Any], messages: List[Dict[str, Any]]) -> None:
        self.events = events
        self.messages = messages

    @property
    def text(self) -> str:
        return "\n".join(m["text"] for m in self.messages)

    @property
    def responses(self) -> List[str]:
        return [m["metadata"].get("utter_action") for m in self.messages]

    @property
    def payloads(self) -> List[str]:
        return [b["payload"] for m in self.messages for b in m["buttons"]]


@pytest.fixture(scope="module")
def site():
    """The real careers with no default career: nothing says which career a new conversation is about."""
    return KnowledgeBase.load(KNOWLEDGE_DIR)


@pytest.fixture(scope="module")
def many(tmp_path_factory):
    """A site with more careers than a reply names: copies of the tellers' file under other names."""
    directory: Path = tmp_path_factory.mktemp("many")
    data = yaml.safe_load((KNOWLEDGE_DIR / "tellers.yml").read_text(encoding="utf-8"))
    for i in range(MAX_NAMED + 2):
        data["career"] = {"name": f"clerk {i}", "plural": f"clerks {i}", "country": "US"}
        (directory / f"clerk_{i}.yml").write_text(yaml.safe_dump(data), encoding="utf-8")
    return KnowledgeBase.load(directory)


# Which careers -----------------------------------------------------------------


def test_the_list_names_every_career_with_a_button_to_its_overview(site, say):
    said = say(ActionListCareers(site), text="Which careers can you tell me about?", intent="list_careers")
    assert said.responses == ["utter_list_careers"]
    for name in ("Loan officers", "Mortgage servicing specialists", "Tellers"):
        assert f"- {name}" in said.text
    assert said.payloads == [overview_payload(c) for c in ("loan_officers", "mortgage_servicing_specialist", "tellers")]
    assert said.events == []


def test_a_site_of_one_career_says_so(fixture_knowledge, say):
    said = say(ActionListCareers(fixture_knowledge), text="which careers do you know", intent="list_careers")
    assert said.responses == ["utter_list_careers_one"]
    assert "lighthouse keepers" in said.text


def test_a_site_of_many_careers_lists_them_all_without_a_wall_of_buttons(many, say):
    said = say(ActionListCareers(many), text="which careers", intent="list_careers")
    assert all(f"- Clerks {i}" in said.text for i in range(MAX_NAMED + 2))
    assert said.payloads == []


# Comparisons --------------------------------------------------------------------


def test_compare_pay_gives_each_figure_with_its_own_source_and_year(knowledge, say):
    said = say(ActionAnswerPay(knowledge), text="Compare the pay of tellers and loan officers", intent="ask_pay")
    assert said.responses == ["utter_answer_compare"]
    text = said.text
    tellers, officers = text.index("Pay for tellers (May 2020)"), text.index("Pay for loan officers (May 2021)")
    assert tellers < officers  # in the order the question names them
    assert "$32,620 a year" in text[tellers:officers] and "Occupational Employment and Wages" in text[tellers:officers]
    assert "$63,380 a year" in text[officers:] and "Occupational Outlook Handbook" in text[officers:]
    assert "different sources or years, so they are not directly comparable" in text
    # Only figures the two files give: no difference, ratio or average computed across them.
    given = {"$24,660", "$28,080", "$32,620", "$37,780", "$41,220", "$32,960", "$15.68", "$15.85", "$63,380", "$30.47"}
    assert set(re.findall(r"\$[\d,.]*\d", text)) == given
    assert said.payloads == [overview_payload("tellers"), overview_payload("loan_officers")]
    assert said.events == [SlotSet("topic", "pay"), SlotSet("career", "tellers")]
    # The answer is counted for the report with every career it compares.
    assert said.messages[0]["metadata"]["careers"] == ["tellers", "loan_officers"]
    assert said.messages[0]["metadata"]["topic"] == "pay"


def test_compare_pay_with_the_article_keeps_levels_and_median_apart(knowledge, say):
    said = say(ActionAnswerPay(knowledge), text="mortgage servicing specialists vs loan officers pay", intent="ask_pay")
    assert "Loan managers: $59,000 to $87,000 a year" in said.text
    assert "Payscale, as cited in" in said.text and "Median (half earn more, half less): $63,380" in said.text
    assert "not directly comparable" in said.text


def test_compare_hours_says_which_source_does_not_cover_them(knowledge, say):
    said = say(
        ActionAnswerHours(knowledge), text="how do the hours of tellers and loan officers differ", intent="ask_hours"
    )
    assert "My source on tellers doesn't cover the working hours" in said.text
    assert "Most loan officers work full time." in said.text
    # One career answered: nothing to compare, so no note about sources.
    assert "comparable" not in said.text and "same source" not in said.text


def test_compare_licensing_never_lends_the_article_licence_to_tellers(knowledge, say):
    said = say(
        ActionAnswerLicensing(knowledge),
        text="do both tellers and mortgage specialists need a license",
        intent="ask_licensing",
    )
    tellers_part = said.text[said.text.index("tellers doesn't cover") : said.text.index("In the US")]
    assert "Mortgage Loan Originator" not in tellers_part
    assert "Mortgage Loan Originator License" in said.text


def test_becoming_one_career_from_another_is_no_comparison(knowledge, say):
    said = say(
        ActionAnswerPay(knowledge), text="could a teller become a loan officer? what's the pay", intent="ask_pay"
    )
    assert said.responses[0] == "utter_answer_pay_figures"
    assert "$63,380" in said.text and "$32,620" not in said.text


# Switching -----------------------------------------------------------------------


def test_and_for_loan_officers_after_pay_answers_their_pay(knowledge, say):
    said = say(ActionAnswerFollowup(knowledge), text="and for loan officers?", intent="inform", slots={"topic": "pay"})
    assert "$63,380" in said.text and "Occupational Outlook Handbook" in said.text
    # A glance beside the answer just given: the conversation stays on its career.
    assert said.events == [SlotSet("topic", "pay")]


def test_is_that_the_same_for_tellers_answers_them_and_stays_on_the_career(knowledge, say):
    said = say(
        ActionAnswerPay(knowledge),
        text="is that the same for tellers?",
        intent="ask_pay",
        slots={"topic": "pay", "career": "loan_officers"},
    )
    assert "$32,620" in said.text and "$63,380" not in said.text
    assert SlotSet("career", "tellers") not in said.events


def test_a_question_in_its_own_right_about_another_career_moves_the_conversation(knowledge, say):
    said = say(
        ActionAnswerPay(knowledge), text="how much do loan officers make?", intent="ask_pay", slots={"topic": "hours"}
    )
    assert "$63,380" in said.text
    assert said.events == [SlotSet("topic", "pay"), SlotSet("career", "loan_officers")]


def test_a_glance_at_another_career_before_any_answer_moves_the_conversation(knowledge, say):
    said = say(ActionAnswerFollowup(knowledge), text="what about tellers?", intent="inform")
    assert SlotSet("career", "tellers") in said.events


def test_what_about_tellers_with_no_topic_yet_is_their_overview(knowledge, say):
    said = say(ActionAnswerFollowup(knowledge), text="what about tellers?", intent="inform")
    assert said.responses[0] == "utter_answer_overview"
    assert "Tellers receive and pay out money" in said.text
    # Their source names no backgrounds, so the article's "with relative ease" is not said of them.
    assert "background" not in said.text and "relative ease" not in said.text


def test_a_follow_up_naming_two_careers_compares_the_last_topic(knowledge, say):
    said = say(
        ActionAnswerFollowup(knowledge),
        text="and for tellers and loan officers?",
        intent="inform",
        slots={"topic": "duties"},
    )
    assert said.responses == ["utter_answer_compare"]
    assert "Balancing the currency" in said.text and "Evaluating loan applications" in said.text


# Related careers -----------------------------------------------------------------


def test_the_article_overview_offers_the_related_career_the_site_has(knowledge, say):
    said = say(ActionAnswerOverview(knowledge), text="what is a mortgage servicing specialist", intent="ask_overview")
    assert said.responses == ["utter_answer_overview_related"]
    buttons = said.messages[0]["buttons"]
    assert {"title": "Loan officers", "payload": overview_payload("loan_officers")} in buttons
    # Loan managers are related too, but the site has no guide for them: no button.
    assert len(buttons) == 3 and all(len(b["title"]) <= 20 for b in buttons)
    assert "relative ease" in said.text


def test_the_related_careers_come_from_the_article(knowledge):
    related = knowledge.career("mortgage_servicing_specialist").related
    assert [(r.name, r.career_id) for r in related] == [("loan officers", "loan_officers"), ("loan managers", None)]


def test_a_career_without_related_careers_keeps_its_topic_buttons(knowledge, say):
    said = say(ActionAnswerOverview(knowledge), text="what is a loan officer", intent="ask_overview")
    assert said.responses == ["utter_answer_overview"]
    assert said.payloads == ["/ask_duties", "/ask_pay", "/ask_how_to_become"]


# Other jobs and conversations with no career yet --------------------------------


def test_another_job_is_refused_naming_the_site_careers(knowledge, say):
    text = "how much do nurses make?"
    said = say(
        ActionAnswerPay(knowledge),
        text=text,
        intent="ask_pay",
        entities=[{"entity": "other_career", "value": "nurses", "start": 12, "end": 18}],
    )
    assert said.responses == ["utter_other_career"]
    assert f"I only have information about {SITE_CAREERS}, not about nurses." in said.text
    assert said.payloads == [
        "/ask_duties",
        "/ask_pay",
        overview_payload("loan_officers"),
        overview_payload("mortgage_servicing_specialist"),
        overview_payload("tellers"),
    ]
    assert "$" not in said.text


def test_another_job_on_a_site_with_no_career_yet_is_refused_not_asked_back(site, say):
    said = say(
        ActionFallback(site),
        text="what do plumbers do",
        intent="out_of_scope",
        entities=[{"entity": "other_career", "value": "plumbers", "start": 8, "end": 16}],
    )
    assert "not about plumbers" in said.text


def test_another_job_on_a_big_site_counts_the_careers(many, say):
    said = say(
        ActionAnswerPay(many),
        text="how much do nurses make?",
        intent="ask_pay",
        entities=[{"entity": "other_career", "value": "nurses", "start": 12, "end": 18}],
    )
    assert f"I only have information about {MAX_NAMED + 2} careers, not about nurses." in said.text
    assert said.payloads[-1] == "/list_careers"


@pytest.mark.parametrize(
    "action_class, intent, response",
    [
        (ActionGreet, "greet", "utter_greet_site"),
        (ActionHelp, "help", "utter_help_site"),
        (ActionFallback, "out_of_scope", "utter_fallback_site"),
    ],
)
def test_with_no_career_yet_greeting_help_and_fallback_name_the_site_careers(site, say, action_class, intent, response):
    said = say(action_class(site), text="hello", intent=intent)
    assert said.responses == [response]
    assert SITE_CAREERS in said.text
    assert [
        overview_payload(c) for c in ("loan_officers", "mortgage_servicing_specialist", "tellers")
    ] == said.payloads[-3:]


def test_a_second_fallback_with_no_career_offers_a_person(site, say):
    events = [
        {"event": "user", "text": "blah", "parse_data": {"intent": {"name": "out_of_scope"}}},
        {"event": "action", "name": "action_fallback"},
        {"event": "bot", "text": "Sorry", "metadata": {"utter_action": "utter_fallback_site"}},
        {"event": "action", "name": "action_listen"},
    ]
    said = say(ActionFallback(site), text="blah blah", intent="out_of_scope", events=events)
    assert said.responses == ["utter_fallback_offer_handoff_site"]
    assert "/request_human" in said.payloads


# Answers name the career, not its id ------------------------------------------------


@pytest.mark.parametrize(
    "action_class, intent, start",
    [
        ("ActionAnswerEducation", "ask_education", "To get started as a mortgage servicing specialist, "),
        ("ActionAnswerQualities", "ask_qualities", "To succeed as a mortgage servicing specialist you need"),
        ("ActionAnswerHowToBecome", "ask_how_to_become", "How to become a mortgage servicing specialist:"),
    ],
)
def test_an_answer_names_the_career_though_its_message_carries_the_id(knowledge, say, action_class, intent, start):
    """The answer's message carries the career's id for the report (mark_answer), beside the wording's values."""
    import actions.education
    import actions.overview

    action = getattr(actions.education, action_class, None) or getattr(actions.overview, action_class)
    said = say(action(knowledge), text="question", intent=intent)
    assert said.text.startswith(start)
    assert "mortgage_servicing_specialist" not in said.text
    assert said.messages[0]["metadata"]["career"] == "mortgage_servicing_specialist"


# Greeting and help promise only what a career's sources cover ------------------------


def test_the_greeting_on_the_tellers_page_names_only_what_their_sources_cover(knowledge, say):
    said = say(ActionGreet(knowledge), text="hi", intent="greet", metadata={"context": {"career": "tellers"}})
    assert said.responses == ["utter_greet_partial"]
    assert "My sources on tellers cover what the job is, the daily duties, who hires them and the pay" in said.text
    assert "licence" not in said.text and "hours" not in said.text


def test_help_for_a_career_whose_sources_cover_every_topic_is_unchanged(knowledge, say):
    said = say(ActionHelp(knowledge), text="help", intent="help")
    assert said.responses == ["utter_help"]
    assert "becoming a mortgage servicing specialist" in said.text
