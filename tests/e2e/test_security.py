"""Rasa's HTTP API is off unless a token protects it."""

from __future__ import annotations

import pytest
import requests

from bot import PROJECT_DIR
from bot.serve import Servers
from bot.settings import Settings, SettingsError

TOKEN = "test-token-0123456789abcdef"


def test_the_http_api_is_off_by_default(servers):
    response = requests.get(f"{servers.rasa_url}/conversations/anyone/tracker", timeout=10)
    assert response.status_code == 404
    assert requests.get(f"{servers.rasa_url}/status", timeout=10).status_code == 404


def test_with_a_token_the_api_needs_it(tmp_path, free_ports):
    settings = Settings.from_env({
        "CAREERBOT_RASA_PORT": str(free_ports()), "CAREERBOT_ACTION_PORT": str(free_ports()),
        "CAREERBOT_WIDGET_PORT": str(free_ports()), "CAREERBOT_TRACKER_URL": f"sqlite:///{tmp_path / 't.db'}",
        "CAREERBOT_RASA_API_TOKEN": TOKEN,
    })
    with Servers(settings, PROJECT_DIR / "models" / "careerbot.tar.gz", log_dir=tmp_path / "logs") as servers:
        assert requests.get(f"{servers.rasa_url}/status", timeout=10).status_code == 401
        assert requests.get(f"{servers.rasa_url}/status", params={"token": "wrong-token-0123456789"},
                            timeout=10).status_code == 401
        assert requests.get(f"{servers.rasa_url}/status", params={"token": TOKEN}, timeout=10).status_code == 200


def test_a_short_token_is_refused_at_start():
    with pytest.raises(SettingsError, match="CAREERBOT_RASA_API_TOKEN"):
        Settings.from_env({"CAREERBOT_RASA_API_TOKEN": "secret"})


def test_the_action_server_listens_on_loopback_only(servers):
    assert servers.settings.action_host == "127.0.0.1"
    import socket

    with socket.socket() as s:
        s.settimeout(1)
        # Not reachable on another local address than loopback.
        assert s.connect_ex(("127.0.0.2", servers.settings.action_port)) != 0
