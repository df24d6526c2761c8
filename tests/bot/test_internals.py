"""The one door to Rasa's internals (bot/rasa/internals.py): what it replaces is still there, as it was.

If a Rasa (or rasa-sdk, Sanic) upgrade renames a replaced attribute or changes
its parameters, the first test fails, naming the replacement: fix the
replacement, then its entry. The others check that nothing is replaced
unless a launcher asks, that tests can put everything back, and that the
conversation store never falls back to memory silently.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

from bot import PROJECT_DIR
from bot.launch.rasa_run import tracker_store_problem
from bot.rasa import internals
from bot.settings import Settings

MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"


@pytest.fixture
def restore_rasa():
    yield
    internals.restore()


@pytest.mark.parametrize("key", sorted(internals.REPLACEMENTS))
def test_every_replaced_attribute_is_still_there_as_it_was(key):
    replacement = internals.REPLACEMENTS[key]
    owner, name = replacement.owner_and_name()
    assert hasattr(owner, name), f"{replacement.target} is gone: {replacement.why}"
    current = internals.original(key)
    if replacement.parameters is None:
        assert isinstance(current, (int, float)), f"{replacement.target} is no longer a number"
        return
    function = getattr(current, "__func__", current)  # a staticmethod in the class dictionary
    assert tuple(inspect.signature(function).parameters) == replacement.parameters, replacement.target


def test_docs_architecture_lists_every_replacement_and_no_other():
    text = (PROJECT_DIR / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = text.split("## Rasa's internals: one door", 1)[1]
    listed = re.findall(r"^\| `(\w+)` \|", section, re.MULTILINE)
    assert sorted(listed) == sorted(internals.REPLACEMENTS)


def test_nothing_is_replaced_on_import_or_when_rasa_builds_the_nlg():
    """A fresh interpreter imports every plugin and channel and builds the NLG, as Rasa does on start."""
    code = """
import importlib, pkgutil
import bot.channels, bot.rasa
for package in (bot.channels, bot.rasa):
    for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
        importlib.import_module(module.name)
from rasa.shared.core.domain import Domain
from bot.rasa.internals import REPLACEMENTS
from bot.rasa.rendering import ChannelRenderingNLG
ChannelRenderingNLG(domain=Domain.load("domain.yml"))
changed = []
for key, replacement in REPLACEMENTS.items():
    owner, name = replacement.owner_and_name()
    value = getattr(owner, name)
    if getattr(value, "__module__", "").startswith("bot") or (replacement.parameters is None and value != 300):
        changed.append(key)
print("changed:", changed)
"""
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "changed: []" in done.stdout


def test_restore_puts_back_every_attribute_the_launchers_replace(restore_rasa):
    before = {}
    for key, replacement in internals.REPLACEMENTS.items():
        owner, name = replacement.owner_and_name()
        before[key] = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
    internals.install_in_rasa_server(Settings.from_env({}), redact_logs=True)
    internals.install_in_action_server()
    assert internals.replaced() == sorted(internals.REPLACEMENTS)
    internals.restore()
    assert internals.replaced() == []
    for key, replacement in internals.REPLACEMENTS.items():
        owner, name = replacement.owner_and_name()
        after = owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)
        assert after is before[key] or after == before[key], key


def test_a_store_failure_reaches_the_request_through_rasas_own_fail_safe_store(tmp_path, rasa_domain, restore_rasa):
    """Rasa's Agent wraps the store in a fail-safe one without a callback; the door gives it one."""
    from rasa.core.agent import Agent
    from rasa.shared.core.trackers import DialogueStateTracker

    from bot.rasa.tracker_store import CareerSQLTrackerStore

    internals.install_store_error_reports()
    store = CareerSQLTrackerStore(rasa_domain, host=f"sqlite:///{tmp_path / 'missing' / 'tracker.db'}")
    agent = Agent(domain=rasa_domain, tracker_store=store)

    async def turn() -> list:
        failures = internals.track_store_failures()
        await agent.tracker_store.save(DialogueStateTracker("someone", rasa_domain.slots))
        return failures

    failures = asyncio.run(turn())
    assert len(failures) == 1 and "unable to open database file" in failures[0]


def test_the_projects_endpoints_name_a_store_that_imports():
    assert tracker_store_problem(["--endpoints", str(PROJECT_DIR / "endpoints.yml")]) is None


@pytest.mark.model
def test_a_store_that_cannot_be_imported_stops_the_rasa_server_with_the_reason(tmp_path):
    endpoints = tmp_path / "endpoints.yml"
    source = (PROJECT_DIR / "endpoints.yml").read_text()
    assert "type: bot.rasa.tracker_store.CareerSQLTrackerStore" in source
    endpoints.write_text(source.replace("bot.rasa.tracker_store.CareerSQLTrackerStore", "bot.tracker_store.Gone"))
    done = subprocess.run(
        [sys.executable, "-m", "bot.launch.rasa_run", "--model", str(MODEL), "--endpoints", str(endpoints)],
        cwd=PROJECT_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={**_environment(), "CAREERBOT_TRACKER_URL": f"sqlite:///{tmp_path / 't.db'}"},
    )
    assert done.returncode != 0
    assert "the tracker store 'bot.tracker_store.Gone'" in done.stderr and "cannot be imported" in done.stderr
    assert "InMemoryTrackerStore" not in done.stdout + done.stderr


def _environment() -> dict:
    import os

    return {**os.environ, "RASA_TELEMETRY_ENABLED": "false", "PYTHONPATH": str(Path(PROJECT_DIR))}


def test_the_telegram_output_may_skip_rasas_constructor():
    """bot/channels/telegram.py builds aiogram's Bot itself (to point it at another API server) instead of
    calling TelegramOutput.__init__: right only while that constructor does nothing but pass the token on."""
    import ast
    import inspect
    import textwrap

    from aiogram import Bot
    from rasa.core.channels.telegram import TelegramOutput

    assert TelegramOutput.__bases__[0] is Bot  # super().__init__ below is aiogram's Bot.__init__
    assert list(inspect.signature(TelegramOutput.__init__).parameters) == ["self", "access_token"]
    [function] = ast.parse(textwrap.dedent(inspect.getsource(TelegramOutput.__init__))).body
    assert [ast.unparse(statement) for statement in function.body] == ["super().__init__(access_token)"]
    assert "server" in inspect.signature(Bot.__init__).parameters
