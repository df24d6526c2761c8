"""Logs without what visitors typed, unless CAREERBOT_LOG_CONTENT=true says otherwise.

Rasa logs a failed turn with its message text at ERROR level, a traceback can
carry the text and the conversation id, and Rasa's debug lines hold both. In
the Rasa server and in the action server, every log record, at any level, is
rewritten when it is created:

- the text of the turn being handled, and the earlier user texts of its
  conversation session, are replaced by ``[text redacted]``;
- the turn's conversation id (sender id) becomes ``[sender <hash>]``, a short
  keyed hash that is the same in both servers and across restarts, so an
  operator can still follow one conversation through the lines;
- e-mail addresses and phone numbers anywhere in a line are masked, and so is
  the value of every ``"text"`` / ``"message"`` field of JSON or Python dicts
  that a line dumps (earlier turns, tracker dumps);
- the same applies to the record's traceback, formatted here once and
  redacted, and to warnings and uncaught exceptions, which are routed here too.

The turn is known through a context variable that the one door every channel
goes through sets: ``Agent.handle_message`` in the Rasa server (the earlier
texts are added when it loads the conversation, ``MessageProcessor.get_tracker``),
``ActionExecutor.run`` in the action server (from the request); bot/rasa/internals.py
hooks both and calls :func:`remember`. It is set without being reset:
channels log a failed turn after handle_message has raised (Rasa's REST
channel does). A value left behind lasts until the next turn on the same
connection replaces it, and can only make lines say less. Texts and
ids shorter than three characters are left alone ("ok", "1"): they name no one,
and replacing every "ok" in a line would make the logs unreadable.

A log record factory, not a handler filter, does the work: Rasa, Sanic and
rasa-sdk each add and replace handlers as they start, and a factory sees every
record whatever handler ends up writing it.
"""

from __future__ import annotations

import contextvars
import hashlib
import hmac
import json
import logging
import re
import sys
import threading
import traceback
from types import TracebackType
from typing import Any, Callable, Dict, Iterable, List, Optional, Pattern, Tuple, Type

from bot.settings import Settings

logger = logging.getLogger(__name__)

REDACTED_TEXT = "[text redacted]"
REDACTED_EMAIL = "[e-mail redacted]"
REDACTED_PHONE = "[phone redacted]"
SENDER_TAG = "[sender {}]"
# Shorter texts and ids are not replaced (see the module docstring).
MIN_SECRET_LENGTH = 3
# A turn remembers at most this many user texts of its conversation, the latest first.
MAX_TEXTS = 200

# The look-behind starts a match only where a run of such characters starts:
# without it, a long run with no @ costs time quadratic in its length.
_EMAIL = re.compile(r"(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# International numbers (+15551234567, +44 20 7946 0958) and North American ones
# written with separators ((555) 123-4567, 555.123.4567). Bare digit runs are
# left alone: they are timestamps, ports and ids far more often than phones.
_PHONE = re.compile(
    r"(?<![\w+])\+\d[\d ().-]{6,18}\d(?!\d)"
    r"|(?<![\w.])(?:\(\d{3}\)\s?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w])"
)
# "text": "...", 'message': '...' in JSON and Python dict dumps.
_TEXT_FIELD = re.compile(
    r"""(?P<key>(?P<q>["'])(?:text|message)(?P=q)\s*:\s*)(?P<v>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')"""
)

# The default key of the sender hash. It only makes the hash stable; with
# CAREERBOT_SESSION_SECRET set, the hash is keyed with that secret instead, so
# that an id with few possible values (a phone number) cannot be found by trying them.
_DEFAULT_HASH_KEY = b"careerbot log sender hash"


class Turn:
    """What must not appear in the log lines written while one turn is handled.

    The pattern is compiled when the first log record needs it: most turns log
    nothing at INFO level, and then cost nothing more.
    """

    __slots__ = ("texts", "senders", "_hash_key", "_compiled")

    def __init__(self, texts: Tuple[str, ...], senders: Tuple[str, ...], hash_key: bytes) -> None:
        self.texts = texts
        self.senders = senders
        self._hash_key = hash_key
        self._compiled: Optional[Tuple[Optional[Pattern[str]], Dict[str, str]]] = None

    def compiled(self) -> Tuple[Optional[Pattern[str]], Dict[str, str]]:
        """One pattern for all the turn's strings, as logs write them, and what replaces each."""
        if self._compiled is None:
            replacements: Dict[str, str] = {}
            for sender in self.senders:
                tag = sender_tag(sender, self._hash_key)
                for written in _spellings(sender):
                    replacements.setdefault(written, tag)
            for text in self.texts:
                for written in _spellings(text):
                    replacements.setdefault(written, REDACTED_TEXT)
            # Longest first: at one position the regex takes the first alternative that matches.
            alternatives = [_bounded(written) for written in sorted(replacements, key=len, reverse=True)]
            pattern = re.compile("|".join(alternatives)) if alternatives else None
            self._compiled = (pattern, replacements)
        return self._compiled


def sender_tag(sender_id: str, hash_key: bytes = _DEFAULT_HASH_KEY) -> str:
    digest = hmac.new(hash_key, sender_id.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()
    return SENDER_TAG.format(digest[:10])


_turn: contextvars.ContextVar[Optional[Turn]] = contextvars.ContextVar("careerbot_log_turn", default=None)


def _kept(values: Iterable[Any]) -> Tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if isinstance(v, str) and len(v.strip()) >= MIN_SECRET_LENGTH))


class Redactor:
    """Rewrites log text: the turn's texts and ids, e-mail addresses, phone numbers."""

    def __init__(self, hash_key: bytes = _DEFAULT_HASH_KEY) -> None:
        self.hash_key = hash_key

    def sender_tag(self, sender_id: str) -> str:
        return sender_tag(sender_id, self.hash_key)

    def turn(self, texts: Iterable[Any] = (), senders: Iterable[Any] = ()) -> Turn:
        return Turn(_kept(texts)[:MAX_TEXTS], _kept(senders), self.hash_key)

    def redact(self, text: str, turn: Optional[Turn] = None) -> str:
        if turn is not None:
            pattern, replacements = turn.compiled()
            if pattern is not None:
                text = pattern.sub(lambda match: replacements[match.group(0)], text)
        text = _TEXT_FIELD.sub(_redact_field, text)
        text = _EMAIL.sub(REDACTED_EMAIL, text)
        return _PHONE.sub(REDACTED_PHONE, text)


def _spellings(value: str) -> List[str]:
    """`value` as logs write it: as is, stripped, inside repr() and inside JSON (ASCII or not)."""
    spellings = [
        value,
        value.strip(),
        repr(value)[1:-1],
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    ]
    return [s for s in dict.fromkeys(spellings) if len(s.strip()) >= MIN_SECRET_LENGTH]


def _bounded(written: str) -> str:
    """A pattern for `written` that does not match inside a longer word ("hi" in "this")."""
    pattern = re.escape(written)
    if re.match(r"\w", written):
        pattern = r"(?<!\w)" + pattern
    if re.search(r"\w$", written):
        pattern += r"(?!\w)"
    return pattern


def _redact_field(match: "re.Match[str]") -> str:
    quote = match.group("v")[0]
    return f"{match.group('key')}{quote}{REDACTED_TEXT}{quote}"


_redactor: Optional[Redactor] = None
_previous_factory: Optional[Callable[..., logging.LogRecord]] = None
_previous_excepthook: Optional[Callable[..., Any]] = None
_previous_thread_excepthook: Optional[Callable[..., Any]] = None
_formatter = logging.Formatter()


def remember(texts: Iterable[Any] = (), senders: Iterable[Any] = ()) -> None:
    """Makes the current turn's texts and ids known to the log redaction (no-op when it is off)."""
    if _redactor is not None:
        _turn.set(_redactor.turn(texts, senders))


def redact(text: str) -> str:
    """`text` as the logs would write it now (unchanged when redaction is off)."""
    return text if _redactor is None else _redactor.redact(text, _turn.get())


def _redact_record(record: logging.LogRecord) -> None:
    assert _redactor is not None
    turn = _turn.get()
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: logging would print msg and args raw
        message = f"{record.msg} (log arguments withheld: they did not fit the message)"
    record.msg, record.args = _redactor.redact(message, turn), None
    if record.exc_info:
        # Formatters use exc_text as it is when it is set, instead of formatting exc_info again.
        record.exc_text = _redactor.redact(record.exc_text or _formatter.formatException(record.exc_info), turn)
    elif record.exc_text:
        record.exc_text = _redactor.redact(record.exc_text, turn)
    if record.stack_info:
        record.stack_info = _redactor.redact(record.stack_info, turn)


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    assert _previous_factory is not None
    record = _previous_factory(*args, **kwargs)
    try:
        _redact_record(record)
    except Exception as error:  # never let redaction lose the fact that something was logged
        record.msg, record.args = f"log line withheld: redacting it failed ({type(error).__name__})", None
        record.exc_info, record.exc_text, record.stack_info = None, None, None
    return record


def _excepthook(kind: Type[BaseException], error: BaseException, tb: Optional[TracebackType]) -> None:
    sys.stderr.write(redact("".join(traceback.format_exception(kind, error, tb))))


def _thread_excepthook(hook_args: Any) -> None:
    if hook_args.exc_type is SystemExit:
        return
    name = hook_args.thread.name if hook_args.thread is not None else "?"
    sys.stderr.write(
        f"Exception in thread {name}:\n"
        + redact("".join(traceback.format_exception(hook_args.exc_type, hook_args.exc_value, hook_args.exc_traceback)))
    )


def install(settings: Settings) -> bool:
    """Redacts every log record of this process from now on; False when CAREERBOT_LOG_CONTENT is on."""
    global _redactor, _previous_factory, _previous_excepthook, _previous_thread_excepthook
    if settings.log_content:
        logger.warning("CAREERBOT_LOG_CONTENT is on: the logs hold what visitors type and their conversation ids")
        return False
    if _redactor is not None:
        return True
    key = settings.session_secret.encode() if settings.session_secret else _DEFAULT_HASH_KEY
    _redactor = Redactor(key)
    _previous_factory = logging.getLogRecordFactory()
    logging.setLogRecordFactory(_record_factory)
    # Warnings (Rasa warns with message text, e.g. "Failed to parse arguments
    # in line '...'") and uncaught exceptions reach stderr without logging otherwise.
    logging.captureWarnings(True)
    _previous_excepthook, sys.excepthook = sys.excepthook, _excepthook
    _previous_thread_excepthook, threading.excepthook = threading.excepthook, _thread_excepthook
    return True


def uninstall() -> None:
    """Undoes install() (for tests)."""
    global _redactor, _previous_factory
    if _redactor is None:
        return
    logging.setLogRecordFactory(_previous_factory or logging.LogRecord)
    logging.captureWarnings(False)
    sys.excepthook = _previous_excepthook or sys.__excepthook__
    threading.excepthook = _previous_thread_excepthook or threading.__excepthook__
    _redactor, _previous_factory = None, None
    _turn.set(None)


def remember_history(conversation_id: str, events: Iterable[Any]) -> None:
    """The conversation's earlier user texts join the turn's, once Rasa has loaded its events.

    Rasa's lines dump slot values and events of the whole conversation session
    (the question typed into the handoff form, say), not only the turn's text.
    Called by the Rasa server's replacement of ``MessageProcessor.get_tracker``
    (bot/rasa/internals.py).
    """
    turn = _turn.get()
    if turn is not None and conversation_id in turn.senders:
        earlier = [
            getattr(event, "text", None)
            for event in reversed(list(events))
            if getattr(event, "type_name", None) == "user"
        ]
        remember([*turn.texts, *earlier], turn.senders)


def action_call_secrets(action_call: Any) -> Tuple[List[Any], List[Any]]:
    """The user texts and conversation ids of an action server request (what is not a string is dropped later)."""
    if not isinstance(action_call, dict):
        return [], []
    tracker: Dict[str, Any] = action_call["tracker"] if isinstance(action_call.get("tracker"), dict) else {}
    senders = [action_call.get("sender_id"), tracker.get("sender_id")]
    latest: Dict[str, Any] = tracker["latest_message"] if isinstance(tracker.get("latest_message"), dict) else {}
    events: List[Any] = tracker["events"] if isinstance(tracker.get("events"), list) else []
    texts = [e.get("text") for e in events if isinstance(e, dict) and e.get("event") == "user"]
    texts = [latest.get("text"), *reversed(texts)][:MAX_TEXTS]
    return texts, senders
