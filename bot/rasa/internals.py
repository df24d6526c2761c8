"""The one door through which careerbot replaces attributes of Rasa, rasa-sdk and Sanic.

Rasa 3.6 has no setting or hook for what these do, so each one replaces a
named attribute of the installed code. They are all here, listed in
:data:`REPLACEMENTS` with the parameters the replaced attribute has in the
pinned versions (Rasa 3.6.21, rasa-sdk 3.6.2, Sanic 21.12), and
tests/bot/test_internals.py fails as soon as an upgrade renames one or changes
its parameters, before anything misbehaves at run time.

Nothing is replaced on import or in a constructor. The launchers switch them
on explicitly, once, before the server starts:

- the Rasa server: :func:`install_in_rasa_server`, from bot/launch/rasa_run.py;
- the action server: :func:`install_in_action_server`, from bot/launch/action_server.py.

:func:`restore` puts Rasa's own attributes back (for tests). docs/architecture.md
lists the replacements and why each exists; the code they install lives
with what it is about (bot/rasa/speedups.py, bot/logs.py).
"""

from __future__ import annotations

import contextvars
import functools
import gc
import importlib
import logging
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple

from bot import logs
from bot.settings import Settings

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Replacement:
    """One attribute of installed code that careerbot replaces, and why."""

    key: str
    # "module:Class.attribute" or "module:attribute".
    target: str
    # The replaced attribute's parameter names in the pinned version (None: not a function).
    parameters: Optional[Tuple[str, ...]]
    why: str

    def owner_and_name(self) -> Tuple[Any, str]:
        module_name, _, path = self.target.partition(":")
        owner: Any = importlib.import_module(module_name)
        *parents, name = path.split(".")
        for parent in parents:
            owner = getattr(owner, parent)
        return owner, name


REPLACEMENTS: Dict[str, Replacement] = {
    r.key: r
    for r in (
        Replacement(
            "action_timeout",
            "rasa.core.actions.action:DEFAULT_REQUEST_TIMEOUT",
            None,
            "Rasa waits 300 s for the action server; CAREERBOT_ACTION_TIMEOUT (5 s) bounds a turn instead.",
        ),
        Replacement(
            "validator",
            "rasa.core.actions.action:RemoteAction._validate_action_result",
            ("self", "result"),
            "speed-up: the action reply's JSON schema validator is built once, not per call.",
        ),
        Replacement(
            "events",
            "rasa.shared.core.events:Event.resolve_by_type",
            ("type_name", "default"),
            "speed-up: stored events find their class in a table, not by walking every subclass.",
        ),
        Replacement(
            "http",
            "rasa.utils.endpoints:EndpointConfig.session",
            ("self",),
            "speed-up: one kept HTTP session per endpoint and event loop instead of one per action call.",
        ),
        Replacement(
            "gc",
            "rasa.core.run:load_agent_on_start",
            ("model_path", "endpoints", "remote_storage", "app", "loop"),
            "speed-up: gc.freeze() once the model is loaded, so the collector skips the long-lived objects.",
        ),
        Replacement(
            "log_turn",
            "rasa.core.agent:Agent.handle_message",
            ("self", "message"),
            "log redaction: every channel's turn passes here, so its text and sender are known to the logs.",
        ),
        Replacement(
            "log_history",
            "rasa.core.processor:MessageProcessor.get_tracker",
            ("self", "conversation_id"),
            "log redaction: the conversation's earlier texts, which Rasa's debug lines dump, are redacted too.",
        ),
        Replacement(
            "store_errors",
            "rasa.core.tracker_store:FailSafeTrackerStore.__init__",
            ("self", "tracker_store", "on_tracker_store_error", "fallback_tracker_store"),
            "Rasa's fail-safe store gets an error callback (it makes one without): a failed save becomes a 503.",
        ),
        Replacement(
            "answer_once",
            "rasa.core.processor:MessageProcessor.handle_message",
            ("self", "message"),
            "a message whose client-chosen id the conversation holds gets its first replies again, not a new turn.",
        ),
        Replacement(
            "websocket_utf8",
            "sanic.server.websockets.impl:WebsocketImplProtocol.process_events",
            ("self", "events"),
            "a WebSocket text frame that is not UTF-8 closes the connection with 1007 instead of a lost task.",
        ),
        Replacement(
            "session_start",
            "rasa.core.processor:MessageProcessor._update_tracker_session",
            ("self", "tracker", "output_channel", "metadata"),
            "a session start that the action server could not run still starts the session, without carry-over.",
        ),
        Replacement(
            "action_log_turn",
            "rasa_sdk.executor:ActionExecutor.run",
            ("self", "action_call"),
            "log redaction in the action server: each request's texts and sender are known to the logs.",
        ),
    )
}

SPEEDUPS_REPLACED = ("validator", "events", "http", "gc")

# Rasa's own attribute for every key replaced so far (a replacement is never replaced again).
_originals: Dict[str, Any] = {}


def original(key: str) -> Any:
    """The installed code's own attribute that `key` replaces (whether or not it is replaced now)."""
    if key in _originals:
        return _originals[key]
    owner, name = REPLACEMENTS[key].owner_and_name()
    return owner.__dict__[name] if isinstance(owner, type) else getattr(owner, name)


def _replace(key: str, replacement: Any) -> None:
    owner, name = REPLACEMENTS[key].owner_and_name()
    _originals.setdefault(key, original(key))
    setattr(owner, name, replacement)


def restore(keys: Optional[List[str]] = None) -> None:
    """Puts the installed code's own attributes back (all of them, or `keys`); for tests."""
    for key in list(_originals if keys is None else keys):
        if key in _originals:
            owner, name = REPLACEMENTS[key].owner_and_name()
            setattr(owner, name, _originals.pop(key))


def replaced() -> List[str]:
    """The keys replaced now."""
    return sorted(_originals)


# --- the Rasa server --------------------------------------------------------------------------


def install_in_rasa_server(settings: Settings, redact_logs: bool) -> None:
    """Every replacement the Rasa server runs with; called once by bot/launch/rasa_run.py before Rasa starts."""
    install_action_timeout(settings.action_timeout_s)
    install_speedups(settings.speedups)
    install_store_error_reports()
    install_answer_once()
    install_websocket_utf8_check()
    install_session_start_fallback()
    if redact_logs:
        install_log_turns()


def install_action_timeout(seconds: float) -> None:
    """Rasa waits at most `seconds` for the action server, instead of 5 minutes.

    ``RemoteAction.run`` passes the module's ``DEFAULT_REQUEST_TIMEOUT`` (300 s)
    as the timeout of each call, read when the call is made; a per-call timeout
    overrides the session's, so this holds with the kept sessions of the
    ``http`` speed-up too. A call that runs out raises ``asyncio.TimeoutError``;
    Rasa logs it and the turn ends without the action's reply, so the REST
    channel sends the domain's apology (bot/channels/rest.py) within this time.
    Other HTTP endpoints (NLG server, model server) keep Rasa's timeout.
    """
    _replace("action_timeout", seconds)


def install_speedups(chosen: FrozenSet[str]) -> None:
    """Switches on the chosen speed-ups of bot/rasa/speedups.py and puts Rasa's own code back for the others."""
    from bot.rasa import speedups

    drop_ins: Dict[str, Callable[[], Any]] = {
        "validator": lambda: speedups.validate_action_result,
        "events": lambda: staticmethod(speedups.resolve_event_type),
        "http": lambda: speedups.kept_session,
        "gc": lambda: _freezing_after_load(original("gc")),
    }
    for key, drop_in in drop_ins.items():
        if key in chosen:
            _replace(key, drop_in())
        else:
            restore([key])


def _freezing_after_load(load_agent_on_start: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(load_agent_on_start)
    async def load_then_freeze(*args: Any, **kwargs: Any) -> Any:
        agent = await load_agent_on_start(*args, **kwargs)
        freeze_long_lived_objects()
        return agent

    return load_then_freeze


def freeze_long_lived_objects() -> None:
    """Moves every object alive now out of the cyclic collector's way (they live as long as the process)."""
    gc.collect()
    gc.freeze()


def install_log_turns() -> None:
    """Each turn's text and sender, and its conversation's earlier texts, are known to the log redaction."""
    handle_message = original("log_turn")

    @functools.wraps(handle_message)
    async def remembering(self: Any, message: Any) -> Any:
        logs.remember([message.text], [message.sender_id])
        return await handle_message(self, message)

    get_tracker = original("log_history")

    @functools.wraps(get_tracker)
    async def remembering_history(self: Any, conversation_id: str) -> Any:
        tracker = await get_tracker(self, conversation_id)
        logs.remember_history(conversation_id, tracker.events)
        return tracker

    _replace("log_turn", remembering)
    _replace("log_history", remembering_history)


# The conversation-store failures of the request being handled. A fresh list is set for
# every request: a value left in the context would outlive its request, and Sanic serves
# the requests of one kept-alive connection in one context.
_store_failures: contextvars.ContextVar[Optional[List[str]]] = contextvars.ContextVar(
    "careerbot_store_failures", default=None
)


def track_store_failures() -> List[str]:
    """A fresh list that collects the conversation-store failures of the request now starting."""
    failures: List[str] = []
    _store_failures.set(failures)
    return failures


def report_store_error(error: Exception) -> None:
    """Rasa's fail-safe store calls this when saving fails; it then keeps the turn in memory only."""
    cause = (str(error).splitlines() or [type(error).__name__])[0]
    logger.error("conversation store unavailable, this turn is not saved: %s: %s", type(error).__name__, cause)
    failures = _store_failures.get()
    if failures is not None:
        failures.append(cause)


def install_store_error_reports() -> None:
    """A fail-safe store made without an error callback (Rasa's Agent makes it so) reports to this module."""
    init = original("store_errors")

    @functools.wraps(init)
    def with_reports(
        self: Any,
        tracker_store: Any,
        on_tracker_store_error: Optional[Callable[[Exception], None]] = None,
        fallback_tracker_store: Any = None,
    ) -> None:
        init(self, tracker_store, on_tracker_store_error or report_store_error, fallback_tracker_store)

    _replace("store_errors", with_reports)


@dataclass
class Once:
    """What became of a message registered with :func:`answer_once`, for its channel to tell the client."""

    # The conversation already held the message: its stored replies were sent again, nothing else ran.
    repeated: bool = False
    # The conversation held that id for another text: nothing was sent and nothing ran.
    conflict: bool = False


# The messages whose ids their clients chose, each with what became of it. Keyed by the
# message object itself, so nothing outlives its turn or reaches another request's turn.
_once: "weakref.WeakKeyDictionary[Any, Once]" = weakref.WeakKeyDictionary()


def answer_once(message: Any) -> Once:
    """Registers a UserMessage whose `message_id` its client chose: however often it is sent, one turn.

    The check runs where Rasa handles the message, inside the conversation's
    lock (in the Rasa process, or Redis for several instances), against the
    conversation store: a copy sent while the first is being answered waits
    for it, and a copy sent to another instance or after a restart is found.
    Two copies reaching two instances at the same instant are handled one
    after the other too: bot/rasa/lock_store.py changes the lock in Redis atomically.
    """
    once = Once()
    _once[message] = once
    return once


def replies_to(events: List[Any], message_id: str) -> Tuple[Optional[Any], List[Any]]:
    """The user message `message_id` among `events` (None if absent) and the bot's utterances that answered it."""
    from rasa.shared.core.events import BotUttered, UserUttered

    asked: Optional[Any] = None
    replies: List[Any] = []
    for event in events:
        if isinstance(event, UserUttered):
            if asked is not None:
                break
            if event.message_id == message_id:
                asked = event
        elif isinstance(event, BotUttered) and asked is not None:
            replies.append(event)
    return asked, replies


def install_answer_once() -> None:
    """Messages registered with :func:`answer_once` that the conversation already holds are not handled again."""
    from rasa.core.channels.channel import CollectingOutputChannel

    handle_message = original("answer_once")

    @functools.wraps(handle_message)
    async def once_only(self: Any, message: Any) -> Any:
        once = _once.get(message)
        if once is None:
            return await handle_message(self, message)
        # Rasa's fail-safe store: a failed read is reported (the turn gets a 503) and reads as nothing held.
        tracker = await self.tracker_store.retrieve(message.sender_id)
        asked, replies = replies_to(list(tracker.events) if tracker is not None else [], message.message_id)
        if asked is None:
            return await handle_message(self, message)
        if asked.text != message.text:
            once.conflict = True
            return None
        once.repeated = True
        # As Rasa sent them the first time (MessageProcessor._send_bot_messages).
        for reply in replies:
            await message.output_channel.send_response(message.sender_id, reply.message())
        if isinstance(message.output_channel, CollectingOutputChannel):
            return message.output_channel.messages
        return None

    _replace("answer_once", once_only)


def install_websocket_utf8_check() -> None:
    """Sanic decodes WebSocket text frames in a task nobody awaits: the UnicodeDecodeError was only logged."""
    process_events = original("websocket_utf8")

    @functools.wraps(process_events)
    async def checked(self: Any, events: Any) -> None:
        try:
            await process_events(self, events)
        except UnicodeDecodeError:
            self.fail_connection(1007, "text frame is not valid UTF-8")

    _replace("websocket_utf8", checked)


# --- the action server ------------------------------------------------------------------------


def install_session_start_fallback() -> None:
    """The project's action_session_start runs in the action server (actions/session.py).

    When that server is down, Rasa logs the failed action and drops its events:
    the conversation then has no session start and no action_listen, so the
    rules never match again and every later turn trips the circuit breaker. Here
    the session starts as Rasa's own action starts it with carry-over off (the
    domain's setting): a SessionStarted and an action_listen; only the
    visitor's context slots are not carried, which the action server would
    have done.
    """
    from rasa.shared.core.constants import ACTION_LISTEN_NAME, ACTION_SESSION_START_NAME
    from rasa.shared.core.events import ActionExecuted, SessionStarted

    update = original("session_start")

    @functools.wraps(update)
    async def starting_sessions(self: Any, tracker: Any, output_channel: Any, metadata: Any = None) -> None:
        before = len(tracker.events)
        await update(self, tracker, output_channel, metadata)
        new = list(tracker.events)[before:]
        tried = any(isinstance(e, ActionExecuted) and e.action_name == ACTION_SESSION_START_NAME for e in new)
        if tried and not any(isinstance(e, SessionStarted) for e in new):
            logger.warning("action_session_start failed: the session starts without carrying the context over")
            tracker.update_with_events([SessionStarted(), ActionExecuted(ACTION_LISTEN_NAME)], self.domain)

    _replace("session_start", starting_sessions)


def install_in_action_server() -> None:
    """The action server's one replacement: each request's texts and sender are known to the log redaction."""
    run = original("action_log_turn")

    @functools.wraps(run)
    async def remembering(self: Any, action_call: Any) -> Any:
        logs.remember(*logs.action_call_secrets(action_call))
        return await run(self, action_call)

    _replace("action_log_turn", remembering)
