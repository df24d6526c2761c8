"""Shared test helpers: the real knowledge, the real domain, and running actions."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bot import PACKAGE_DIR, PROJECT_DIR  # noqa: E402
from bot.knowledge import KnowledgeBase  # noqa: E402

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase.load(PACKAGE_DIR / "knowledge")


@pytest.fixture(scope="session")
def career(knowledge):
    return knowledge.career()


@pytest.fixture(scope="session")
def fixture_knowledge() -> KnowledgeBase:
    return KnowledgeBase.load(FIXTURES / "knowledge")


@pytest.fixture(scope="session")
def rasa_domain():
    from rasa.shared.core.domain import Domain

    return Domain.load(str(PROJECT_DIR / "domain.yml"))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def free_ports():
    return free_port


@pytest.fixture(scope="module")
def servers(tmp_path_factory, free_ports, fake_platform):
    """The real action server, Rasa server and widget server, on free loopback ports.

    Handoffs are delivered to a local webhook receiver (`servers.handoff_hook`),
    so the handoff form is on as on a configured site.
    """
    from bot.serve import Servers
    from bot.settings import Settings

    workdir = tmp_path_factory.mktemp("servers")
    settings = Settings.from_env({
        "CAREERBOT_RASA_PORT": str(free_ports()),
        "CAREERBOT_ACTION_PORT": str(free_ports()),
        "CAREERBOT_WIDGET_PORT": str(free_ports()),
        "CAREERBOT_TRACKER_URL": f"sqlite:///{workdir / 'tracker.db'}",
    })
    model = PROJECT_DIR / "models" / "careerbot.tar.gz"
    assert model.exists(), f"no trained model at {model}: run `make train`"
    hook = fake_platform({})
    env = {"CAREERBOT_HANDOFF_WEBHOOK_URL": f"{hook.url}/handoffs",
           "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "test-secret-for-the-webhook"}
    with Servers(settings, model, log_dir=workdir / "logs", extra_env=env) as running:
        running.handoff_hook = hook
        yield running


class FakePlatform:
    """A local stand-in for a messaging platform's API on 127.0.0.1.

    It records every request and answers from `routes`: {path suffix: JSON}.
    """

    def __init__(self, routes):
        import json
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
        from urllib.parse import parse_qs

        self.requests = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type", "")
                if "json" in kind:
                    data = json.loads(body or b"{}")
                elif "urlencoded" in kind:
                    data = {k: v[0] for k, v in parse_qs(body.decode()).items()}
                else:
                    data = {"raw": body.decode(errors="replace")}
                fake.requests.append((self.path, data))
                answer = next((v for k, v in routes.items() if self.path.endswith(k)), {"ok": True})
                payload = json.dumps(answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def calls(self, method):
        return [data for path, data in self.requests if path.endswith(method)]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="session")
def fake_platform():
    """Starts FakePlatform servers: fake_platform(routes); all are closed at the end."""
    created = []

    def make(routes):
        fake = FakePlatform(routes)
        created.append(fake)
        return fake

    yield make
    for fake in created:
        fake.close()


def age_conversation(tracker_url: str, sender: str, seconds: float) -> None:
    """Moves a stored conversation `seconds` into the past, as if it had happened then.

    Rasa decides that a session expired from the timestamps of the stored
    events (the column and the event's JSON), so a real Rasa server treats the
    visitor's next message as a return after that long.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(tracker_url)
    with engine.begin() as connection:
        connection.execute(sa.text(
            "UPDATE events SET timestamp = timestamp - :s, "
            "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - :s) "
            "WHERE sender_id = :sender"), {"s": seconds, "sender": sender})
    engine.dispose()


def say(rasa_url: str, sender: str, message: str):
    """One REST turn; the bot's messages."""
    import requests

    response = requests.post(f"{rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message},
                             timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(condition, timeout: float = 60.0, what: str = "the condition"):
    """Polls `condition` until it returns something truthy; fails after `timeout` seconds."""
    import time

    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


@pytest.fixture(scope="session")
def helpers():
    """age_conversation, say and wait_for, for tests that drive real servers."""
    from types import SimpleNamespace

    return SimpleNamespace(age_conversation=age_conversation, say=say, wait_for=wait_for)
