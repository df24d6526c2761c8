"""The real servers (bot/launch/serve.py) on free loopback ports, and how the tests talk to them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest
import requests

from bot import PROJECT_DIR
from bot.launch.processes import free_port
from bot.launch.serve import Servers
from bot.settings import Settings

MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"
DEFAULT_CAREER = "mortgage_servicing_specialist"


def local_settings(tracker_url: str, **env: str) -> Settings:
    """Settings for servers on free loopback ports with the given store; `env` adds CAREERBOT_* variables."""
    return Settings.from_env(
        {
            "CAREERBOT_RASA_PORT": str(free_port()),
            "CAREERBOT_ACTION_PORT": str(free_port()),
            "CAREERBOT_WIDGET_PORT": str(free_port()),
            "CAREERBOT_TRACKER_URL": tracker_url,
            # The site's default career, as `make run` has it; a test may set another or "" for none.
            "CAREERBOT_CAREER": os.environ.get("CAREERBOT_CAREER", DEFAULT_CAREER),
            **env,
        }
    )


def running(
    workdir: Path, tracker_url: Optional[str] = None, extra_env: Optional[Dict[str, str]] = None, **env: str
) -> Iterator[Servers]:
    """For a fixture: the action, Rasa and widget servers, stopped when the fixture ends."""
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train`"
    settings = local_settings(tracker_url or f"sqlite:///{workdir / 'tracker.db'}", **env)
    with Servers(settings, MODEL, log_dir=workdir / "logs", extra_env=extra_env) as servers:
        yield servers


def say(servers: Servers, sender: str, message: str) -> List[Dict[str, Any]]:
    """The bot's replies to `message` over the REST webhook (which must answer 200)."""
    response = requests.post(
        f"{servers.rasa_url}/webhooks/rest/webhook", json={"sender": sender, "message": message}, timeout=30
    )
    assert response.status_code == 200
    replies: List[Dict[str, Any]] = response.json()
    return replies


def text(messages: List[Dict[str, Any]]) -> str:
    return "\n".join(m.get("text", "") for m in messages)


def buttons(messages: List[Dict[str, Any]]) -> List[Dict[str, Any]]:
    return [b for m in messages for b in m.get("buttons", [])]


def slot_values(servers: Servers, sender: str, slot: str) -> List[Any]:
    """Every value the conversation store holds for `slot` in `sender`'s conversation, in order."""
    import json

    import sqlalchemy as sa

    engine = sa.create_engine(servers.settings.tracker_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'slot' ORDER BY id"),
                {"s": sender},
            )
            values = [json.loads(r[0]) for r in rows]
    finally:
        engine.dispose()
    return [v["value"] for v in values if v.get("name") == slot]


def chattr(flag: str, path: Path) -> None:
    """Sets or clears an ext4 attribute (`+i`: immutable, even for root).

    Setting one takes root (CAP_LINUX_IMMUTABLE) and a file system that has them: elsewhere
    the test is skipped with the reason, rather than failing on a CalledProcessError.
    """
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        why = done.stderr.strip() or f"exit {done.returncode}"
        if flag.startswith("+") and (os.geteuid() != 0 or "not supported" in why):
            pytest.skip(f"chattr {flag} is not possible here ({why}): store-fault tests need root on ext4")
        raise AssertionError(f"chattr {flag} {path}: {why}")


def immutable_dir(directory: Path) -> Iterator[Path]:
    """For a fixture: a directory in which no database file can be created until a test allows it."""
    chattr("+i", directory)
    yield directory
    chattr("-i", directory)


def age_conversation(tracker_url: str, sender: str, seconds: float) -> None:
    """Moves a stored conversation `seconds` into the past, as if it had happened then.

    Rasa decides that a session expired from the timestamps of the stored
    events (the column and the event's JSON), so a real Rasa server treats the
    visitor's next message as a return after that long.
    """
    import sqlalchemy as sa

    engine = sa.create_engine(tracker_url)
    try:
        with engine.begin() as connection:
            connection.execute(
                sa.text(
                    "UPDATE events SET timestamp = timestamp - :s, "
                    "data = json_set(data, '$.timestamp', json_extract(data, '$.timestamp') - :s) "
                    "WHERE sender_id = :sender"
                ),
                {"s": seconds, "sender": sender},
            )
    finally:
        engine.dispose()
