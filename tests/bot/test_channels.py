"""One module per platform: switching on REST imports no other platform's module of ours."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot import PROJECT_DIR

PLATFORMS = ["rest", "socketio", "slack", "telegram", "twilio", "health"]


@pytest.mark.parametrize("platform", PLATFORMS)
def test_a_channel_module_imports_no_other_platforms_module(platform):
    """Rasa imports a channel by the class path in credentials.yml: only that module should come with it.

    (Rasa's own rasa.core.channels package imports every platform's SDK, aiogram and
    slack_sdk included, whichever channel is used; that is Rasa's, and both are in the lock file.)
    """
    code = (
        f"import sys, bot.channels.{platform}\nprint(sorted(m for m in sys.modules if m.startswith('bot.channels.')))"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_DIR, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    loaded = eval(done.stdout.strip().splitlines()[-1])  # our own subprocess's repr of a list
    others = {f"bot.channels.{p}" for p in PLATFORMS} - {f"bot.channels.{platform}"}
    assert others & set(loaded) == set()
