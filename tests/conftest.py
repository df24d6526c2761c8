"""Shared fixtures: the real knowledge, the real domain, the real servers (helpers: tests/support/)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")

from bot import KNOWLEDGE_DIR, PROJECT_DIR
from bot.knowledge import KnowledgeBase
from bot.launch.processes import free_port
from tests.support.fakes import FakePlatform
from tests.support.servers import DEFAULT_CAREER, running

# The site's default career, as `make run` serves it (the Makefile exports the same).
os.environ.setdefault("CAREERBOT_CAREER", DEFAULT_CAREER)

FIXTURES = Path(__file__).resolve().parent / "fixtures"

# The tiers of pytest.ini, by directory; a test elsewhere that needs one carries its mark.
TIERS_BY_DIRECTORY = {
    "e2e": ("e2e", "model"),
    "widget": ("browser", "e2e", "model"),
    "nlu": ("model",),
}


# The directories whose files take longest (the NLU sets parsed, Chromium driven) run first,
# so that make test-python's two processes (--dist loadfile) do not end with one of them alone.
FIRST = ("nlu", "widget")


def pytest_collection_modifyitems(config, items):
    tests = Path(__file__).resolve().parent

    def place(item) -> int:
        part = Path(item.fspath).resolve().relative_to(tests).parts[0]
        return FIRST.index(part) if part in FIRST else len(FIRST)

    items.sort(key=place)  # stable: a file's tests keep their order
    for item in items:
        relative = Path(item.fspath).resolve().relative_to(tests)
        for mark in TIERS_BY_DIRECTORY.get(relative.parts[0], ()):
            item.add_marker(mark)
        # The module-scoped servers start Rasa with the trained model.
        if "servers" in item.fixturenames:
            item.add_marker("e2e")
            item.add_marker("model")
        if "browser" in item.fixturenames:
            item.add_marker("browser")


@pytest.fixture(scope="session")
def knowledge() -> KnowledgeBase:
    return KnowledgeBase.load(KNOWLEDGE_DIR, DEFAULT_CAREER)


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


@pytest.fixture(autouse=True)
def rasa_as_installed():
    """Every test leaves Rasa's code and the garbage collector as it found them.

    A test that switches a replacement of bot/rasa/internals.py on (a speed-up, a log
    hook) or freezes the collector would otherwise change every test after it.
    """
    import gc

    from bot.rasa import internals

    yield
    internals.restore()
    gc.unfreeze()


@pytest.fixture(scope="session")
def free_ports():
    return free_port


@pytest.fixture(scope="module")
def servers(tmp_path_factory, fake_platform):
    """The real action server, Rasa server and widget server, on free loopback ports.

    Handoffs are delivered to a local webhook receiver (`servers.handoff_hook`),
    so the handoff form is on as on a configured site.
    """
    hook = fake_platform({})
    env = {
        "CAREERBOT_HANDOFF_WEBHOOK_URL": f"{hook.url}/handoffs",
        "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "test-secret-for-the-webhook",
    }
    for running_servers in running(tmp_path_factory.mktemp("servers"), extra_env=env):
        running_servers.handoff_hook = hook
        yield running_servers


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
