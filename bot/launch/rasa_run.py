"""`rasa run` in a process the project prepares first.

    python -m bot.launch.rasa_run --model ... --endpoints ... (the arguments of `rasa run`)
    python -m bot.launch.rasa_run shell --model ... (`rasa shell`, for bot.launch.shell)

Some of what the Rasa server needs is process-wide and must be in place before
Rasa builds its app: request limits, log redaction, the action-call timeout.
Doing it here, in the one entry point every launcher uses (bot.launch.serve, the
benchmark, docker-compose), keeps it out of import-time side effects of
unrelated modules.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional


def install_action_timeout(seconds: float) -> None:
    """Rasa waits at most `seconds` for the action server, instead of 5 minutes.

    ``RemoteAction.run`` passes the module's ``DEFAULT_REQUEST_TIMEOUT`` (300 s)
    as the timeout of each call, read when the call is made; a per-call timeout
    overrides the session's, so this holds with bot/rasa/speedups.py's kept
    sessions too. A call that runs out raises ``asyncio.TimeoutError``; Rasa
    logs it and the turn ends without the action's reply, so the REST channel
    sends the domain's apology (bot/channels/rest.py) within this time; before,
    a frozen action server held every turn until Sanic's 60 s response
    timeout. Other HTTP endpoints (NLG server, model server) keep Rasa's timeout.
    """
    import rasa.core.actions.action as action

    action.DEFAULT_REQUEST_TIMEOUT = seconds  # type: ignore[assignment]


def prepare() -> None:
    """Process-wide set-up before Rasa starts; each step is documented where it is defined."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as error:
        sys.exit(f"error: {error}")
    install_action_timeout(settings.action_timeout_s)
    from bot import logs

    logs.install_in_rasa_server()


def main(argv: Optional[List[str]] = None) -> None:
    prepare()
    from rasa.__main__ import main as rasa_main

    args = list(sys.argv[1:] if argv is None else argv)
    # `python -m bot.launch.rasa_run shell ...` runs `rasa shell` (bot.launch.shell) with the same set-up.
    command = [args.pop(0)] if args[:1] == ["shell"] else ["run"]
    sys.argv = ["rasa", *command, *args]
    rasa_main()


if __name__ == "__main__":
    main()
