"""Shared test helpers: the real knowledge, the real domain, and running actions."""

from __future__ import annotations

import asyncio
import os
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
