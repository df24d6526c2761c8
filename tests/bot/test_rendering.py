"""The rendering layer: one answer, shaped for each platform."""

from __future__ import annotations

import asyncio

import pytest

from bot.rasa.rendering import ChannelRenderingNLG, option_payload, render

ANSWER = {
    "text": "**Pay** by level:\n- Starting: $24,000\n\nSee [Payscale](https://www.payscale.com/x).",
    "buttons": [
        {"title": "Managers' pay?", "payload": "/ask_pay_level"},
        {"title": "Where can this career lead me next?", "payload": "/ask_advancement"},
        {"title": "What should I study?", "payload": "/ask_education"},
        {"title": "Job outlook?", "payload": "/ask_outlook"},
    ],
}


def test_widget_and_rest_get_the_markdown_unchanged():
    for channel in ("socketio", "collector", None):
        assert render(ANSWER, channel) == ANSWER


def test_slack_gets_mrkdwn():
    text = render(ANSWER, "slack")["text"]
    assert text.startswith("*Pay* by level:")
    assert "<https://www.payscale.com/x|Payscale>" in text


def test_telegram_gets_plain_text_and_keeps_paragraphs():
    rendered = render(ANSWER, "telegram")
    assert "**" not in rendered["text"] and "Payscale (https://www.payscale.com/x)" in rendered["text"]
    assert "\n\n" in rendered["text"]  # Telegram's output splits on it
    assert len(rendered["buttons"]) == 4


def test_facebook_gets_three_short_buttons():
    rendered = render(ANSWER, "facebook")
    assert [b["title"] for b in rendered["buttons"]] == [
        "Managers' pay?",
        "Where can this care…",
        "What should I study?",
    ]
    assert all(len(b["title"]) <= 20 for b in rendered["buttons"])
    assert "**" not in rendered["text"]


def test_facebook_long_answer_uses_quick_replies():
    long = dict(ANSWER, text="x" * 700)
    rendered = render(long, "facebook")
    assert "buttons" not in rendered
    assert [q["payload"] for q in rendered["quick_replies"]] == [b["payload"] for b in ANSWER["buttons"]]
    assert all(len(q["title"]) <= 20 for q in rendered["quick_replies"])


@pytest.mark.parametrize("channel, bold", [("twilio", "Pay"), ("twilio_whatsapp", "*Pay*")])
def test_sms_and_whatsapp_get_numbered_options(channel, bold):
    rendered = render(ANSWER, channel, sms_options="Reply with a number:\n{options}")
    assert "buttons" not in rendered
    assert rendered["text"].startswith(f"{bold} by level:")
    assert rendered["text"].endswith(
        "Reply with a number:\n1. Managers' pay?\n"
        "2. Where can this career lead me next?\n3. What should I study?\n"
        "4. Job outlook?"
    )


def test_render_does_not_change_its_input():
    before = repr(ANSWER)
    render(ANSWER, "twilio")
    render(ANSWER, "facebook")
    assert repr(ANSWER) == before


def test_nlg_renders_real_domain_responses_for_the_channel(rasa_domain):
    from rasa.shared.core.trackers import DialogueStateTracker

    nlg = ChannelRenderingNLG(domain=rasa_domain)
    tracker = DialogueStateTracker("u", rasa_domain.slots)
    sms = asyncio.run(
        nlg.generate(
            "utter_answer_pay_level",
            tracker,
            "twilio",
            level="Loan managers",
            low="$59,000",
            high="$87,000",
            period="year",
            source="Payscale",
        )
    )
    assert "buttons" not in sms
    assert sms["text"].endswith(
        "Reply with a number:\n1. Pay at every level\n2. Where can it lead?\n3. What should I study?"
    )
    widget = asyncio.run(
        nlg.generate(
            "utter_answer_pay_level",
            tracker,
            "socketio",
            level="Loan managers",
            low="$59,000",
            high="$87,000",
            period="year",
            source="Payscale",
        )
    )
    assert len(widget["buttons"]) == 3


def test_numbered_sms_reply_maps_to_the_button_payload(rasa_domain):
    assert option_payload(rasa_domain, "utter_answer_pay", "2") == "/ask_advancement"
    assert option_payload(rasa_domain, "utter_answer_pay", " 1 ").startswith("/ask_pay_level")
    assert option_payload(rasa_domain, "utter_answer_pay", "9") is None
    assert option_payload(rasa_domain, "utter_answer_pay", "two") is None
    assert option_payload(rasa_domain, None, "1") is None


def test_a_numbered_sms_reply_picks_the_option_of_the_last_answer(rasa_domain):
    from types import SimpleNamespace

    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.events import BotUttered, UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.channels.twilio import numbered_option

    store = InMemoryTrackerStore(rasa_domain)
    events = [
        UserUttered("how much do they earn?"),
        BotUttered("The annual pay...", metadata={"utter_action": "utter_answer_pay"}),
    ]
    asyncio.run(store.save(DialogueStateTracker.from_events("+15550001", events, rasa_domain.slots)))
    agent = SimpleNamespace(tracker_store=store, domain=rasa_domain)
    assert asyncio.run(numbered_option(agent, "+15550001", "3")) == "/ask_education"
    assert asyncio.run(numbered_option(agent, "+15550001", "hello")) is None
    assert asyncio.run(numbered_option(agent, "+15550001", "7")) is None
    assert asyncio.run(numbered_option(agent, "+15559999", "1")) is None  # a new sender has no options


# Buttons an action adds (a button per career) go through Rasa's RemoteAction, which
# appends them after the NLG: they must be rendered for the channel all the same.
CAREER_BUTTONS = [
    {"title": "Loan officers", "payload": '/ask_pay{"career":"loan_officers"}'},
    {"title": "Mortgage servicing specialists", "payload": '/ask_pay{"career":"mortgage_servicing_specialist"}'},
    {"title": "Tellers", "payload": '/ask_pay{"career":"tellers"}'},
    {"title": "Lighthouse keepers", "payload": '/ask_pay{"career":"lighthouse_keeper"}'},
]


def _utter_with_action_buttons(rasa_domain, channel):
    """What Rasa sends and stores for an action's `utter_ask_career` with four added buttons."""
    from rasa.core.actions.action import RemoteAction
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.shared.core.trackers import DialogueStateTracker

    class Channel(CollectingOutputChannel):
        @classmethod
        def name(cls):
            return channel

    nlg = ChannelRenderingNLG(domain=rasa_domain)
    tracker = DialogueStateTracker("u", rasa_domain.slots)
    response = {"response": "utter_ask_career", "buttons": [dict(b) for b in CAREER_BUTTONS]}
    events = asyncio.run(RemoteAction._utter_responses([response], Channel(), nlg, tracker))
    assert len(events) == 1
    return events[0]


def test_an_actions_buttons_are_numbered_options_on_sms(rasa_domain):
    event = _utter_with_action_buttons(rasa_domain, "twilio")
    assert not event.data.get("buttons")  # none left for Rasa to append unrendered
    assert event.text.endswith("1. Loan officers\n2. Mortgage servicing specialists\n3. Tellers\n4. Lighthouse keepers")
    payloads = event.metadata["sms_payloads"]
    assert option_payload(rasa_domain, "utter_ask_career", "3", payloads) == '/ask_pay{"career":"tellers"}'
    assert option_payload(rasa_domain, "utter_ask_career", "5", payloads) is None


def test_an_actions_buttons_keep_messengers_limit(rasa_domain):
    event = _utter_with_action_buttons(rasa_domain, "facebook")
    assert [b["title"] for b in event.data["buttons"]] == ["Loan officers", "Mortgage servicing…", "Tellers"]


def test_an_actions_buttons_reach_the_widget_as_they_are(rasa_domain):
    event = _utter_with_action_buttons(rasa_domain, "socketio")
    assert event.data["buttons"] == CAREER_BUTTONS


def test_a_numbered_reply_picks_an_actions_own_option(rasa_domain):
    from types import SimpleNamespace

    from rasa.core.tracker_store import InMemoryTrackerStore
    from rasa.shared.core.events import UserUttered
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.channels.twilio import numbered_option

    store = InMemoryTrackerStore(rasa_domain)
    events = [UserUttered("how much do they earn?"), _utter_with_action_buttons(rasa_domain, "twilio")]
    asyncio.run(store.save(DialogueStateTracker.from_events("+15550002", events, rasa_domain.slots)))
    agent = SimpleNamespace(tracker_store=store, domain=rasa_domain)
    assert asyncio.run(numbered_option(agent, "+15550002", "1")) == '/ask_pay{"career":"loan_officers"}'
