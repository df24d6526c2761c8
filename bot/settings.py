"""Every setting the project reads from the environment, typed and checked once.

A bad value stops the program with a message naming the variable and what it
expected, instead of failing later somewhere else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import FrozenSet, List, Mapping, Optional, Tuple

from bot import KNOWLEDGE_DIR, PROJECT_DIR


class SettingsError(ValueError):
    """An environment variable holds a value the project cannot use."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r}: expected a port number (1-65535)") from None
    if not 1 <= value <= 65535:
        raise SettingsError(f"{name}={raw!r}: expected a port number (1-65535)")
    return value


def _directory(env: Mapping[str, str], name: str, default: Path, must_exist: bool) -> Path:
    raw = env.get(name, "").strip()
    path = Path(raw).expanduser().resolve() if raw else default
    if must_exist and not path.is_dir():
        raise SettingsError(f"{name}={str(path)!r}: expected an existing directory")
    return path


def _origins(env: Mapping[str, str], name: str, default: Tuple[str, ...]) -> List[str]:
    raw = env.get(name, "").strip()
    if not raw:
        return list(default)
    origins = [o.strip().rstrip("/") for o in raw.split(",") if o.strip()]
    for origin in origins:
        if origin != "*" and not re.match(r"^https?://[^/\s]+$", origin):
            raise SettingsError(f"{name}: {origin!r}: expected an origin such as https://example.com, or *")
    return origins


SPEEDUPS = ("validator", "events", "http", "gc")


def _speedups(env: Mapping[str, str], name: str) -> FrozenSet[str]:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "all"):
        return frozenset(SPEEDUPS)
    if raw == "none":
        return frozenset()
    chosen = {part.strip() for part in raw.split(",") if part.strip()}
    unknown = sorted(chosen - set(SPEEDUPS))
    if unknown:
        raise SettingsError(
            f"{name}: unknown {', '.join(unknown)}; expected all, none or a comma-separated "
            f"list of {', '.join(SPEEDUPS)}"
        )
    return frozenset(chosen)


def _positive(env: Mapping[str, str], name: str, default: float, kind: type = float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = 0
    if value <= 0:
        raise SettingsError(f"{name}={raw!r}: expected a positive {'whole ' if kind is int else ''}number")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={raw!r}: expected true or false")


def _token(env: Mapping[str, str], name: str) -> Optional[str]:
    raw = env.get(name, "").strip()
    if raw and len(raw) < 16:
        raise SettingsError(f"{name}: expected at least 16 characters (a long random token)")
    return raw or None


@dataclass(frozen=True)
class Settings:
    knowledge_dir: Path
    career: Optional[str]
    spacy_model_dir: Path
    models_dir: Path
    rasa_host: str
    rasa_port: int
    action_host: str
    action_port: int
    widget_host: str
    widget_port: int
    # Web pages allowed to open the widget's socket.io connection.
    cors_origins: List[str]
    # SQLAlchemy URL of the conversation store: sqlite:///path or postgresql://...
    tracker_url: str
    # Who takes over when a user asks for a person, as the bot names it.
    handoff_route: str
    # Rasa's HTTP API (tracker, model, events endpoints) is enabled only with this token.
    rasa_api_token: Optional[str] = None
    # Rasa hot paths done once instead of per message (bot/rasa/speedups.py); all by default.
    speedups: FrozenSet[str] = frozenset(SPEEDUPS)
    # Larger request bodies are refused with 413 before they are read in full.
    max_body_bytes: int = 64 * 1024
    # REST is for server-to-server use: with this set, a request must carry it (X-Careerbot-Token).
    rest_token: Optional[str] = None
    # Seconds Rasa waits for the action server before it apologises.
    action_timeout_s: float = 5.0
    # Log what visitors typed (message text, e-mail addresses, conversation ids); off by default.
    log_content: bool = False
    # Signs the widget's conversation ids; several Rasa instances must share it.
    session_secret: Optional[str] = None

    @property
    def action_endpoint_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}/webhook"

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        career = env.get("CAREERBOT_CAREER", "").strip() or None
        tracker_url = (
            env.get("CAREERBOT_TRACKER_URL", "").strip() or f"sqlite:///{PROJECT_DIR / 'var' / 'careerbot.db'}"
        )
        if not re.match(r"^(sqlite|postgresql(\+\w+)?)://", tracker_url):
            raise SettingsError(
                "CAREERBOT_TRACKER_URL: expected sqlite:///path/to/file.db or "
                "postgresql://user:password@host:port/database"
            )
        return cls(
            knowledge_dir=_directory(env, "CAREERBOT_KNOWLEDGE_DIR", KNOWLEDGE_DIR, must_exist=True),
            career=career,
            spacy_model_dir=_directory(
                env,
                "CAREERBOT_SPACY_MODEL",
                PROJECT_DIR / "build" / "spacy" / "careerbot_en",
                must_exist=False,
            ),
            models_dir=_directory(env, "CAREERBOT_MODELS_DIR", PROJECT_DIR / "models", must_exist=False),
            # Loopback by default: exposing the bot is a deliberate choice.
            rasa_host=env.get("CAREERBOT_RASA_HOST", "").strip() or "127.0.0.1",
            rasa_port=_port(env, "CAREERBOT_RASA_PORT", 5005),
            action_host=env.get("CAREERBOT_ACTION_HOST", "").strip() or "127.0.0.1",
            action_port=_port(env, "CAREERBOT_ACTION_PORT", 5055),
            widget_host=env.get("CAREERBOT_WIDGET_HOST", "").strip() or "127.0.0.1",
            widget_port=_port(env, "CAREERBOT_WIDGET_PORT", 8080),
            cors_origins=_origins(
                env,
                "CAREERBOT_CORS_ORIGINS",
                (
                    # The demo page of `make run`, by either local name.
                    f"http://127.0.0.1:{_port(env, 'CAREERBOT_WIDGET_PORT', 8080)}",
                    f"http://localhost:{_port(env, 'CAREERBOT_WIDGET_PORT', 8080)}",
                ),
            ),
            tracker_url=tracker_url,
            handoff_route=env.get("CAREERBOT_HANDOFF_ROUTE", "").strip() or "our careers team",
            rasa_api_token=_token(env, "CAREERBOT_RASA_API_TOKEN"),
            speedups=_speedups(env, "CAREERBOT_SPEEDUPS"),
            max_body_bytes=int(_positive(env, "CAREERBOT_MAX_BODY_BYTES", 64 * 1024, int)),
            rest_token=_token(env, "CAREERBOT_REST_TOKEN"),
            action_timeout_s=_positive(env, "CAREERBOT_ACTION_TIMEOUT", 5.0),
            log_content=_flag(env, "CAREERBOT_LOG_CONTENT"),
            session_secret=_token(env, "CAREERBOT_SESSION_SECRET"),
        )

    @property
    def sqlite_path(self) -> Optional[Path]:
        """The database file when the tracker store is SQLite."""
        return Path(self.tracker_url[len("sqlite:///") :]) if self.tracker_url.startswith("sqlite:///") else None
