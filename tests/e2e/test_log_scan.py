"""Log scan after failed turns: the Rasa server's and the action server's log files hold no
visitor text, e-mail address or conversation id, unless CAREERBOT_LOG_CONTENT=true.

Both servers run at LOG_LEVEL=DEBUG, where Rasa writes every message and slot value:
the strictest case. The turns go through the handoff form (an e-mail address and a
free-text question), an action fails with the visitor's text in its exception, and
the last turn is typed while the action server is frozen, which is then killed.
"""

from __future__ import annotations

import json
import os
import signal
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict

import pytest
import requests

from bot import PROJECT_DIR, logs
from bot.launch.processes import wait_until
from bot.launch.serve import Servers
from bot.settings import Settings

SENDER = "visitor-q7x-kestrel-0452"
EMAIL = "zoltan.quaxley@example.org"
QUESTION = "Could Zoltan Quaxley start part-time while caring for his mother"
LAST_WORDS = "my landlord Orwin Pettigrew will not wait"
# The text of a turn that an action fails on, with that text in the exception.
FAILING_TEXT = "Quaxley_private_matter"
SESSION_SECRET = "log-test-session-secret-0123456789"
# Rasa's debug line before each call to the action server.
ACTION_CALL_LINE = "Calling action endpoint to run action"


def run_failed_conversation(workdir: Path, free_ports, log_content: bool) -> Dict[str, str]:
    """Runs the servers, has the conversation, stops them; returns each server's log."""
    settings = Settings.from_env(
        {
            "CAREERBOT_RASA_PORT": str(free_ports()),
            "CAREERBOT_ACTION_PORT": str(free_ports()),
            "CAREERBOT_WIDGET_PORT": str(free_ports()),
            "CAREERBOT_TRACKER_URL": f"sqlite:///{workdir / 'tracker.db'}",
        }
    )
    # Handoff delivery to an SMTP server and a webhook that are not there: the
    # outbox worker's retries and their errors are in the logs being scanned.
    env = {
        "LOG_LEVEL": "DEBUG",
        "CAREERBOT_ACTION_TIMEOUT": "2",
        "CAREERBOT_SESSION_SECRET": SESSION_SECRET,
        "CAREERBOT_LOG_CONTENT": "true" if log_content else "false",
        "CAREERBOT_HANDOFF_SMTP_URL": f"smtp://127.0.0.1:{free_ports()}",
        "CAREERBOT_HANDOFF_EMAIL_TO": "team@careers.example.com",
        "CAREERBOT_HANDOFF_EMAIL_FROM": "bot@careers.example.com",
        "CAREERBOT_HANDOFF_WEBHOOK_URL": f"http://127.0.0.1:{free_ports()}/handoffs",
        "CAREERBOT_HANDOFF_WEBHOOK_SECRET": "log-test-webhook-secret",
        "CAREERBOT_HANDOFF_POLL_S": "0.5",
    }
    log_dir = workdir / "logs"
    with Servers(settings, PROJECT_DIR / "models" / "careerbot.tar.gz", log_dir=log_dir, extra_env=env) as servers:

        def say(text: str) -> str:
            response = requests.post(
                f"{servers.rasa_url}/webhooks/rest/webhook", timeout=120, json={"sender": SENDER, "message": text}
            )
            assert response.status_code == 200, response.text
            return " ".join(message.get("text", "") for message in response.json())

        assert "email" in say("can I talk to a person?").lower()
        say(EMAIL)
        assert EMAIL in say(QUESTION)

        action_call = {
            "next_action": "action_answer_pay",
            "sender_id": SENDER,
            "tracker": {
                "sender_id": SENDER,
                "slots": {},
                "events": [{"event": "user", "text": FAILING_TEXT}],
                "latest_message": {"text": FAILING_TEXT, "intent": {"name": "ask_pay"}, "entities": []},
            },
            # A response whose placeholder is the visitor's text: the action raises KeyError(text).
            "domain": {"responses": {"utter_pay_line": [{"text": "{" + FAILING_TEXT + "}"}]}},
        }
        failed = requests.post(f"{servers.action_url}/webhook", json=action_call, timeout=30)
        assert failed.status_code == 500
        assert FAILING_TEXT not in failed.text and SENDER not in failed.text, "the 500 repeats the request"

        # The last turn is typed while the action server is frozen, and then it is killed.
        rasa_log = log_dir / "rasa.log"
        calls_before = rasa_log.read_text(errors="replace").count(ACTION_CALL_LINE)
        os.kill(servers.actions.pid, signal.SIGSTOP)
        with ThreadPoolExecutor(1) as pool:
            last_turn = pool.submit(say, f"{LAST_WORDS}, write to {EMAIL}")
            wait_until(
                lambda: rasa_log.read_text(errors="replace").count(ACTION_CALL_LINE) > calls_before,
                60,
                "Rasa calls the frozen action server",
            )
            os.kill(servers.actions.pid, signal.SIGKILL)
            servers.stop_actions()
            last_turn.result(timeout=120)
    return {
        name: (log_dir / f"{name}.log").read_text(encoding="utf-8", errors="replace") for name in ("rasa", "actions")
    }


@pytest.fixture(scope="module")
def redacted_logs(tmp_path_factory, free_ports):
    return run_failed_conversation(tmp_path_factory.mktemp("logs_redacted"), free_ports, log_content=False)


@pytest.fixture(scope="module")
def content_logs(tmp_path_factory, free_ports):
    return run_failed_conversation(tmp_path_factory.mktemp("logs_content"), free_ports, log_content=True)


VISITOR_STRINGS = [
    SENDER,
    EMAIL,
    QUESTION,
    "Quaxley",
    LAST_WORDS,
    "Pettigrew",
    FAILING_TEXT,
    json.dumps(QUESTION)[1:-1],
]


@pytest.mark.parametrize("server", ["rasa", "actions"])
def test_no_visitor_text_email_or_id_in_any_log_line(redacted_logs, server):
    log = redacted_logs[server]
    assert log.strip(), f"the {server} server logged nothing"
    found = [s for s in VISITOR_STRINGS if s in log]
    assert not found, f"{server}.log holds {found}"


def test_the_rasa_log_says_where_text_and_ids_were(redacted_logs):
    log = redacted_logs["rasa"]
    assert logs.REDACTED_TEXT in log
    # The same conversation keeps one tag, keyed with the session secret.
    assert logs.sender_tag(SENDER, SESSION_SECRET.encode()) in log
    # The failures themselves are still logged.
    assert "Failed to run custom action" in log or "Encountered an exception while running action" in log


def test_the_failed_action_is_logged_with_its_traceback_redacted(redacted_logs):
    log = redacted_logs["actions"]
    assert "the action call failed" in log and "Traceback (most recent call last)" in log
    assert f"KeyError: '{logs.REDACTED_TEXT}'" in log


def test_with_log_content_on_the_logs_hold_it(content_logs):
    assert SENDER in content_logs["rasa"] and EMAIL in content_logs["rasa"] and LAST_WORDS in content_logs["rasa"]
    assert f"KeyError: '{FAILING_TEXT}'" in content_logs["actions"]
    assert logs.REDACTED_TEXT not in content_logs["rasa"] + content_logs["actions"]
