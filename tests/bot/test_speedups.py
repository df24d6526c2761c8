"""bot/rasa/speedups.py does what Rasa's own code does, only once instead of per message."""

from __future__ import annotations

import asyncio
import gc
from types import SimpleNamespace

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.events import Event
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import EndpointConfig

from bot import PROJECT_DIR
from bot.rasa import internals, speedups

MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"

ACTION = RemoteAction("action_answer_pay", None)

ACTION_REPLIES = [
    {},
    {"events": [], "responses": []},
    {"events": [{"event": "slot", "name": "topic", "value": "pay"}], "responses": [{"response": "utter_x"}]},
    {"events": [{"event": "followup", "name": "action_listen"}, {"event": "reset_slots"}]},
    {"events": "not a list"},
    {"events": [{"name": "no event key"}]},
    {"events": [{"event": 5}]},
    {"events": [{"event": "slot"}]},
    {"responses": ["not an object"]},
    {"responses": {"text": "not a list"}},
]


def _outcome(validate, reply):
    try:
        return validate(ACTION, reply)
    except ValidationError as error:
        return ("rejected", error.message, list(error.path))


@pytest.mark.parametrize("reply", ACTION_REPLIES)
def test_action_replies_are_judged_exactly_as_rasa_judges_them(reply):
    assert _outcome(speedups.validate_action_result, reply) == _outcome(speedups.RASA_VALIDATE, reply)


def test_the_replies_above_include_both_outcomes():
    outcomes = [_outcome(speedups.RASA_VALIDATE, reply) for reply in ACTION_REPLIES]
    assert True in outcomes and any(isinstance(o, tuple) for o in outcomes)


def test_every_event_type_resolves_to_rasas_class():
    names = {cls.type_name for cls in all_subclasses(Event)}
    assert len(names) > 20
    for name in sorted(names):
        assert speedups.resolve_event_type(name) is speedups.RASA_RESOLVE(name)


def test_unknown_event_types_behave_as_in_rasa():
    assert speedups.resolve_event_type("topic") is None
    assert speedups.resolve_event_type("no_such_event", default=Event) is Event
    with pytest.raises(ValueError, match="Unknown event name 'no_such_event'"):
        speedups.resolve_event_type("no_such_event")


def test_an_event_class_defined_later_is_found():
    class LateEvent(Event):
        type_name = "careerbot_late_test_event"

        def __eq__(self, other):
            return isinstance(other, LateEvent)

        def __hash__(self):
            return 1

        def as_story_string(self):
            return None

    assert speedups.resolve_event_type("careerbot_late_test_event") is LateEvent


@pytest.fixture
def restore_rasa():
    yield
    internals.restore()
    gc.unfreeze()


def test_switched_on_the_table_serves_rasas_own_lookups(restore_rasa):
    """Through Rasa's own entry point (Event.resolve_by_type), as Rasa's code calls it."""
    internals.install_speedups(frozenset({"events"}))
    for name in ("user", "bot", "action", "slot", "session_started"):
        assert Event.resolve_by_type(name) is speedups.RASA_RESOLVE(name)
    assert Event.resolve_by_type("no_such_event", default=Event) is Event
    assert RemoteAction("action_x", None)._validate_action_result({"events": []}) is True

    internals.install_speedups(frozenset())
    assert Event.resolve_by_type("user") is speedups.RASA_RESOLVE("user")


def test_switched_on_the_validator_rejects_what_rasa_rejects(restore_rasa):
    internals.install_speedups(frozenset({"validator"}))
    for reply in ACTION_REPLIES:
        assert _outcome(type(ACTION)._validate_action_result, reply) == _outcome(speedups.RASA_VALIDATE, reply)


@pytest.mark.model
def test_gc_freeze_comes_once_the_model_is_loaded_through_rasas_loader(restore_rasa):
    """Rasa's server calls rasa.core.run.load_agent_on_start by its module name; so does this test."""
    import rasa.core.run
    from rasa.core.utils import AvailableEndpoints

    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train`"
    gc.unfreeze()
    internals.install_speedups(frozenset({"gc"}))
    app = SimpleNamespace(ctx=SimpleNamespace())

    async def start() -> None:
        await rasa.core.run.load_agent_on_start(str(MODEL), AvailableEndpoints(), None, app, asyncio.get_running_loop())

    asyncio.run(start())
    assert app.ctx.agent.is_ready()
    assert gc.get_freeze_count() > 0


def test_an_endpoint_keeps_one_session_configured_as_rasa_configures_it():
    async def scenario():
        endpoint = EndpointConfig(
            "http://127.0.0.1:9/webhook",
            headers={"X-Site": "careers"},
            basic_auth={"username": "bot", "password": "secret"},
        )
        other = EndpointConfig("http://127.0.0.1:9/other")
        async with speedups.kept_session(endpoint) as first:
            pass
        async with speedups.kept_session(endpoint) as again:
            pass
        async with speedups.kept_session(other) as elsewhere:
            pass
        rasas = speedups.RASA_SESSION(endpoint)
        try:
            assert again is first and not first.closed  # kept open for the next call
            assert elsewhere is not first
            assert (first.headers, first.auth, first.timeout) == (rasas.headers, rasas.auth, rasas.timeout)
            assert first.connector._keepalive_timeout == speedups.KEEPALIVE_S < 5  # Sanic's keep-alive
            await first.close()
            async with speedups.kept_session(endpoint) as renewed:
                assert renewed is not first and not renewed.closed
            await renewed.close()
        finally:
            await rasas.close()
            await elsewhere.close()

    asyncio.run(scenario())


def test_a_new_event_loop_gets_a_new_session():
    endpoint = EndpointConfig("http://127.0.0.1:9/webhook")

    async def take():
        async with speedups.kept_session(endpoint) as session:
            return session

    first = asyncio.run(take())
    second = asyncio.run(take())
    assert second is not first


def test_an_action_server_is_called_over_one_kept_connection():
    """Against a real local HTTP server: two calls, one TCP connection."""
    from aiohttp import web

    async def scenario():
        peers = []

        async def webhook(request):
            peers.append(request.transport.get_extra_info("peername"))
            return web.json_response({"events": [], "responses": []})

        app = web.Application()
        app.router.add_post("/webhook", webhook)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]
        try:
            internals.install_speedups(frozenset({"http"}))
            endpoint = EndpointConfig(f"http://127.0.0.1:{port}/webhook")
            assert await endpoint.request(json={"next_action": "a"}) == {"events": [], "responses": []}
            assert await endpoint.request(json={"next_action": "b"}) == {"events": [], "responses": []}
            assert len(peers) == 2 and peers[0] == peers[1]
            internals.restore(["http"])
            await endpoint.request(json={"next_action": "c"})
            assert peers[2] != peers[0]  # Rasa's own session: a new connection per call
        finally:
            internals.restore(["http"])
            for _, session in endpoint.__dict__.get("_careerbot_sessions", {}).values():
                await session.close()
            await runner.cleanup()

    asyncio.run(scenario())
