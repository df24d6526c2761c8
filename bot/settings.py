"""Every setting the project reads from the environment, typed and checked once.

A bad value stops the program with a message naming the variable and what it
expected, instead of failing later somewhere else.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, FrozenSet, List, Mapping, Optional, Tuple, Union
from urllib.parse import parse_qs, unquote, urlsplit

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


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name}={raw!r}: expected true or false")


def _token(env: Mapping[str, str], name: str) -> Optional[str]:
    raw = env.get(name, "").strip()
    if raw and len(raw) < 16:
        raise SettingsError(f"{name}: expected at least 16 characters (a long random token)")
    return raw or None


# Telegram's rule for a webhook's secret_token; it comes back in every update's
# X-Telegram-Bot-Api-Secret-Token header.
# Telegram takes 1 to 256 of these characters; fewer than 16 could be guessed by trying.
_TELEGRAM_SECRET = re.compile(r"[A-Za-z0-9_-]{16,256}")


def telegram_secret_problem(name: str, value: object) -> Optional[str]:
    """What is wrong with a Telegram secret token, or None; `name` is where it came from."""
    if isinstance(value, str) and _TELEGRAM_SECRET.fullmatch(value):
        return None
    return (
        f"{name}: expected 16 to 256 characters (a long random token), each a letter A-Z or a-z, "
        "a digit, _ or - (Telegram's characters)"
    )


def _telegram_secret(env: Mapping[str, str], name: str) -> Optional[str]:
    # Not stripped: the channel gets the variable's value verbatim from credentials.yml.
    raw = env.get(name, "")
    if not raw:
        return None
    problem = telegram_secret_problem(name, raw)
    if problem:
        raise SettingsError(problem)
    return raw


_ADDRESS = re.compile(r"^[^@\s,<>]+@[^@\s,<>]+\.[A-Za-z]{2,}$")


@dataclass(frozen=True)
class SmtpServer:
    """Where handoff e-mails go: CAREERBOT_HANDOFF_SMTP_URL, parsed."""

    host: str
    port: int
    # smtps://: TLS from the first byte; ?starttls=true: upgraded after EHLO.
    tls: bool = False
    starttls: bool = False
    username: Optional[str] = None
    password: Optional[str] = None

    def __repr__(self) -> str:  # never the password, wherever the settings get printed
        scheme = "smtps" if self.tls else "smtp"
        user = f"{self.username}@" if self.username else ""
        return f"SmtpServer({scheme}://{user}{self.host}:{self.port}{'?starttls=true' if self.starttls else ''})"


def _smtp(env: Mapping[str, str], name: str) -> Optional[SmtpServer]:
    raw = env.get(name, "").strip()
    if not raw:
        return None
    expected = f"{name}: expected smtp://[user:password@]host:port, smtps://... or smtp://...?starttls=true"
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        raise SettingsError(expected) from None
    if parts.scheme not in ("smtp", "smtps") or not parts.hostname or parts.path not in ("", "/"):
        raise SettingsError(expected)
    query = parse_qs(parts.query, keep_blank_values=True)
    if set(query) - {"starttls"}:
        raise SettingsError(f"{expected} (unknown option {', '.join(sorted(set(query) - {'starttls'}))})")
    starttls = _flag({name: query.get("starttls", [""])[-1]}, name)
    if starttls and parts.scheme == "smtps":
        raise SettingsError(f"{name}: smtps:// is already TLS; ?starttls=true is for smtp://")
    return SmtpServer(
        host=parts.hostname,
        port=port or (465 if parts.scheme == "smtps" else 25),
        tls=parts.scheme == "smtps",
        starttls=starttls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


def _addresses(env: Mapping[str, str], name: str) -> Tuple[str, ...]:
    raw = env.get(name, "").strip()
    addresses = tuple(a.strip() for a in raw.split(",") if a.strip())
    for address in addresses:
        if not _ADDRESS.match(address):
            raise SettingsError(f"{name}: {address!r}: expected an e-mail address such as team@example.com")
    return addresses


def _http_url(env: Mapping[str, str], name: str) -> Optional[str]:
    raw = env.get(name, "").strip()
    if raw and not re.match(r"^https?://[^/\s?#]+(/\S*)?$", raw):
        raise SettingsError(f"{name}={raw!r}: expected an http:// or https:// URL")
    return raw or None


@dataclass(frozen=True)
class PlatformAPIs:
    """Other addresses for the platforms' APIs: the tests' fake platforms on 127.0.0.1, or a proxy.

    Read by the channels when Rasa builds them, apart from Settings: a channel needs
    these four and none of the rest.
    """

    slack: Optional[str] = None
    telegram: Optional[str] = None
    twilio: Optional[str] = None
    # The URL Twilio calls, when a proxy in front of Rasa changes it (Twilio signs the URL it called).
    twilio_public_url: Optional[str] = None

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "PlatformAPIs":
        env = os.environ if env is None else env
        return cls(
            slack=_http_url(env, "CAREERBOT_SLACK_API_URL"),
            telegram=_http_url(env, "CAREERBOT_TELEGRAM_API_URL"),
            twilio=_http_url(env, "CAREERBOT_TWILIO_API_URL"),
            twilio_public_url=_http_url(env, "CAREERBOT_TWILIO_PUBLIC_URL"),
        )


def offtopic_dir(default: Path, env: Optional[Mapping[str, str]] = None) -> Path:
    """Where the off-topic corpora are read at training time: CAREERBOT_OFFTOPIC_DIR, else `default`."""
    env = os.environ if env is None else env
    raw = env.get("CAREERBOT_OFFTOPIC_DIR", "").strip()
    return Path(raw) if raw else default


def log_level(env: Optional[Mapping[str, str]] = None) -> Union[str, int]:
    """LOG_LEVEL, the variable Rasa's own servers read too (DEBUG, INFO, ...); INFO when unset."""
    import logging

    env = os.environ if env is None else env
    raw = env.get("LOG_LEVEL", "").strip().upper()
    if raw and raw not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
        raise SettingsError(f"LOG_LEVEL={raw!r}: expected DEBUG, INFO, WARNING, ERROR or CRITICAL")
    return raw or logging.INFO


def environment() -> Dict[str, str]:
    """A copy of this process's environment: what the launchers pass on to the servers they start."""
    return dict(os.environ)


def set_environment(name: str, value: str, keep_set: bool = False) -> None:
    """Sets a variable that a library reads from the environment itself (rasa-sdk's SANIC_HOST,
    Rasa's RASA_TELEMETRY_ENABLED); with `keep_set`, a value already there stays."""
    if keep_set:
        os.environ.setdefault(name, value)
    else:
        os.environ[name] = value


@dataclass(frozen=True)
class HandoffDelivery:
    """Where a visitor's question for a person goes. Neither set: nowhere, and the bot says so."""

    smtp: Optional[SmtpServer] = None
    email_to: Tuple[str, ...] = ()
    email_from: Optional[str] = None
    webhook_url: Optional[str] = None
    webhook_secret: Optional[str] = field(default=None, repr=False)
    # The outbox worker's retries: 1 s, 2 s, 4 s ... up to this many seconds between attempts.
    retry_max_s: float = 300.0
    # How often the worker looks for due handoffs written by another action server.
    poll_s: float = 5.0

    @property
    def configured(self) -> bool:
        return self.smtp is not None or self.webhook_url is not None

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> "HandoffDelivery":
        smtp = _smtp(env, "CAREERBOT_HANDOFF_SMTP_URL")
        email_to = _addresses(env, "CAREERBOT_HANDOFF_EMAIL_TO")
        email_from = _addresses(env, "CAREERBOT_HANDOFF_EMAIL_FROM")
        if len(email_from) > 1:
            raise SettingsError("CAREERBOT_HANDOFF_EMAIL_FROM: expected one e-mail address")
        if smtp and not (email_to and email_from):
            raise SettingsError(
                "CAREERBOT_HANDOFF_SMTP_URL is set: CAREERBOT_HANDOFF_EMAIL_TO and "
                "CAREERBOT_HANDOFF_EMAIL_FROM must be set too"
            )
        if (email_to or email_from) and not smtp:
            raise SettingsError("CAREERBOT_HANDOFF_EMAIL_TO/_FROM are set but CAREERBOT_HANDOFF_SMTP_URL is not")
        webhook_url = _http_url(env, "CAREERBOT_HANDOFF_WEBHOOK_URL")
        secret = env.get("CAREERBOT_HANDOFF_WEBHOOK_SECRET", "").strip() or None
        if webhook_url and not secret:
            raise SettingsError(
                "CAREERBOT_HANDOFF_WEBHOOK_URL is set: CAREERBOT_HANDOFF_WEBHOOK_SECRET must be "
                "set too (at least 16 characters), so that the receiver can check the signature"
            )
        if secret and len(secret) < 16:
            raise SettingsError("CAREERBOT_HANDOFF_WEBHOOK_SECRET: expected at least 16 characters")
        if secret and not webhook_url:
            raise SettingsError("CAREERBOT_HANDOFF_WEBHOOK_SECRET is set but CAREERBOT_HANDOFF_WEBHOOK_URL is not")
        return cls(
            smtp=smtp,
            email_to=email_to,
            email_from=email_from[0] if email_from else None,
            webhook_url=webhook_url,
            webhook_secret=secret,
            retry_max_s=_positive(env, "CAREERBOT_HANDOFF_RETRY_MAX_S", 300.0),
            poll_s=_positive(env, "CAREERBOT_HANDOFF_POLL_S", 5.0),
        )


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
    # Where handoffs are delivered (e-mail, webhook); neither: the bot gives handoff_contact instead.
    handoff: HandoffDelivery = HandoffDelivery()
    # How visitors reach a person when the bot cannot pass their question on (an address, a page, a phone).
    handoff_contact: Optional[str] = None
    # Telegram sends it back with every update; the Telegram channel is on only with it.
    telegram_secret_token: Optional[str] = field(default=None, repr=False)
    # The longest a turn waits for the conversation store (SQLite's lock, a busy worker thread) before its 503.
    store_timeout_s: float = 5.0
    # bot.launch.serve probes each server's health this often; this many failed probes in a row
    # (no answer within the timeout, or not 200) and it restarts that server.
    probe_interval_s: float = 5.0
    probe_timeout_s: float = 2.0
    probe_failures: int = 3
    # Messages read in the conversation's context (bot/context.py); off only to measure what it adds.
    read_in_context: bool = True
    # The review page (bot/ops/review/page.py) asks for it; it must be set to bind the page beyond loopback.
    review_token: Optional[str] = field(default=None, repr=False)

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
            handoff=HandoffDelivery.from_env(env),
            handoff_contact=env.get("CAREERBOT_HANDOFF_CONTACT", "").strip() or None,
            telegram_secret_token=_telegram_secret(env, "TELEGRAM_SECRET_TOKEN"),
            store_timeout_s=_positive(env, "CAREERBOT_STORE_TIMEOUT", 5.0),
            probe_interval_s=_positive(env, "CAREERBOT_PROBE_INTERVAL", 5.0),
            probe_timeout_s=_positive(env, "CAREERBOT_PROBE_TIMEOUT", 2.0),
            probe_failures=int(_positive(env, "CAREERBOT_PROBE_FAILURES", 3, int)),
            read_in_context=_flag(env, "CAREERBOT_READ_IN_CONTEXT", default=True),
            review_token=_token(env, "CAREERBOT_REVIEW_TOKEN"),
        )

    @property
    def tracker_url_display(self) -> str:
        """The store's URL without its password, for reports and logs."""
        return re.sub(r"(://[^/:@]*):[^@/]*@", r"\1:***@", self.tracker_url)

    @property
    def sqlite_path(self) -> Optional[Path]:
        """The database file when the tracker store is SQLite."""
        return Path(self.tracker_url[len("sqlite:///") :]) if self.tracker_url.startswith("sqlite:///") else None
