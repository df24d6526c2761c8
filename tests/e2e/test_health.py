"""Health that tells the truth, and action calls that time out in seconds.

The real Rasa and action servers (bot.launch.serve.Servers) on loopback ports, a
real SQLite file. The findings: `GET /` said 200 (and named the Rasa version)
while a frozen action server made users wait a minute for an apology, and
nothing reported an unreachable conversation store. The store is made
unreachable as in test_store_faults.py: its directory is immutable
(`chattr +i`, which holds even for root), so the database cannot be created.
docker-compose.yml's restart policies and health checks are checked in
tests/bot/test_compose_settings.py.
"""

from __future__ import annotations

import os
import signal
import time
import uuid
from typing import Optional, Tuple

import pytest
import requests
import yaml

from bot import PROJECT_DIR
from bot.launch.processes import wait_until
from bot.launch.serve import Servers
from tests.support.servers import chattr, immutable_dir, running

ACTION_TIMEOUT_S = 2.0


def apology() -> str:
    domain = yaml.safe_load((PROJECT_DIR / "domain.yml").read_text())
    return domain["responses"]["utter_technical_problem"][0]["text"]


def wait_for_status(url: str, status: int, timeout: float = 30) -> requests.Response:
    def answer() -> Optional[Tuple[requests.Response]]:
        got = requests.get(url, timeout=10)
        return (got,) if got.status_code == status else None  # a Response is falsy for 4xx and 5xx

    return wait_until(answer, timeout, f"{url} answers {status}")[0]


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory):
    """A directory in which no database file can be created until a test allows it."""
    yield from immutable_dir(tmp_path_factory.mktemp("store"))


@pytest.fixture(scope="module")
def servers(store_dir, tmp_path_factory):
    yield from running(
        tmp_path_factory.mktemp("servers"),
        f"sqlite:///{store_dir / 'tracker.db'}",
        extra_env={"CAREERBOT_ACTION_TIMEOUT": str(ACTION_TIMEOUT_S)},
    )


def say(servers: Servers, message: str) -> requests.Response:
    return requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook",
        timeout=90,
        json={"sender": f"health-{uuid.uuid4().hex[:8]}", "message": message},
    )


def test_liveness_says_the_process_is_up(servers):
    answer = requests.get(f"{servers.rasa_url}/health/live", timeout=10)
    assert answer.status_code == 200 and answer.json() == {"status": "up"}


def test_root_still_answers_but_without_the_rasa_version(servers):
    import rasa

    answer = requests.get(f"{servers.rasa_url}/", timeout=10)
    assert answer.status_code == 200
    assert rasa.__version__ not in answer.text and "Rasa" not in answer.text


def test_readiness_is_503_while_the_store_cannot_be_reached_and_200_once_it_can(servers, store_dir):
    answer = requests.get(f"{servers.rasa_url}/health/ready", timeout=10)
    assert answer.status_code == 503
    checks = answer.json()["checks"]
    assert checks["conversation_store"]["ok"] is False
    assert checks["conversation_store_writes"]["ok"] is False
    assert checks["model"] == {"ok": True} and checks["action_server"] == {"ok": True}
    # Liveness is not readiness: the process is fine, a restart would not help.
    assert requests.get(f"{servers.rasa_url}/health/live", timeout=10).status_code == 200

    chattr("-i", store_dir)
    answer = wait_for_status(f"{servers.rasa_url}/health/ready", 200)
    assert answer.status_code == 200, answer.text
    assert answer.json()["status"] == "ready"


def test_a_frozen_action_server_gets_the_apology_in_seconds_and_readiness_503(servers, store_dir):
    """The finding: with the action server frozen, GET / said 200 and users waited 60 s for the apology."""
    chattr("-i", store_dir)  # if this test runs alone: the store works, this test is about the action server
    assert wait_for_status(f"{servers.rasa_url}/health/ready", 200).status_code == 200
    os.kill(servers.actions.pid, signal.SIGSTOP)
    try:
        started = time.monotonic()
        answer = say(servers, "how much do they earn?")
        waited = time.monotonic() - started
        assert answer.status_code == 200
        assert [m["text"] for m in answer.json()] == [apology()]
        # One action call runs out after the timeout; generous slack for a busy machine.
        assert waited < ACTION_TIMEOUT_S + 8, f"the apology took {waited:.1f} s"

        ready = requests.get(f"{servers.rasa_url}/health/ready", timeout=10)
        assert ready.status_code == 503
        assert ready.json()["checks"]["action_server"] == {"ok": False, "error": "no answer within 2 s"}
        assert ready.json()["checks"]["conversation_store"] == {"ok": True}
        assert ready.json()["checks"]["conversation_store_writes"] == {"ok": True}
    finally:
        os.kill(servers.actions.pid, signal.SIGCONT)
    assert wait_for_status(f"{servers.rasa_url}/health/ready", 200).status_code == 200
    answer = say(servers, "how much do they earn?")
    assert answer.status_code == 200 and "$24,000 to $42,000" in answer.json()[0]["text"]
