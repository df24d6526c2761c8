"""Slack, Telegram and Twilio end to end: platform-shaped webhooks into the real Rasa server,
answers checked where they come out, at local fake platform APIs on 127.0.0.1; refused
requests checked at the fake APIs and in the conversation store. A second Rasa server on the
same conversation store and action server stands for another instance behind a load balancer."""

from __future__ import annotations

import hashlib
import hmac
import json
import sqlite3
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import requests
from twilio.request_validator import RequestValidator

from bot.launch.processes import free_port, wait_until
from bot.launch.serve import Servers, StartError
from bot.settings import Settings
from tests.support.servers import MODEL, running

SLACK_SECRET = "test-signing-secret"
TELEGRAM_TOKEN = "123456:TEST-token-for-the-fake-api"
TELEGRAM_USERNAME = "careerbot_test_bot"
TELEGRAM_SECRET = "test-secret_token-for-Telegram-0123"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_SMS_NUMBER = "+15550000001"
TWILIO_WHATSAPP_NUMBER = "whatsapp:+15550000002"
# The public base URL Twilio calls (behind a proxy); signatures are made for it.
PUBLIC_URL = "https://bot.example.com"

# Replies go out to the platform's API after the webhook has answered.
REPLY_TIMEOUT_S = 20.0


@pytest.fixture(scope="module")
def twilio_api(fake_platform):
    return fake_platform({"Messages.json": {"sid": "SM1", "status": "queued"}})


@pytest.fixture(scope="module")
def slack_api(fake_platform):
    return fake_platform({"chat.postMessage": {"ok": True, "channel": "D1", "ts": "1.0"}})


def slack_env(slack_api) -> dict:
    return {
        "SLACK_BOT_TOKEN": "xoxb-test",
        "SLACK_SIGNING_SECRET": SLACK_SECRET,
        "CAREERBOT_SLACK_API_URL": f"{slack_api.url}/api/",
    }


@pytest.fixture(scope="module")
def platforms(tmp_path_factory, fake_platform, twilio_api, slack_api):
    telegram = fake_platform(
        {
            "/getMe": {
                "ok": True,
                "result": {"id": 1, "is_bot": True, "first_name": "Careerbot", "username": TELEGRAM_USERNAME},
            },
            "/setWebhook": {"ok": True, "result": True},
            "/sendMessage": {
                "ok": True,
                "result": {"message_id": 1, "date": 0, "chat": {"id": 42, "type": "private"}, "text": "ok"},
            },
        }
    )
    env = {
        **slack_env(slack_api),
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_BOT_USERNAME": TELEGRAM_USERNAME,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "CAREERBOT_TELEGRAM_API_URL": telegram.url,
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_SMS_NUMBER": TWILIO_SMS_NUMBER,
        "TWILIO_WHATSAPP_NUMBER": TWILIO_WHATSAPP_NUMBER,
        "CAREERBOT_TWILIO_API_URL": twilio_api.url,
        "CAREERBOT_TWILIO_PUBLIC_URL": PUBLIC_URL,
    }
    for servers in running(tmp_path_factory.mktemp("platforms"), extra_env=env):
        yield servers, slack_api, telegram


@pytest.fixture(scope="module")
def other_instance(platforms, slack_api, tmp_path_factory):
    """A second Rasa server with Slack on, sharing the first one's SQLite conversation store and action server."""
    servers, _, _ = platforms
    settings = Settings.from_env(
        {
            "CAREERBOT_RASA_PORT": str(free_port()),
            "CAREERBOT_ACTION_PORT": str(servers.settings.action_port),
            "CAREERBOT_WIDGET_PORT": str(free_port()),
            "CAREERBOT_TRACKER_URL": servers.settings.tracker_url,
        }
    )
    other = Servers(settings, MODEL, log_dir=tmp_path_factory.mktemp("other-instance"), extra_env=slack_env(slack_api))
    try:
        other.start_rasa()
        yield other
    finally:
        other.stop()


def delivered(check) -> None:
    """Waits until the fake platform has received what `check` looks for.

    Replies are sent after the webhook answers."""
    wait_until(check, REPLY_TIMEOUT_S, "the platform receives the reply")


def slack_event(text: str, user: str) -> bytes:
    return json.dumps(
        {
            "token": "x",
            "team_id": "T1",
            "api_app_id": "A1",
            "type": "event_callback",
            "event_id": f"Ev{time.time_ns()}",
            "event_time": int(time.time()),
            "event": {
                "type": "message",
                "channel": "D1",
                "user": user,
                "text": text,
                "ts": f"{time.time():.6f}",
                "channel_type": "im",
            },
        }
    ).encode()


def post_slack(
    servers, body: bytes, secret: str = SLACK_SECRET, signed: bool = True, timestamp: int = 0, retry: tuple = ()
):
    """Posts `body` signed now (or at `timestamp`); `retry`: (number, reason) as Slack's retries carry them."""
    timestamp = str(timestamp or int(time.time()))
    headers = {"Content-Type": "application/json", "X-Slack-Request-Timestamp": timestamp}
    if retry:
        headers.update({"X-Slack-Retry-Num": str(retry[0]), "X-Slack-Retry-Reason": retry[1]})
    if signed:
        digest = hmac.new(secret.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
        headers["X-Slack-Signature"] = f"v0={digest}"
    return requests.post(f"{servers.rasa_url}/webhooks/slack/webhook", data=body, headers=headers, timeout=30)


def post_telegram(servers, update, secret=TELEGRAM_SECRET, path="webhook"):
    """Posts a Telegram update as Telegram does: with the secret token registered for the webhook."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    body = update if isinstance(update, bytes) else json.dumps(update).encode()
    return requests.post(f"{servers.rasa_url}/webhooks/telegram/{path}", data=body, headers=headers, timeout=30)


def telegram_update(chat_id, text: str) -> dict:
    return {
        "update_id": 1,
        "message": {
            "message_id": 10,
            "date": int(time.time()),
            "text": text,
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": 42, "is_bot": False, "first_name": "Ann"},
        },
    }


def sent_to_chat(telegram, chat_id) -> str:
    return "\n".join(m["text"] for m in telegram.calls("/sendMessage") if m.get("chat_id") == str(chat_id))


def test_the_telegram_webhook_is_registered_at_start_with_the_secret_token(platforms):
    _, _, telegram = platforms
    registered = telegram.calls("/setWebhook")[0]
    assert registered["url"] == "https://bot.example.com/webhooks/telegram/webhook"
    assert registered["secret_token"] == TELEGRAM_SECRET


def test_signed_slack_event_is_answered_in_slack(platforms):
    servers, slack, _ = platforms
    before = len(slack.calls("chat.postMessage"))
    response = post_slack(servers, slack_event("how much do they earn?", "U1"))
    assert response.status_code == 200
    delivered(lambda: len(slack.calls("chat.postMessage")) > before)
    posts = slack.calls("chat.postMessage")[before:]
    text = "\n".join(p.get("text", "") for p in posts)
    assert "$59,000 to $87,000" in text
    assert all(p["channel"] == "D1" for p in posts)
    buttons = [element for p in posts for block in p.get("blocks") or [] for element in block.get("elements", [])]
    assert "Managers' pay?" in [b["text"]["text"] for b in buttons]


@pytest.mark.parametrize("secret, signed", [("wrong-secret", True), (SLACK_SECRET, False)])
def test_unsigned_or_wrongly_signed_slack_request_is_rejected(platforms, secret, signed):
    servers, slack, _ = platforms
    user = f"U2{int(signed)}"
    before = len(slack.calls("chat.postMessage"))
    response = post_slack(servers, slack_event("how much do they earn?", user), secret=secret, signed=signed)
    assert response.status_code == 400
    # A later signed message of the same user is handled after anything the
    # refused one could have started; once it is answered, nothing else was.
    assert post_slack(servers, slack_event("do I need a license?", user)).status_code == 200
    delivered(lambda: "Mortgage Loan Originator License" in slack_texts(slack, before))
    assert "$59,000" not in slack_texts(slack, before)


def test_telegram_update_is_answered_in_telegram(platforms):
    servers, _, telegram = platforms
    before = len(telegram.calls("/sendMessage"))
    response = post_telegram(servers, telegram_update(42, "do I need a license?"))
    assert response.status_code == 200 and response.text == "success"
    delivered(lambda: len(telegram.calls("/sendMessage")) > before)
    sent = telegram.calls("/sendMessage")[before:]
    # Split on blank lines: the answer, then the source with the buttons.
    assert len(sent) >= 2
    assert "Mortgage Loan Originator License" in sent[0]["text"]
    assert sent[-1]["text"].startswith("Source:")
    keyboard = json.loads(sent[-1]["reply_markup"])["inline_keyboard"]
    assert "How to get licensed" in [button["text"] for row in keyboard for button in row]
    assert all(message["chat_id"] == "42" for message in sent)


def stored_senders(servers) -> set:
    """The conversation ids in the servers' SQLite conversation store."""
    with sqlite3.connect(servers.settings.sqlite_path) as db:
        return {row[0] for row in db.execute("SELECT DISTINCT sender_id FROM events")}


def slack_texts(slack, start: int) -> str:
    return "\n".join(p.get("text", "") for p in slack.calls("chat.postMessage")[start:])


def test_a_replayed_slack_request_is_answered_once(platforms):
    servers, slack, _ = platforms
    before = len(slack.calls("chat.postMessage"))
    body = slack_event("how much do they earn?", "U3")
    timestamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": f"v0={digest}",
    }
    url = f"{servers.rasa_url}/webhooks/slack/webhook"
    first = requests.post(url, data=body, headers=headers, timeout=30)
    assert first.status_code == 200
    delivered(lambda: "$59,000 to $87,000" in slack_texts(slack, before))
    replay = requests.post(url, data=body, headers=headers, timeout=30)
    assert replay.status_code == 200 and replay.text == ""
    assert replay.headers.get("X-Slack-No-Retry") == "1"
    # A later message of the same user is handled after anything the replay
    # started (one conversation's turns are queued in order): once it is
    # answered, a processed replay would have been answered too.
    assert post_slack(servers, slack_event("do I need a license?", "U3")).status_code == 200
    delivered(lambda: "Mortgage Loan Originator License" in slack_texts(slack, before))
    assert slack_texts(slack, before).count("$59,000 to $87,000") == 1


def test_a_slack_retry_is_a_new_signed_request_and_not_a_replay(platforms):
    """Slack's own retries are signed anew; Rasa's rule for them (ignore http_timeout retries) still applies."""
    servers, slack, _ = platforms
    body = slack_event("how much do they earn?", "U4")
    timestamp = str(int(time.time()))
    digest = hmac.new(SLACK_SECRET.encode(), f"v0:{timestamp}:".encode() + body, hashlib.sha256).hexdigest()
    response = requests.post(
        f"{servers.rasa_url}/webhooks/slack/webhook",
        data=body,
        timeout=30,
        headers={
            "Content-Type": "application/json",
            "X-Slack-Request-Timestamp": timestamp,
            "X-Slack-Signature": f"v0={digest}",
            "X-Slack-Retry-Num": "1",
            "X-Slack-Retry-Reason": "http_timeout",
        },
    )
    assert response.status_code == 201 and response.headers.get("X-Slack-No-Retry") == "1"
    assert "U4" not in stored_senders(servers)


def user_texts(servers, sender: str) -> list:
    """What `sender` said, as the conversation store holds it, in order."""
    with sqlite3.connect(servers.settings.sqlite_path) as db:
        rows = db.execute("SELECT data FROM events WHERE sender_id = ? AND type_name = 'user' ORDER BY id", (sender,))
        return [json.loads(data)["text"] for (data,) in rows]


def test_a_slack_retry_of_a_handled_event_adds_nothing(platforms):
    """Slack retries an event it thinks failed: signed anew, same event_id. It was handled already."""
    servers, slack, _ = platforms
    before = len(slack.calls("chat.postMessage"))
    body = slack_event("how much do they earn?", "U6")
    # Signed two seconds ago: the retry, signed now, has a signature of its own.
    assert post_slack(servers, body, timestamp=int(time.time()) - 2).status_code == 200
    delivered(lambda: "$59,000 to $87,000" in slack_texts(slack, before))
    for number in (1, 2):
        retry = post_slack(servers, body, retry=(number, "http_error"))
        assert retry.status_code == 200 and retry.text == ""
        assert retry.headers.get("X-Slack-No-Retry") == "1"
    # A later message of the same user is handled after anything the retries started.
    assert post_slack(servers, slack_event("do I need a license?", "U6")).status_code == 200
    delivered(lambda: "Mortgage Loan Originator License" in slack_texts(slack, before))
    assert slack_texts(slack, before).count("$59,000 to $87,000") == 1
    stored(servers, "U6", "do I need a license?")
    assert user_texts(servers, "U6") == ["how much do they earn?", "do I need a license?"]


def stored(servers, sender: str, text: str) -> None:
    """Waits until the turn that began with `text` is in the store (a turn's events are saved at once).

    Without a shared lock store (Redis), two instances must not handle one
    conversation at the same time: the next turn goes to another instance only
    after this one's is stored.
    """
    wait_until(lambda: text in user_texts(servers, sender), REPLY_TIMEOUT_S, "the turn is stored")


def test_a_slack_retry_or_replay_sent_to_another_instance_is_dropped_too(platforms, other_instance):
    """The ids are in the conversation store the instances share, not in one instance's memory."""
    servers, slack, _ = platforms
    before = len(slack.calls("chat.postMessage"))
    body = slack_event("how much do they earn?", "U7")
    signed_at = int(time.time()) - 2
    assert post_slack(servers, body, timestamp=signed_at).status_code == 200
    delivered(lambda: "$59,000 to $87,000" in slack_texts(slack, before))
    stored(servers, "U7", "how much do they earn?")
    retry = post_slack(other_instance, body, retry=(1, "http_error"))
    replay = post_slack(other_instance, body, timestamp=signed_at)  # the very request, sent again
    for duplicate in (retry, replay):
        assert duplicate.status_code == 200 and duplicate.headers.get("X-Slack-No-Retry") == "1"
    assert post_slack(other_instance, slack_event("do I need a license?", "U7")).status_code == 200
    delivered(lambda: "Mortgage Loan Originator License" in slack_texts(slack, before))
    assert slack_texts(slack, before).count("$59,000 to $87,000") == 1
    stored(servers, "U7", "do I need a license?")
    assert user_texts(servers, "U7") == ["how much do they earn?", "do I need a license?"]


def test_a_slack_event_is_handled_once_when_two_instances_get_it_at_once(platforms, other_instance):
    servers, slack, _ = platforms
    before = len(slack.calls("chat.postMessage"))
    body = slack_event("how much do they earn?", "U8")
    instances = [servers, other_instance]
    with ThreadPoolExecutor(2) as pool:
        answers = list(pool.map(lambda s: post_slack(s, body, retry=(1, "http_error")), instances))
    assert all(answer.status_code == 200 for answer in answers)
    pairs = zip(instances, answers, strict=True)
    dropped = [instance for instance, answer in pairs if answer.headers.get("X-Slack-No-Retry")]
    assert len(dropped) == 1
    delivered(lambda: "$59,000 to $87,000" in slack_texts(slack, before))
    stored(servers, "U8", "how much do they earn?")
    # The instance that dropped it handles the next message after anything it had started.
    assert post_slack(dropped[0], slack_event("do I need a license?", "U8")).status_code == 200
    delivered(lambda: "Mortgage Loan Originator License" in slack_texts(slack, before))
    assert slack_texts(slack, before).count("$59,000 to $87,000") == 1
    stored(servers, "U8", "do I need a license?")
    assert user_texts(servers, "U8") == ["how much do they earn?", "do I need a license?"]


def test_a_slack_event_that_cannot_be_recorded_gets_503_and_slacks_retry_is_answered(platforms):
    """Not handled without its id recorded (a retry could be handled twice), nor lost: Slack retries a 503."""
    servers, slack, _ = platforms
    before = len(slack.calls("chat.postMessage"))
    body = slack_event("how much do they earn?", "U9")
    blocker = sqlite3.connect(servers.settings.sqlite_path, isolation_level=None)
    blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock longer than the store waits
    try:
        refused = post_slack(servers, body, timestamp=int(time.time()) - 2)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()
    assert refused.status_code == 503 and "X-Slack-No-Retry" not in refused.headers
    retry = post_slack(servers, body, retry=(1, "http_error"))
    assert retry.status_code == 200 and "X-Slack-No-Retry" not in retry.headers
    delivered(lambda: "$59,000 to $87,000" in slack_texts(slack, before))
    assert post_slack(servers, slack_event("do I need a license?", "U9")).status_code == 200
    delivered(lambda: "Mortgage Loan Originator License" in slack_texts(slack, before))
    assert slack_texts(slack, before).count("$59,000 to $87,000") == 1
    stored(servers, "U9", "do I need a license?")
    assert user_texts(servers, "U9") == ["how much do they earn?", "do I need a license?"]


def test_a_signed_slack_event_with_a_malformed_user_id_is_refused(platforms):
    servers, _, _ = platforms
    user = "U5\u0001X"
    response = post_slack(servers, slack_event("how much do they earn?", user))
    assert response.status_code == 400
    assert "control characters" in response.json()["error"]
    assert user not in stored_senders(servers)


@pytest.mark.parametrize("chat_id", ["77\udc00", "77", 7.7, True, None])
def test_a_telegram_update_whose_chat_id_is_not_a_number_is_refused(platforms, chat_id):
    servers, _, telegram = platforms
    before = len(telegram.calls("/sendMessage"))
    update = {
        "update_id": 2,
        "message": {
            "message_id": 11,
            "date": int(time.time()),
            "text": "how much do they earn?",
            "chat": {"id": chat_id, "type": "private"},
            "from": {"id": 43, "is_bot": False, "first_name": "Eve"},
        },
    }
    response = post_telegram(servers, update)  # json.dumps escapes the lone surrogate as \udc00
    assert response.status_code == 400
    assert response.json()["error"] == "'chat.id' must be a number"
    assert not {str(chat_id), "77", "7.7", "True"} & stored_senders(servers)
    assert len(telegram.calls("/sendMessage")) == before


def test_a_telegram_update_without_a_message_is_acknowledged_and_ignored(platforms):
    servers, _, _ = platforms
    update = {
        "update_id": 3,
        "channel_post": {"message_id": 1, "date": 0, "text": "hello", "chat": {"id": -100, "type": "channel"}},
    }
    response = post_telegram(servers, update)
    assert response.status_code == 200 and response.text == "success"
    assert "-100" not in stored_senders(servers)


FORGED_SECRETS = [
    None,
    "",
    "wrong-secret",
    TELEGRAM_SECRET[:-1],
    TELEGRAM_SECRET + "x",
    TELEGRAM_SECRET.upper(),
    TELEGRAM_SECRET + "\u00e9",
]


@pytest.mark.parametrize("case", range(len(FORGED_SECRETS)))
def test_a_telegram_update_without_the_secret_token_is_refused(platforms, case):
    """Anyone can post to the webhook; without the token Telegram sends back, nothing is stored or sent."""
    servers, _, telegram = platforms
    secret, chat_id = FORGED_SECRETS[case], 7000 + case
    if secret is not None and not secret.isascii():  # a header as bytes, beyond what requests encodes
        secret = secret.encode("utf-8")
    response = post_telegram(servers, telegram_update(chat_id, "how much do they earn?"), secret=secret)
    assert response.status_code == 403
    assert response.json()["error"] == "the request has no valid X-Telegram-Bot-Api-Secret-Token"
    assert str(chat_id) not in stored_senders(servers)
    # A genuine update of the same chat is handled after anything the forged one could
    # have started; once it is answered, the forged one would have been answered too.
    assert post_telegram(servers, telegram_update(chat_id, "do I need a license?")).status_code == 200
    delivered(lambda: "Mortgage Loan Originator License" in sent_to_chat(telegram, chat_id))
    assert "$59,000" not in sent_to_chat(telegram, chat_id)


def test_a_forged_telegram_request_gets_403_whatever_its_body(platforms):
    servers, _, telegram = platforms
    before = len(telegram.calls("/sendMessage"))
    response = post_telegram(servers, b"not json at all", secret="forged")
    assert response.status_code == 403
    assert len(telegram.calls("/sendMessage")) == before


def test_telegram_is_asked_for_the_bots_name_once_not_per_update(platforms):
    servers, _, telegram = platforms
    for chat_id, text in [(8001, "how much do they earn?"), (8002, "do I need a license?")]:
        assert post_telegram(servers, telegram_update(chat_id, text)).status_code == 200
    delivered(lambda: "$59,000" in sent_to_chat(telegram, 8001) and "License" in sent_to_chat(telegram, 8002))
    assert len(telegram.calls("/getMe")) == 1


def test_a_telegram_token_of_another_bot_stops_the_start(fake_platform, tmp_path):
    """Rasa's connector would answer every update "failed"; the start says why instead."""
    telegram = fake_platform(
        {"/getMe": {"ok": True, "result": {"id": 2, "is_bot": True, "first_name": "Other", "username": "another_bot"}}}
    )
    env = {
        "TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_BOT_USERNAME": TELEGRAM_USERNAME,
        "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/webhooks/telegram/webhook",
        "TELEGRAM_SECRET_TOKEN": TELEGRAM_SECRET,
        "CAREERBOT_TELEGRAM_API_URL": telegram.url,
    }
    settings = Settings.from_env(
        {
            "CAREERBOT_RASA_PORT": str(free_port()),
            "CAREERBOT_ACTION_PORT": str(free_port()),
            "CAREERBOT_WIDGET_PORT": str(free_port()),
            "CAREERBOT_TRACKER_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        }
    )
    servers = Servers(settings, MODEL, log_dir=tmp_path / "logs", extra_env=env)
    try:
        with pytest.raises(StartError, match="exited with code 1"):
            servers.start_rasa()
    finally:
        servers.stop()
    log = (tmp_path / "logs" / "rasa.log").read_text()
    assert f"TELEGRAM_BOT_USERNAME is '{TELEGRAM_USERNAME}', but TELEGRAM_TOKEN belongs to the bot 'another_bot'" in log
    assert not telegram.calls("/setWebhook")


def test_the_set_webhook_route_needs_the_secret_and_keeps_it(platforms):
    """Rasa's /set_webhook re-registers the webhook: without the secret, anyone could switch the check off."""
    servers, _, telegram = platforms
    before = len(telegram.calls("/setWebhook"))
    assert post_telegram(servers, {}, secret=None, path="set_webhook").status_code == 403
    assert post_telegram(servers, {}, secret="wrong", path="set_webhook").status_code == 403
    assert len(telegram.calls("/setWebhook")) == before
    response = post_telegram(servers, {}, path="set_webhook")
    assert response.status_code == 200 and response.text == "Webhook setup successful"
    assert telegram.calls("/setWebhook")[before:] == [
        {"url": "https://bot.example.com/webhooks/telegram/webhook", "secret_token": TELEGRAM_SECRET}
    ]


def post_twilio(
    servers, channel: str, fields: dict, signed_for: str = PUBLIC_URL, token: str = TWILIO_TOKEN, signed: bool = True
):
    path = f"/webhooks/{channel}/webhook"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if signed:
        headers["X-Twilio-Signature"] = RequestValidator(token).compute_signature(signed_for + path, fields)
    return requests.post(servers.rasa_url + path, data=urlencode(fields), headers=headers, timeout=30)


def twilio_fields(sender: str, text: str, to: str = TWILIO_SMS_NUMBER) -> dict:
    return {
        "MessageSid": f"SM{time.time_ns()}",
        "AccountSid": TWILIO_SID,
        "From": sender,
        "To": to,
        "Body": text,
        "NumMedia": "0",
    }


def sent_to(twilio_api, recipient: str) -> list:
    return [call for call in twilio_api.calls("Messages.json") if call.get("To") == recipient]


def test_a_signed_twilio_sms_is_answered_by_sms(platforms, twilio_api):
    servers, _, _ = platforms
    sender = "+15557654321"
    response = post_twilio(servers, "twilio", twilio_fields(sender, "how much do they earn?"))
    assert response.status_code == 204
    delivered(lambda: "$59,000 to $87,000" in "\n".join(c["Body"] for c in sent_to(twilio_api, sender)))
    sent = sent_to(twilio_api, sender)
    assert all(call["From"] == TWILIO_SMS_NUMBER for call in sent)
    assert twilio_api.requests[0][0] == f"/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
    # Buttons become numbered options; a reply of "1" picks the first.
    assert "1. " in sent[-1]["Body"]
    assert sender in stored_senders(servers)


def test_a_signed_whatsapp_message_is_answered_on_whatsapp(platforms, twilio_api):
    servers, _, _ = platforms
    sender = "whatsapp:+15557654322"
    fields = twilio_fields(sender, "do I need a license?", to=TWILIO_WHATSAPP_NUMBER)
    assert post_twilio(servers, "twilio_whatsapp", fields).status_code == 204
    delivered(lambda: "Mortgage Loan Originator License" in "\n".join(c["Body"] for c in sent_to(twilio_api, sender)))
    assert all(call["From"] == TWILIO_WHATSAPP_NUMBER for call in sent_to(twilio_api, sender))


@pytest.mark.parametrize("channel", ["twilio", "twilio_whatsapp"])
@pytest.mark.parametrize(
    "how", ["unsigned", "wrong token", "URL as received, not the public one", "a field changed after signing"]
)
def test_a_twilio_request_without_a_valid_signature_is_refused(platforms, twilio_api, channel, how):
    servers, _, _ = platforms
    sender = f"+1555{zlib.crc32(f'{channel} {how}'.encode()) % 10_000_000:07d}"
    fields = twilio_fields(sender, "how much do they earn?")
    kwargs = {
        "unsigned": {"signed": False},
        "wrong token": {"token": "another-auth-token"},
        "URL as received, not the public one": {"signed_for": servers.rasa_url},
    }.get(how, {})
    if how == "a field changed after signing":
        signature = RequestValidator(TWILIO_TOKEN).compute_signature(f"{PUBLIC_URL}/webhooks/{channel}/webhook", fields)
        response = requests.post(
            f"{servers.rasa_url}/webhooks/{channel}/webhook",
            timeout=30,
            data=urlencode(dict(fields, Body="something else")),
            headers={"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )
    else:
        response = post_twilio(servers, channel, fields, **kwargs)
    assert response.status_code == 403
    assert response.json()["error"] == "the request has no valid X-Twilio-Signature"
    assert sender not in stored_senders(servers)
    assert not sent_to(twilio_api, sender)


@pytest.mark.parametrize(
    "sender, problem",
    [
        ("+1555\x00123", "must be valid UTF-8 text without control characters"),
        ("+1555\x1b[31m", "must be valid UTF-8 text without control characters"),
        ("+1" + "5" * 200, "is longer than 128 characters"),
        ("", "must be a non-empty string"),
    ],
)
def test_a_signed_twilio_request_from_a_malformed_number_is_refused(platforms, twilio_api, sender, problem):
    """Form fields arrive percent-encoded: invalid UTF-8 in them becomes U+FFFD, never a lone surrogate."""
    servers, _, _ = platforms
    response = post_twilio(servers, "twilio", twilio_fields(sender, "how much do they earn?"))
    assert response.status_code == 400
    assert response.json()["error"] == f"'From' {problem}"
    assert sender not in stored_senders(servers)
    assert not sent_to(twilio_api, sender)
