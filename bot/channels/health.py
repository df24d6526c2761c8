"""Health endpoints on the Rasa server, for process supervisors and load balancers.

``GET /health/live`` answers 200 as long as the process serves HTTP: a
liveness probe restarts the process when it stops answering, and nothing
else, so it checks nothing it cannot fix by a restart.

``GET /health/ready`` answers 200 only when a user's turn can be served now:
the model is loaded, the action server answers its ``/health`` within
:data:`CHECK_TIMEOUT_S`, a read through the conversation store succeeds
within the same time, and so does the start of a write (rolled back: nothing
is written). Otherwise it answers 503, and the JSON body says which check
failed. Stock Rasa offers only ``GET /``, which says 200 while the action
server is frozen and users wait for an apology. A read alone is not enough:
a database file that cannot be written (read-only, immutable) reads fine
while every turn gets a 503. The store's checks run where the store runs its
queries (bot/rasa/tracker_store.py: reads and writes in their own worker
threads), so a slow database never stalls the event loop through this probe,
and a writer stuck behind another process's lock does not hold up the read.

``GET /`` stays (start-up scripts poll it), but its body no longer names the
Rasa version (stock: "Hello from Rasa: 3.6.21"): a version is an invitation
to look up its known flaws.

Registered in credentials.yml as ``bot.channels.health.HealthInput:`` with no
variables, so it is always on. Rasa mounts a channel's blueprint under
``urljoin("/webhooks/", url_prefix())``; an absolute prefix replaces the
``/webhooks/`` part, which is how these routes sit at ``/health``.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple
from urllib.parse import urljoin

import aiohttp
from rasa.core.channels.channel import InputChannel, UserMessage
from rasa.core.tracker_store import FailSafeTrackerStore, TrackerStore
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import BaseHTTPResponse

from bot.rasa.tracker_store import CareerSQLTrackerStore

logger = logging.getLogger(__name__)

# Long enough for a busy action server or database, short enough for a probe
# (Kubernetes' default probe timeout is 1 s; set the probe's timeoutSeconds above this).
CHECK_TIMEOUT_S = 2.0
# The conversation read by the store check; reading a conversation that does
# not exist is the store's cheapest query that still touches its table.
PROBE_SENDER = "careerbot-readiness-probe"
NEUTRAL_ROOT_BODY = "ok"


# A failed check: what the probe's answer says, and what the log says.
Problem = Tuple[str, str]


def _error_problem(error: Exception) -> Problem:
    # The answer carries the type only: an error's text can hold SQL, host
    # names or addresses, and the answer goes to whoever asks. The log has it.
    return type(error).__name__, f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"


async def check_action_server(url: Optional[str], timeout: float = CHECK_TIMEOUT_S) -> Optional[Problem]:
    """None when the action server whose webhook is `url` answers its /health in time; else why not."""
    if not url:
        return None  # no action endpoint: the bot runs no custom actions, nothing to wait for
    health = urljoin(url, "health")  # http://host:5055/webhook -> http://host:5055/health
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session:
            async with session.get(health) as answer:
                if answer.status == 200:
                    return None
                return f"HTTP {answer.status}", f"{health} answered HTTP {answer.status}"
    except asyncio.TimeoutError:
        return f"no answer within {timeout:g} s", f"{health} did not answer within {timeout:g} s"
    except aiohttp.ClientError as error:
        return _error_problem(error)


def _primary_store(store: TrackerStore) -> TrackerStore:
    # Rasa wraps the configured store in a fail-safe one that swallows errors
    # and falls back to memory; the probe must see the configured store's errors.
    if isinstance(store, FailSafeTrackerStore):
        return store._tracker_store
    return store


async def check_store(store: Optional[TrackerStore], timeout: float = CHECK_TIMEOUT_S) -> Optional[Problem]:
    """None when a read through the conversation store succeeds in time; else why not."""
    if store is None:
        return "no conversation store", "the agent has no tracker store"
    primary = _primary_store(store)
    try:
        if isinstance(primary, CareerSQLTrackerStore):
            await primary.check_read(timeout)
        else:
            await asyncio.wait_for(primary.retrieve(PROBE_SENDER), timeout)
    except (asyncio.TimeoutError, TimeoutError):  # TimeoutError: the store's own StoreTimeout
        return f"no answer within {timeout:g} s", f"reading a conversation took over {timeout:g} s"
    except Exception as error:  # any failure of the store means "not ready"
        return _error_problem(error)
    return None


async def check_store_writes(store: Optional[TrackerStore], timeout: float = CHECK_TIMEOUT_S) -> Optional[Problem]:
    """None when a write to the conversation store can begin in time (it is rolled back); else why not."""
    primary = _primary_store(store) if store is not None else None
    if not isinstance(primary, CareerSQLTrackerStore):
        return None  # the in-memory store (no tracker_store configured) is always writable
    try:
        await primary.check_write(timeout)
    except TimeoutError:
        return f"no answer within {timeout:g} s", f"a write could not begin within {timeout:g} s"
    except Exception as error:  # any failure of the store means "not ready"
        return _error_problem(error)
    return None


class Readiness:
    """Runs the checks and logs when their outcome changes (probes come every few seconds)."""

    def __init__(self) -> None:
        self.failing: Dict[str, Problem] = {}

    async def run(self, app: Sanic) -> Dict[str, Any]:
        agent = getattr(app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            results: Dict[str, Optional[Problem]] = {"model": ("not loaded", "no model is loaded")}
        else:
            endpoint = agent.action_endpoint
            action, store, writes = await asyncio.gather(
                check_action_server(endpoint.url if endpoint else None),
                check_store(agent.tracker_store),
                check_store_writes(agent.tracker_store),
            )
            results = {
                "model": None,
                "action_server": action,
                "conversation_store": store,
                "conversation_store_writes": writes,
            }
        failing = {name: problem for name, problem in results.items() if problem}
        for name in failing.keys() - self.failing.keys():
            logger.warning("readiness: the %s check fails: %s", name, failing[name][1])
        for name in self.failing.keys() - failing.keys():
            logger.info("readiness: the %s check passes again", name)
        self.failing = failing
        return {
            "status": "unavailable" if failing else "ready",
            "checks": {
                name: ({"ok": False, "error": problem[0]} if problem else {"ok": True})
                for name, problem in results.items()
            },
        }


async def neutral_root(request: Request, reply: BaseHTTPResponse) -> Optional[response.HTTPResponse]:
    """Replaces the body of Rasa's ``GET /`` (which names the Rasa version)."""
    if request.path == "/" and request.method == "GET" and reply.status == 200:
        return response.text(NEUTRAL_ROOT_BODY)
    return None


class HealthInput(InputChannel):
    """Not a messaging channel: it carries the health routes (see the module's docstring)."""

    @classmethod
    def name(cls) -> Text:
        return "health"

    def url_prefix(self) -> Text:
        return "/health"

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        blueprint = Blueprint("careerbot_health", __name__)
        readiness = Readiness()

        @blueprint.listener("before_server_start")
        async def hide_version(app: Sanic, _loop: Any) -> None:
            # App-wide: a blueprint's own middleware only sees the blueprint's routes.
            if neutral_root not in app.response_middleware:
                app.register_middleware(neutral_root, "response")

        @blueprint.route("/live", methods=["GET"])
        async def live(request: Request) -> response.HTTPResponse:
            return response.json({"status": "up"})

        @blueprint.route("/ready", methods=["GET"])
        async def ready(request: Request) -> response.HTTPResponse:
            report = await readiness.run(request.app)
            return response.json(report, status=200 if report["status"] == "ready" else 503)

        return blueprint
