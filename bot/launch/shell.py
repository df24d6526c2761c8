"""Chat with the bot in the terminal: starts the action server, then `rasa shell`.

    python -m bot.launch.shell

`rasa shell` goes through the project's launcher (bot/launch/rasa_run.py), so it has
the same set-up as the server, such as the action-call timeout.
"""

from __future__ import annotations

import subprocess
import sys

from bot import PROJECT_DIR
from bot.knowledge import KnowledgeError
from bot.launch.serve import RASA_RUN, Servers, StartError
from bot.settings import Settings, SettingsError


def main() -> int:
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    servers = Servers(settings, settings.models_dir / "careerbot.tar.gz", log_dir=PROJECT_DIR / "build" / "logs")
    try:
        servers.start_actions()
        return subprocess.call(
            [*RASA_RUN, "shell", "--model", str(servers.model), "--endpoints", str(servers.endpoints_file())],
            cwd=PROJECT_DIR,
            env=servers.env,
        )
    except (StartError, KnowledgeError) as error:
        print(f"error: {error} (log: build/logs/actions.log)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    finally:
        servers.stop()


if __name__ == "__main__":
    sys.exit(main())
