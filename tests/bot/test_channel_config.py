"""Channels switch on when their environment variables are set, and only then."""

from __future__ import annotations

import subprocess
import sys

import pytest
from rasa.shared.exceptions import RasaException

from bot import PROJECT_DIR
from bot.channels.telegram import CareerTelegramInput
from bot.launch.channel_config import SOURCE, parse_channels, select, write_enabled
from bot.settings import Settings, SettingsError

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}
TELEGRAM = {
    "TELEGRAM_TOKEN": "1:t",
    "TELEGRAM_BOT_USERNAME": "careerbot_bot",
    "TELEGRAM_WEBHOOK_URL": "https://bot.example.com/webhooks/telegram/webhook",
}
TELEGRAM_CHANNEL = "bot.channels.telegram.CareerTelegramInput"
TELEGRAM_RULE = (
    "expected 16 to 256 characters (a long random token), each a letter A-Z or a-z, a digit, _ or - "
    "(Telegram's characters)"
)


def names(text):
    return [c.name for c in parse_channels(text)]


def test_only_the_web_channels_without_any_variable():
    text, disabled = select(SOURCE.read_text(), {})
    assert names(text) == [
        "bot.channels.health.HealthInput",
        "bot.channels.rest.ValidatingRestInput",
        "bot.channels.socketio.CareerSocketIOInput",
    ]
    assert disabled["bot.channels.slack.CareerSlackInput"] == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    assert set(disabled) == {
        "bot.channels.slack.CareerSlackInput",
        "bot.channels.telegram.CareerTelegramInput",
        "facebook",
        "bot.channels.twilio.CareerTwilioInput",
        "bot.channels.twilio.CareerTwilioWhatsAppInput",
    }


def test_a_channel_needs_all_its_variables():
    text, disabled = select(SOURCE.read_text(), {"SLACK_BOT_TOKEN": "xoxb-1"})
    assert "bot.channels.slack.CareerSlackInput" not in names(text)
    assert disabled["bot.channels.slack.CareerSlackInput"] == ["SLACK_SIGNING_SECRET"]
    text, _ = select(SOURCE.read_text(), SLACK)
    assert "bot.channels.slack.CareerSlackInput" in names(text)


def test_secrets_stay_references(tmp_path):
    target = tmp_path / "credentials.yml"
    write_enabled(target, SLACK)
    written = target.read_text()
    assert "slack_token: ${SLACK_BOT_TOKEN}" in written
    assert "xoxb-1" not in written


def test_rasa_reads_the_written_file_with_the_values(tmp_path, monkeypatch):
    from rasa.shared.utils.io import read_config_file

    target = tmp_path / "credentials.yml"
    env = dict(SLACK, TWILIO_ACCOUNT_SID="AC1", TWILIO_AUTH_TOKEN="t", TWILIO_SMS_NUMBER="+15550001")
    write_enabled(target, env)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    config = read_config_file(str(target))
    assert config["bot.channels.slack.CareerSlackInput"]["slack_token"] == "xoxb-1"
    assert config["bot.channels.twilio.CareerTwilioInput"]["twilio_number"] == "+15550001"
    assert "bot.channels.twilio.CareerTwilioWhatsAppInput" not in config


def test_telegram_is_on_only_with_its_secret_token():
    text, disabled = select(SOURCE.read_text(), TELEGRAM)
    assert TELEGRAM_CHANNEL not in names(text)
    assert disabled[TELEGRAM_CHANNEL] == ["TELEGRAM_SECRET_TOKEN"]
    text, _ = select(SOURCE.read_text(), dict(TELEGRAM, TELEGRAM_SECRET_TOKEN="s3cret_-Token-0123"))
    assert TELEGRAM_CHANNEL in names(text)


@pytest.mark.parametrize(
    "secret", ["A-z_09" * 3, pytest.param("x" * 16, id="16 characters"), pytest.param("x" * 256, id="256 characters")]
)
def test_a_telegram_secret_token_by_telegrams_rule_is_accepted(secret):
    assert Settings.from_env({"TELEGRAM_SECRET_TOKEN": secret}).telegram_secret_token == secret
    assert Settings.from_env({}).telegram_secret_token is None


@pytest.mark.parametrize(
    "secret",
    [
        pytest.param("x" * 257, id="257 characters"),
        "a",
        pytest.param("x" * 15, id="15 characters"),
        "with space",
        " padded",
        "dots.are.not.allowed",
        "é-accent",
        "tab\t",
    ],
)
def test_a_telegram_secret_token_against_telegrams_rule_stops_the_start(secret):
    with pytest.raises(SettingsError) as refused:
        Settings.from_env({"TELEGRAM_SECRET_TOKEN": secret})
    assert str(refused.value) == f"TELEGRAM_SECRET_TOKEN: {TELEGRAM_RULE}"
    assert "never-printed-0123" not in repr(Settings.from_env({"TELEGRAM_SECRET_TOKEN": "never-printed-0123"}))


def test_the_rasa_server_does_not_start_with_a_bad_telegram_secret_token():
    """Checked with the other settings before Rasa loads anything, whatever the credentials file says."""
    env = {"PATH": "/usr/bin:/bin", "RASA_TELEMETRY_ENABLED": "false", "TELEGRAM_SECRET_TOKEN": "not valid!"}
    started = subprocess.run(
        [sys.executable, "-m", "bot.launch.rasa_run", "--help"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert started.returncode == 1
    assert started.stderr.strip() == f"error: TELEGRAM_SECRET_TOKEN: {TELEGRAM_RULE}"


@pytest.mark.parametrize("secret", [None, "", "not valid!", 12345])
def test_a_credentials_file_with_a_bad_telegram_secret_token_is_refused(secret):
    """A credentials file written by hand: the channel itself refuses to start without a usable token."""
    credentials = {"access_token": "1:t", "verify": "careerbot_bot", "webhook_url": TELEGRAM["TELEGRAM_WEBHOOK_URL"]}
    if secret is not None:
        credentials["secret_token"] = secret
    with pytest.raises(RasaException) as refused:
        CareerTelegramInput.from_credentials(credentials)
    assert str(refused.value) == f"the Telegram channel's secret_token (TELEGRAM_SECRET_TOKEN): {TELEGRAM_RULE}"


def test_a_credentials_file_without_the_telegram_webhook_url_is_refused():
    with pytest.raises(RasaException, match=r"needs webhook_url \(TELEGRAM_WEBHOOK_URL\)"):
        CareerTelegramInput.from_credentials({"access_token": "1:t", "verify": "b", "secret_token": "s" * 16})
