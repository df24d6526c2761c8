"""docker-compose.yml passes the action server every handoff setting that bot/settings.py reads.

The names come from bot/settings.py's source, so a setting added there and
forgotten in the compose file fails here.
"""

from __future__ import annotations

import ast
import re

import yaml

from bot import PROJECT_DIR


def handoff_variables() -> set:
    tree = ast.parse((PROJECT_DIR / "bot" / "settings.py").read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"CAREERBOT_HANDOFF_[A-Z0-9_]+", node.value)
    }


def test_the_action_server_gets_every_handoff_setting_from_the_environment():
    names = handoff_variables()
    assert "CAREERBOT_HANDOFF_SMTP_URL" in names  # the scan itself found the settings
    environment = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())["services"]["actions"]["environment"]
    for name in sorted(names):
        # From the deployment's environment (.env), never a value written into the file.
        assert environment.get(name) == f"${{{name}:-}}", name


def test_the_handoff_outbox_is_in_the_same_store_as_the_conversations():
    """The outbox table lives in the conversation store; a SQLite file in the container would be lost with it."""
    services = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())["services"]
    store = services["rasa-a"]["environment"]["CAREERBOT_TRACKER_URL"]
    assert store.startswith("postgresql://")
    assert services["actions"]["environment"]["CAREERBOT_TRACKER_URL"] == store
    assert services["actions"]["depends_on"]["postgres"] == {"condition": "service_healthy"}
