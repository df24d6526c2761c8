"""docker-compose.yml passes the action server every handoff setting that bot/settings.py reads,
and refuses to start the published REST webhook without its token; every service restarts
and has a health check, and .dockerignore keeps the venv and the databases out of the image.

The names come from bot/settings.py's source, so a setting added there and
forgotten in the compose file fails here. No Docker engine runs here; the
compose client's own `config` needs none, and runs where a client is installed
(Debian's `docker-compose`, or Docker's compose plugin).
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
from typing import List

import pytest
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


def rasa_services() -> dict:
    services = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())["services"]
    return {name: service for name, service in services.items() if "bot.launch.rasa_run" in service.get("command", "")}


def test_every_rasa_instance_requires_the_rest_token_as_it_does_the_session_secret():
    """The finding: nginx published REST on port 80 with CAREERBOT_REST_TOKEN unset, so anyone could post
    as any conversation. `${VAR:?message}` makes compose stop with the message when VAR is unset or empty."""
    instances = rasa_services()
    assert set(instances) >= {"rasa-a", "rasa-b"}
    for name, service in instances.items():
        for variable in ("CAREERBOT_REST_TOKEN", "CAREERBOT_SESSION_SECRET"):
            assert service["environment"][variable].startswith(f"${{{variable}:?"), (name, variable)


def compose_client() -> List[str]:
    if shutil.which("docker") and subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.skip("no docker compose client here (apt-get install docker-compose); the test above checks the file")


def test_compose_itself_refuses_the_file_without_the_rest_token(tmp_path):
    client = compose_client()
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(tmp_path),
        "POSTGRES_PASSWORD": "password",
        "CAREERBOT_CORS_ORIGINS": "https://careers.example.com",
        "CAREERBOT_SESSION_SECRET": "s" * 32,
    }

    no_dotenv = tmp_path / "empty.env"  # a developer's .env beside the file must not fill the gap
    no_dotenv.write_text("")

    def config(**extra: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [
                *client,
                "--project-directory",
                str(PROJECT_DIR),
                "--env-file",
                str(no_dotenv),
                "-f",
                str(PROJECT_DIR / "docker-compose.yml"),
                "config",
                "-q",
            ],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = config()
    assert refused.returncode != 0
    assert "set CAREERBOT_REST_TOKEN to a long random string" in refused.stderr
    accepted = config(CAREERBOT_REST_TOKEN="t" * 32)
    assert accepted.returncode == 0, accepted.stderr


def test_every_compose_service_restarts_and_has_a_health_check():
    services = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())["services"]
    assert set(services) >= {"postgres", "redis", "actions", "rasa-a", "rasa-b", "nginx"}
    for name, service in services.items():
        assert service.get("restart") == "unless-stopped", name
        assert service.get("healthcheck", {}).get("test"), name
    assert "/health/ready" in " ".join(services["rasa-a"]["healthcheck"]["test"])
    assert "/health" in " ".join(services["actions"]["healthcheck"]["test"])
    assert "pg_isready" in services["postgres"]["healthcheck"]["test"]
    assert services["redis"]["healthcheck"]["test"][1:] == ["redis-cli", "ping"]


def test_every_compose_rasa_instance_gets_the_same_session_secret_from_the_environment():
    services = yaml.safe_load((PROJECT_DIR / "docker-compose.yml").read_text())["services"]
    for name in ("rasa-a", "rasa-b"):
        secret = services[name]["environment"]["CAREERBOT_SESSION_SECRET"]
        assert secret.startswith("${CAREERBOT_SESSION_SECRET:?"), name


def test_the_image_gets_neither_the_venv_nor_the_database():
    ignored = {
        line.strip()
        for line in (PROJECT_DIR / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    }
    assert {".venv", "var", "build", "models", ".git", "**/*.db"} <= ignored
    dockerfile = (PROJECT_DIR / "deploy" / "Dockerfile").read_text()
    assert "COPY . ." not in dockerfile
