"""How the platform channels check a request before Rasa sees it: the URL Twilio signed, the Slack
signatures already seen (the channels end to end: tests/e2e/test_platforms.py)."""

from __future__ import annotations

from bot.channels.slack import SeenSignatures
from bot.channels.twilio import signed_urls


def test_the_url_twilio_signed_is_the_public_one_or_the_proxys():
    headers = {"host": "127.0.0.1:5005", "x-forwarded-proto": "https", "x-forwarded-host": "bot.example.com"}
    assert signed_urls(headers, "http", "/webhooks/twilio/webhook", "a=1", None) == [
        "https://bot.example.com/webhooks/twilio/webhook?a=1",
        "http://127.0.0.1:5005/webhooks/twilio/webhook?a=1",
    ]
    assert signed_urls({"host": "127.0.0.1:5005"}, "http", "/webhooks/twilio/webhook", "", None) == [
        "http://127.0.0.1:5005/webhooks/twilio/webhook"
    ]
    assert signed_urls(headers, "http", "/webhooks/twilio/webhook", "", "https://public.example.com/") == [
        "https://public.example.com/webhooks/twilio/webhook"
    ]


def test_slack_signatures_are_remembered_for_two_windows_and_within_a_bound():
    seen = SeenSignatures(keep_s=600, limit=3)
    assert seen.first_time("v0=a", now=0) and not seen.first_time("v0=a", now=599)
    assert seen.first_time("v0=a", now=600)  # expired: Rasa's 5-minute check refuses it by then
    for n, signature in enumerate(["v0=b", "v0=c", "v0=d"]):
        assert seen.first_time(signature, now=601 + n)
    assert len(seen) == 3 and seen.first_time("v0=a", now=700)  # the oldest went first
