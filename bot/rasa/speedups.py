"""Rasa 3.6 hot paths that cost more than the work they do, done once instead of per message.

Profiling `make bench` (py-spy on the Rasa process) found three:

``validator``
    After every custom action Rasa checks the action server's reply with
    ``jsonschema.validate(result, schema)``. That call first checks the *schema
    itself* against the JSON Schema meta-schema and builds a new validator;
    it was half of Rasa's CPU time. Here the validator is built once for the
    same schema. What is accepted and rejected does not change: the same
    validator class checks the same schema, and the error raised is the one
    ``jsonschema.validate`` raises (its ``best_match``), with Rasa's hint.
``events``
    Reading a conversation back, Rasa finds each stored event's class by
    walking every subclass of ``Event`` again (``Event.resolve_by_type``).
    Here a table of type name to class is filled from the same walk on the
    first look-up, and again whenever a name is missing (a class imported
    later); a name still not found goes to Rasa's own method, which returns
    the default or raises as before.
``http``
    Rasa opens a new HTTP client session for every call to the action server
    (``EndpointConfig.request``): a new connection pool, a host name look-up
    on a helper thread, a new TCP connection. Here each endpoint keeps one
    session per event loop, configured by Rasa's own ``session()`` (headers,
    auth, timeout), so connections are reused. Idle connections are closed
    after 2 s, before Sanic's 5 s keep-alive ends them from the other side,
    so a request never goes out on a connection the server is closing.
``gc``
    Rasa imports TensorFlow and much else: half a million objects that
    Python's cyclic garbage collector walks again on every full collection,
    although they live as long as the process. ``gc.freeze()`` once the model
    is loaded moves them out of the collector's way; new objects are
    collected as usual.

Rasa has no setting for any of them, so they replace methods on
``RemoteAction``, ``Event`` and ``EndpointConfig`` and wrap the function that
loads the model. This module only defines them; bot/rasa/internals.py puts
them in place (``install_speedups``), when bot/launch/rasa_run.py starts the
Rasa server. ``CAREERBOT_SPEEDUPS`` chooses them (all, none, or a list), so that
`make bench-choices` can measure each. tests/bot/test_speedups.py compares
each with Rasa's own behaviour, and fails if a Rasa upgrade changes it.
"""

from __future__ import annotations

import asyncio
import functools
from typing import Any, Dict, Optional, Type

import aiohttp
from jsonschema import ValidationError, exceptions, validators
from rasa.core.actions.action import RemoteAction
from rasa.shared.constants import DOCS_BASE_URL
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

RASA_VALIDATE = RemoteAction._validate_action_result
RASA_RESOLVE = Event.resolve_by_type
RASA_SESSION = EndpointConfig.session
# Shorter than Sanic's default keep-alive (5 s), so the client closes first.
KEEPALIVE_S = 2.0
_EVENT_CLASSES: Dict[str, Type[Event]] = {}


@functools.lru_cache(maxsize=1)
def action_result_validator() -> Any:
    """The validator ``jsonschema.validate`` would build for Rasa's action reply schema, built once."""
    schema = RemoteAction.action_response_format_spec()
    cls = validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def validate_action_result(self: RemoteAction, result: Dict[str, Any]) -> bool:
    """Drop-in for ``RemoteAction._validate_action_result`` without the per-call schema check."""
    error = exceptions.best_match(action_result_validator().iter_errors(result))
    if error is None:
        return True
    assert isinstance(error, ValidationError)
    error.message += (
        ". Failed to validate Action server response from API, make sure your response from the "
        f"Action endpoint is valid. For more information about the format visit {DOCS_BASE_URL}/custom-actions"
    )
    raise error


def resolve_event_type(type_name: str, default: Optional[Type[Event]] = None) -> Optional[Type[Event]]:
    """Drop-in for ``Event.resolve_by_type``: the same class, from a table instead of a walk."""
    found = _EVENT_CLASSES.get(type_name)
    if found is None:
        # Rasa returns the first match in all_subclasses() order; so does the table.
        for cls in all_subclasses(Event):
            _EVENT_CLASSES.setdefault(cls.type_name, cls)
        found = _EVENT_CLASSES.get(type_name)
    return found if found is not None else RASA_RESOLVE(type_name, default)


class _KeptSession:
    """``async with`` hands out the endpoint's long-lived session and leaves it open."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None


def kept_session(self: EndpointConfig) -> _KeptSession:
    """Drop-in for ``EndpointConfig.session`` inside ``async with``: one session per endpoint and event loop."""
    loop = asyncio.get_running_loop()
    sessions: Dict[int, Any] = self.__dict__.setdefault("_careerbot_sessions", {})
    kept_loop, session = sessions.get(id(loop), (None, None))
    # The loop itself is compared too: a closed loop's id can come back.
    if kept_loop is not loop or session is None or session.closed:
        fresh = RASA_SESSION(self)
        # Rasa's session with its headers, auth and timeout; only the pool differs.
        session = aiohttp.ClientSession(
            headers=fresh.headers,
            auth=fresh.auth,
            timeout=fresh.timeout,
            connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S, ttl_dns_cache=300),
        )
        loop.create_task(fresh.close())
        sessions[id(loop)] = (loop, session)
    return _KeptSession(session)
