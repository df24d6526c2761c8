"""Shared test helpers: the real knowledge, the real domain, and running actions."""

from __future__ import annotations

import os
import socket
from pathlib import Path
from typing import Any, Dict, List, Optional

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
def servers(tmp_path_factory, free_ports):
    """The real action server, Rasa server and widget server, on free loopback ports."""
    from bot.serve import Servers
    from bot.settings import Settings

    settings = Settings.from_env({
        "CAREERBOT_RASA_PORT": str(free_ports()),
        "CAREERBOT_ACTION_PORT": str(free_ports()),
        "CAREERBOT_WIDGET_PORT": str(free_ports()),
    })
    model = PROJECT_DIR / "models" / "careerbot.tar.gz"
    assert model.exists(), f"no trained model at {model}: run `make train`"
    with Servers(settings, model, log_dir=tmp_path_factory.mktemp("logs")) as running:
        yield running
