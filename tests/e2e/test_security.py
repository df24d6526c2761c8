"""Rasa's HTTP API is off unless a token protects it."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Set

import pytest
import requests

from tests.support.servers import running

TOKEN = "test-token-0123456789abcdef"


def test_the_http_api_is_off_by_default(servers):
    response = requests.get(f"{servers.rasa_url}/conversations/anyone/tracker", timeout=10)
    assert response.status_code == 404
    assert requests.get(f"{servers.rasa_url}/status", timeout=10).status_code == 404


def test_with_a_token_the_api_needs_it(tmp_path):
    for servers in running(tmp_path, CAREERBOT_RASA_API_TOKEN=TOKEN):
        assert requests.get(f"{servers.rasa_url}/status", timeout=10).status_code == 401
        assert (
            requests.get(
                f"{servers.rasa_url}/status", params={"token": "wrong-token-0123456789"}, timeout=10
            ).status_code
            == 401
        )
        assert requests.get(f"{servers.rasa_url}/status", params={"token": TOKEN}, timeout=10).status_code == 200


def listening_addresses(port: int) -> Set[str]:
    """The IPv4 and IPv6 addresses on which some process listens on TCP `port`, as the kernel lists them."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.rsplit(":", 1)
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


@pytest.mark.parametrize("server", ["actions", "rasa", "widget"])
def test_every_server_listens_on_loopback_only(servers, server):
    port = {
        "actions": servers.settings.action_port,
        "rasa": servers.settings.rasa_port,
        "widget": servers.settings.widget_port,
    }[server]
    # 127.0.0.1 as /proc/net/tcp writes it (little-endian hex); 0.0.0.0 or :: would be every interface.
    assert listening_addresses(port) == {"0100007F"}
    with socket.socket() as s:
        s.settimeout(1)
        # Every 127.x address reaches this machine, so a server bound to all interfaces would answer here.
        assert s.connect_ex(("127.0.0.2", port)) != 0
