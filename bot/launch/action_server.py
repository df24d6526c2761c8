"""Starts the rasa-sdk action server after loading the knowledge.

Loading first means a broken knowledge file stops start-up with the file, the
field and what was expected, instead of failing on the first user question.

    python -m bot.launch.action_server

Its log lines hold no visitor text unless CAREERBOT_LOG_CONTENT=true (bot/logs.py);
LOG_LEVEL (Rasa's variable: DEBUG, INFO, WARNING...) sets their level, INFO by default.
"""

from __future__ import annotations

import asyncio
import logging
import sys

import pluggy
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import logs
from bot.handoff import worker
from bot.knowledge import KnowledgeError, default_knowledge
from bot.rasa import internals
from bot.settings import Settings, SettingsError, log_level, set_environment

logger = logging.getLogger(__name__)


class QuietErrors:
    """A rasa-sdk plugin: a failed action call is answered without the request in the body.

    rasa-sdk answers an exception with a 500 whose body repeats the whole
    request, every message of the conversation included, and Rasa logs that
    body with its traceback. The details stay in this server's log instead.
    """

    @pluggy.HookimplMarker("rasa_sdk")
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        @app.exception(Exception)
        async def action_failed(request: Request, exception: Exception) -> HTTPResponse:
            logger.error("the action call failed", exc_info=exception)
            return response.json({"error": "the action failed; the action server's log has the details"}, status=500)


class HandoffWorker:
    """A rasa-sdk plugin: the handoff outbox worker runs in the action server's event loop."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    @pluggy.HookimplMarker("rasa_sdk")
    def attach_sanic_app_extensions(self, app: Sanic) -> None:
        running = worker.start(self.settings.tracker_url, self.settings.handoff)
        if running is None:
            return

        async def run_worker(app_: Sanic, _loop: asyncio.AbstractEventLoop) -> None:
            app_.add_task(running.run())

        app.register_listener(run_worker, "after_server_start")


def main() -> int:
    logging.basicConfig(
        level=log_level(),
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    try:
        settings = Settings.from_env()
        knowledge = default_knowledge()
    except (KnowledgeError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    if logs.install(settings):
        internals.install_in_action_server()
    logging.getLogger(__name__).info(
        "knowledge loaded: %s (default %s)", ", ".join(sorted(knowledge.careers)), knowledge.default_id
    )
    # rasa-sdk reads its bind address from SANIC_HOST; keep it on loopback
    # unless the settings say otherwise.
    set_environment("SANIC_HOST", settings.action_host)
    from rasa_sdk.endpoint import run
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().register(QuietErrors())
    plugin_manager().register(HandoffWorker(settings))
    run("actions", port=settings.action_port, cors_origins=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
