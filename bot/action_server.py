"""Starts the rasa-sdk action server after loading the knowledge.

Loading first means a broken knowledge file stops start-up with the file, the
field and what was expected, instead of failing on the first user question.

    python -m bot.action_server
"""

from __future__ import annotations

import logging
import os
import sys

from bot.knowledge import KnowledgeError, default_knowledge
from bot.settings import Settings, SettingsError


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    try:
        settings = Settings.from_env()
        knowledge = default_knowledge()
    except (KnowledgeError, SettingsError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    logging.getLogger(__name__).info(
        "knowledge loaded: %s (default %s)", ", ".join(sorted(knowledge.careers)), knowledge.default_id
    )
    # rasa-sdk reads its bind address from SANIC_HOST; keep it on loopback
    # unless the settings say otherwise.
    os.environ["SANIC_HOST"] = settings.action_host
    from rasa_sdk.endpoint import run

    run("actions", port=settings.action_port, cors_origins=None)
    return 0


if __name__ == "__main__":
    sys.exit(main())
