from __future__ import annotations

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


@pytest.mark.parametrize("value, expected", [
    ("", {"validator", "events", "http", "gc"}), ("all", {"validator", "events", "http", "gc"}), ("none", set()),
    ("gc, events", {"gc", "events"}), ("VALIDATOR", {"validator"}),
])
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


@pytest.mark.parametrize("name, value, expected", [
    ("CAREERBOT_MAX_BODY_BYTES", "-1", "expected a positive whole number"),
    ("CAREERBOT_MAX_BODY_BYTES", "1.5", "expected a positive whole number"),
    ("CAREERBOT_ACTION_TIMEOUT", "0", "expected a positive number"),
    ("CAREERBOT_LOG_CONTENT", "maybe", "expected true or false"),
    ("CAREERBOT_REST_TOKEN", "short", "expected at least 16 characters"),
    ("CAREERBOT_SESSION_SECRET", "short", "expected at least 16 characters"),
])
def test_hardening_settings_fail_fast(name, value, expected):
    with pytest.raises(SettingsError, match=f"{name}.*{expected}"):
        Settings.from_env({name: value})
