"""`rasa run` in a process the project prepares first.

    python -m bot.rasa_run --model ... --endpoints ... (the arguments of `rasa run`)

Some of what the Rasa server needs is process-wide and must be in place before
Rasa builds its app: request limits, log redaction, the action-call timeout.
Doing it here, in the one entry point every launcher uses (bot.serve, the
benchmark, docker-compose), keeps it out of import-time side effects of
unrelated modules.
"""

from __future__ import annotations

import os
import sys
from typing import List, Optional


def prepare() -> None:
    """Process-wide set-up before Rasa starts; each step is documented where it is defined."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    from bot import logs
    logs.install_in_rasa_server()


def main(argv: Optional[List[str]] = None) -> None:
    prepare()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", "run", *(sys.argv[1:] if argv is None else argv)]
    rasa_main()


if __name__ == "__main__":
    main()
