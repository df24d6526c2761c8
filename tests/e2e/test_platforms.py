"""Slack and Telegram end to end: platform-shaped webhooks into the real Rasa server,
answers checked where they come out, at local fake platform APIs on 127.0.0.1."""

from __future__ import annotations

import hashlib
import hmac
import json
import time

import pytest
import requests

from bot import PROJECT_DIR
from bot.serve import Servers
from bot.settings import Settings

SLACK_SECRET = "test-signing-secret"
TELEGRAM_TOKEN = "123456:TEST-token-for-the-fake-api"
TELEGRAM_USERNAME = "careerbot_test_bot"


@pytest.fixture(scope="module")
def platforms(tmp_path_factory, free_ports, fake_platform):
    slack = fake_platform({"chat.postMessage": {"ok": True, "channel": "D1", "ts": "1.0"}})
    telegram = fake_platform({
        "/getMe": {"ok": True, "result": {"id": 1, "is_bot": True, "first_name": "Careerbot",
                                          "username": TELEGRAM_USERNAME}},
        "/setWebhook": {"ok": True, "result": True},
        "/sendMessage": {"ok": True, "result": {"message_id": 1, "date": 0,
                                                "chat": {"id": 42, "type": "private"}, "text": "ok"}},
    })
    workdir = tmp_path_factory.mktemp("platforms")
    settings = Settings.from_env({
        "CAREERBOT_RASA_PORT": str(free_ports()),
        "CAREERBOT_ACTION_PORT": str(free_ports()),
        "CAREERBOT_WIDGET_PORT": str(free_ports()),
        "CAREERBOT_TRACKER_URL": f"sqlite:///{workdir / 'tracker.db'}",
    })
    env = {
        "SLACK_BOT_TOKEN": "xoxb-test", "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "CAREERBOT_SLACK_API_URL": f"{slack.url}/api/",
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN, "TELEGRAM_BOT_USERNAME": TELEGRAM_USERNAME,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/webhooks/telegram/webhook",
        "CAREERBOT_TELEGRAM_API_URL": telegram.url,
    }
    servers = Servers(settings, PROJECT_DIR / "models" / "careerbot.tar.gz", log_dir=workdir / "logs",
                      extra_env=env)
    with servers:
        yield servers, slack, telegram


def wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def slack_event(text: str, user: str) -> bytes:
    return json.dumps({
        "token": "x", "team_id": "T1", "api_app_id": "A1", "type": "event_callback",
        "event_id": f"Ev{time.time_ns()}", "event_time": int(time.time()),
        "event": {"type": "message", "channel": "D1", "user": user, "text": text,
                  "ts": f"{time.time():.6f}", "channel_type": "im"},
    }).encode()


def post_slack(servers, body: bytes, secret: str = SLACK_SECRET, signed: bool = True):
    timestamp = str(int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp}
    if signed:
        digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Slack-Signature"] = f"v0={digest}"
    return requests.post(f"{servers.rasa_url}/webhooks/slack/webhook", data=body, headers=headers, timeout=30)


def test_the_telegram_webhook_is_registered_at_start(platforms):
    _, _, telegram = platforms
    assert telegram.calls("/setWebhook")[0]["url"] == "https://bot.example.com/webhooks/telegram/webhook"


def test_signed_slack_event_is_answered_in_slack(platforms):
    servers, slack, _ = platforms
    before = len(slack.calls("chat.postMessage"))
    response = post_slack(servers, slack_event("how much do they earn?", "U1"))
    assert response.status_code == 200
    assert wait_for(lambda: len(slack.calls("chat.postMessage")) > before)
    posts = slack.calls("chat.postMessage")[before:]
    text = "\n".join(p.get("text", "") for p in posts)
    assert "$59,000 to $87,000" in text
    assert all(p["channel"] == "D1" for p in posts)
    buttons = [element for p in posts for block in p.get("blocks") or [] for element in block.get("elements", [])]
    assert "Managers' pay?" in [b["text"]["text"] for b in buttons]


@pytest.mark.parametrize("secret, signed", [("wrong-secret", True), (SLACK_SECRET, False)])
def test_unsigned_or_wrongly_signed_slack_request_is_rejected(platforms, secret, signed):
    servers, slack, _ = platforms
    before = len(slack.requests)
    response = post_slack(servers, slack_event("how much do they earn?", "U2"), secret=secret, signed=signed)
    assert response.status_code == 400
    time.sleep(1)
    assert len(slack.requests) == before


def test_telegram_update_is_answered_in_telegram(platforms):
    servers, _, telegram = platforms
    before = len(telegram.calls("/sendMessage"))
    update = {"update_id": 1, "message": {
        "message_id": 10, "date": int(time.time()), "text": "do I need a license?",
        "chat": {"id": 42, "type": "private"}, "from": {"id": 42, "is_bot": False, "first_name": "Ann"}}}
    response = requests.post(f"{servers.rasa_url}/webhooks/telegram/webhook", json=update, timeout=30)
    assert response.status_code == 200 and response.text == "success"
    assert wait_for(lambda: len(telegram.calls("/sendMessage")) > before)
    sent = telegram.calls("/sendMessage")[before:]
    # Split on blank lines: the answer, then the source with the buttons.
    assert len(sent) >= 2
    assert "Mortgage Loan Originator License" in sent[0]["text"]
    assert sent[-1]["text"].startswith("Source:")
    keyboard = json.loads(sent[-1]["reply_markup"])["inline_keyboard"]
    assert "How to get licensed" in [button["text"] for row in keyboard for button in row]
    assert all(message["chat_id"] == "42" for message in sent)
