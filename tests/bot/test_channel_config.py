"""Channels switch on when their environment variables are set, and only then."""

from __future__ import annotations

from bot.launch.channel_config import SOURCE, parse_channels, select, write_enabled

SLACK = {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"}


def names(text):
    return [c.name for c in parse_channels(text)]


def test_only_the_web_channels_without_any_variable():
    text, disabled = select(SOURCE.read_text(), {})
    assert names(text) == ["bot.channels.health.HealthInput", "bot.channels.rest.ValidatingRestInput",
                           "bot.channels.socketio.CareerSocketIOInput"]
    assert disabled["bot.channels.slack.CareerSlackInput"] == ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"]
    assert set(disabled) == {"bot.channels.slack.CareerSlackInput", "bot.channels.telegram.CareerTelegramInput", "facebook",
                             "bot.channels.twilio.CareerTwilioInput", "bot.channels.twilio.CareerTwilioWhatsAppInput"}


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
