from __future__ import annotations

import logging

import pytest

from bot import KNOWLEDGE_DIR
from bot.settings import Settings, SettingsError


def test_defaults_are_loopback_and_module_relative():
    settings = Settings.from_env({})
    assert settings.knowledge_dir == KNOWLEDGE_DIR
    assert (settings.rasa_host, settings.rasa_port) == ("127.0.0.1", 5005)
    assert settings.action_endpoint_url == "http://127.0.0.1:5055/webhook"


@pytest.mark.parametrize("value", ["abc", "0", "70000", "5.5"])
def test_bad_port_fails_fast_naming_the_variable(value):
    with pytest.raises(SettingsError, match=f"CAREERBOT_RASA_PORT={value!r}: expected a port number"):
        Settings.from_env({"CAREERBOT_RASA_PORT": value})


def test_missing_knowledge_directory_fails_fast(tmp_path):
    with pytest.raises(SettingsError, match="CAREERBOT_KNOWLEDGE_DIR.*expected an existing directory"):
        Settings.from_env({"CAREERBOT_KNOWLEDGE_DIR": str(tmp_path / "missing")})


@pytest.mark.parametrize(
    "value, expected",
    [
        ("", {"validator", "events", "http", "gc"}),
        ("all", {"validator", "events", "http", "gc"}),
        ("none", set()),
        ("gc, events", {"gc", "events"}),
        ("VALIDATOR", {"validator"}),
    ],
)
def test_speedups_are_chosen_by_name(value, expected):
    assert Settings.from_env({"CAREERBOT_SPEEDUPS": value}).speedups == expected


def test_an_unknown_speedup_fails_fast_listing_the_known_ones():
    with pytest.raises(SettingsError, match="CAREERBOT_SPEEDUPS: unknown turbo; expected all, none or .*validator"):
        Settings.from_env({"CAREERBOT_SPEEDUPS": "gc,turbo"})


def test_hardening_defaults():
    settings = Settings.from_env({})
    assert settings.max_body_bytes == 64 * 1024
    assert settings.action_timeout_s == 5.0
    assert settings.log_content is False
    assert settings.rest_token is None and settings.session_secret is None


@pytest.mark.parametrize(
    "name, value, expected",
    [
        ("CAREERBOT_MAX_BODY_BYTES", "-1", "expected a positive whole number"),
        ("CAREERBOT_MAX_BODY_BYTES", "1.5", "expected a positive whole number"),
        ("CAREERBOT_ACTION_TIMEOUT", "0", "expected a positive number"),
        ("CAREERBOT_LOG_CONTENT", "maybe", "expected true or false"),
        ("CAREERBOT_REST_TOKEN", "short", "expected at least 16 characters"),
        ("CAREERBOT_SESSION_SECRET", "short", "expected at least 16 characters"),
        ("CAREERBOT_REVIEW_TOKEN", "short", "expected at least 16 characters"),
    ],
)
def test_hardening_settings_fail_fast(name, value, expected):
    with pytest.raises(SettingsError, match=f"{name}.*{expected}"):
        Settings.from_env({name: value})


def test_handoff_delivery_is_off_by_default():
    settings = Settings.from_env({})
    assert not settings.handoff.configured and settings.handoff_contact is None


def test_handoff_smtp_and_webhook_settings():
    handoff = Settings.from_env(
        {
            "CAREERBOT_HANDOFF_SMTP_URL": "smtp://us%40er:p%3Ass@mail.example.com:587?starttls=true",
            "CAREERBOT_HANDOFF_EMAIL_TO": "a@example.com, b@example.com",
            "CAREERBOT_HANDOFF_EMAIL_FROM": "bot@example.com",
            "CAREERBOT_HANDOFF_WEBHOOK_URL": "https://desk.example.com/hook",
            "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "x" * 16,
        }
    ).handoff
    assert handoff.configured
    smtp = handoff.smtp
    assert (smtp.host, smtp.port, smtp.tls, smtp.starttls, smtp.username, smtp.password) == (
        "mail.example.com",
        587,
        False,
        True,
        "us@er",
        "p:ss",
    )
    assert "p:ss" not in repr(handoff) and "x" * 16 not in repr(handoff)
    assert handoff.email_to == ("a@example.com", "b@example.com")
    assert (
        Settings.from_env(
            {
                "CAREERBOT_HANDOFF_SMTP_URL": "smtps://mail.example.com",
                "CAREERBOT_HANDOFF_EMAIL_TO": "a@example.com",
                "CAREERBOT_HANDOFF_EMAIL_FROM": "bot@example.com",
            }
        ).handoff.smtp.port
        == 465
    )


@pytest.mark.parametrize(
    "env, message",
    [
        ({"CAREERBOT_HANDOFF_SMTP_URL": "http://mail.example.com"}, "expected smtp://"),
        ({"CAREERBOT_HANDOFF_SMTP_URL": "smtp://mail.example.com:99999"}, "expected smtp://"),
        ({"CAREERBOT_HANDOFF_SMTP_URL": "smtp://mail.example.com?tls=1"}, "unknown option tls"),
        ({"CAREERBOT_HANDOFF_SMTP_URL": "smtp://mail.example.com?starttls=maybe"}, "expected true or false"),
        ({"CAREERBOT_HANDOFF_SMTP_URL": "smtp://mail.example.com"}, "EMAIL_TO and CAREERBOT_HANDOFF_EMAIL_FROM"),
        ({"CAREERBOT_HANDOFF_EMAIL_TO": "a@example.com"}, "SMTP_URL is not"),
        (
            {
                "CAREERBOT_HANDOFF_SMTP_URL": "smtp://m.example.com",
                "CAREERBOT_HANDOFF_EMAIL_TO": "not-an-address",
                "CAREERBOT_HANDOFF_EMAIL_FROM": "bot@example.com",
            },
            "expected an e-mail address",
        ),
        ({"CAREERBOT_HANDOFF_WEBHOOK_URL": "ftp://x"}, "expected an http"),
        ({"CAREERBOT_HANDOFF_WEBHOOK_URL": "https://x.example.com"}, "SECRET must be set"),
        (
            {"CAREERBOT_HANDOFF_WEBHOOK_URL": "https://x.example.com", "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "short"},
            "at least 16",
        ),
        ({"CAREERBOT_HANDOFF_RETRY_MAX_S": "-1"}, "positive"),
    ],
)
def test_malformed_handoff_settings_fail_fast(env, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


def test_the_store_url_is_shown_without_its_password():
    settings = Settings.from_env({"CAREERBOT_TRACKER_URL": "postgresql://bot:s3cret@db:5432/careerbot"})
    assert settings.tracker_url_display == "postgresql://bot:***@db:5432/careerbot"


@pytest.mark.parametrize("value, expected", [("", True), ("true", True), ("off", False), ("false", False)])
def test_reading_in_context_is_on_unless_switched_off(value, expected):
    assert Settings.from_env({"CAREERBOT_READ_IN_CONTEXT": value}).read_in_context is expected


def test_a_malformed_context_switch_fails_fast_naming_the_variable():
    with pytest.raises(SettingsError, match="CAREERBOT_READ_IN_CONTEXT"):
        Settings.from_env({"CAREERBOT_READ_IN_CONTEXT": "sometimes"})


def test_platform_api_addresses_are_checked_urls():
    from bot.settings import PlatformAPIs

    apis = PlatformAPIs.from_env({"CAREERBOT_SLACK_API_URL": "http://127.0.0.1:9000/api/"})
    assert apis.slack == "http://127.0.0.1:9000/api/" and apis.telegram is None and apis.twilio_public_url is None
    with pytest.raises(SettingsError, match="CAREERBOT_TWILIO_PUBLIC_URL='bot.example.com': expected an http"):
        PlatformAPIs.from_env({"CAREERBOT_TWILIO_PUBLIC_URL": "bot.example.com"})


def test_log_level_and_offtopic_dir(tmp_path):
    from bot.settings import log_level, offtopic_dir

    assert log_level({}) == logging.INFO and log_level({"LOG_LEVEL": " debug "}) == "DEBUG"
    with pytest.raises(SettingsError, match="LOG_LEVEL='LOUD'"):
        log_level({"LOG_LEVEL": "loud"})
    assert offtopic_dir(tmp_path / "default", {}) == tmp_path / "default"
    assert offtopic_dir(tmp_path / "default", {"CAREERBOT_OFFTOPIC_DIR": str(tmp_path)}) == tmp_path


def test_a_short_token_is_refused_at_start():
    with pytest.raises(SettingsError, match="CAREERBOT_RASA_API_TOKEN"):
        Settings.from_env({"CAREERBOT_RASA_API_TOKEN": "secret"})
