"""`rasa run` in a process the project prepares first.

    python -m bot.launch.rasa_run --model ... --endpoints ... (the arguments of `rasa run`)
    python -m bot.launch.rasa_run shell --model ... (`rasa shell`, for bot.launch.shell)

Some of what the Rasa server needs is process-wide and must be in place before
Rasa builds its app: log redaction, and every replacement of Rasa's own code
(bot/rasa/internals.py: the action-call timeout, the speed-ups, ...). Doing it
here, in the one entry point every launcher uses (bot.launch.serve, the
benchmark, docker-compose), keeps it out of import-time side effects and
constructors of unrelated modules. A tracker store or lock store class that
cannot be imported stops the start here, with the reason: for the tracker
store Rasa itself would warn and keep conversations in memory, for the lock
store it would fail with a bare traceback.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional


def prepare(argv: List[str]) -> None:
    """Process-wide set-up before Rasa starts: settings, log redaction, the replacements of bot/rasa/internals.py."""
    from bot.settings import PlatformAPIs, Settings, SettingsError, set_environment

    set_environment("RASA_TELEMETRY_ENABLED", "false", keep_set=True)
    try:
        settings = Settings.from_env()
        # The channels read these when Rasa builds them: a bad one stops the start, not a reply.
        PlatformAPIs.from_env()
    except SettingsError as error:
        sys.exit(f"error: {error}")
    problem = tracker_store_problem(argv) or lock_store_problem(argv)
    if problem:
        sys.exit(f"error: {problem}")
    from bot import logs
    from bot.rasa import internals

    internals.install_in_rasa_server(settings, redact_logs=logs.install(settings))


def tracker_store_problem(argv: List[str]) -> Optional[str]:
    """Why the tracker store that the --endpoints file names cannot be loaded, or None.

    Rasa imports a custom store's class when it loads the model and, if that
    fails, only warns and keeps every conversation in memory (lost on restart,
    not shared between instances). Checked here first, so that such a start
    fails with the reason instead.
    """
    return _class_problem(argv, "tracker_store", "tracker store")


def lock_store_problem(argv: List[str]) -> Optional[str]:
    """Why the lock store that the --endpoints file names cannot be loaded, or None.

    Several instances keep one conversation's messages apart only through the
    shared lock store (bot/rasa/lock_store.py); a class path that does not
    import must stop the start with the reason, not with Rasa's traceback.
    """
    return _class_problem(argv, "lock_store", "lock store")


def _class_problem(argv: List[str], block: str, what: str) -> Optional[str]:
    """Why the class that `block` of the --endpoints file names by module path cannot be imported, or None."""
    endpoints = _option(argv, "--endpoints")
    if endpoints is None or not os.path.isfile(endpoints):
        return None
    import yaml
    from rasa.shared.utils.common import class_from_module_path

    with open(endpoints, encoding="utf-8") as file:
        config = yaml.safe_load(file) or {}
    store = config.get(block) if isinstance(config, dict) else None
    kind = store.get("type") if isinstance(store, dict) else None
    if not isinstance(kind, str) or "." not in kind:
        return None  # no store, or one of Rasa's own by name
    try:
        class_from_module_path(kind)
    except (ImportError, AttributeError) as error:
        return f"the {what} {kind!r} in {endpoints} cannot be imported ({type(error).__name__}: {error})"
    return None


def _option(argv: List[str], name: str) -> Optional[str]:
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def main(argv: Optional[List[str]] = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    prepare(args)
    from rasa.__main__ import main as rasa_main

    # `python -m bot.launch.rasa_run shell ...` runs `rasa shell` (bot.launch.shell) with the same set-up.
    command = [args.pop(0)] if args[:1] == ["shell"] else ["run"]
    sys.argv = ["rasa", *command, *args]
    rasa_main()


if __name__ == "__main__":
    main()
