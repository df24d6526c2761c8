"""An editor changes the knowledge file while the real servers run."""

from __future__ import annotations

import shutil
import time

import pytest
import requests

from bot import KNOWLEDGE_DIR
from bot.launch.processes import wait_until
from tests.support.servers import running as running_servers

REAL = KNOWLEDGE_DIR / "mortgage_servicing_specialist.yml"


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("live")
    knowledge_dir = workdir / "knowledge"
    knowledge_dir.mkdir()
    shutil.copy(REAL, knowledge_dir / REAL.name)
    for servers in running_servers(workdir, CAREERBOT_KNOWLEDGE_DIR=str(knowledge_dir)):
        yield servers, knowledge_dir / REAL.name, workdir / "logs" / "actions.log"


def ask(servers, message):
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook",
                             json={"sender": f"live-{time.time_ns()}", "message": message}, timeout=30)
    return "\n".join(m.get("text", "") for m in response.json())


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_edits_apply_without_restart_and_bad_edits_are_refused(running):
    servers, knowledge_file, actions_log = running
    assert "Loan managers earn $59,000 to $87,000" in ask(servers, "what do loan managers earn?")

    edit(knowledge_file, "high: 87000", "high: 91000")
    wait_until(lambda: "$59,000 to $91,000" in ask(servers, "what do loan managers earn?"), 10, "the edit applies",
               interval=0.5)

    edit(knowledge_file, "high: 91000", "high: 100")  # below its low: invalid
    answers = []
    # The knowledge is checked when an answer needs it: keep asking until the edit was seen.
    wait_until(lambda: answers.append(ask(servers, "what do loan managers earn?"))
               or "pay.levels[2].low" in actions_log.read_text(), 10, "the bad edit is refused", interval=0.5)
    assert "knowledge edit rejected" in actions_log.read_text()
    assert all("$59,000 to $91,000" in answer for answer in answers)  # the last good knowledge, every time
