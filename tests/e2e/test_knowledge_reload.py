"""An editor changes, adds and removes career files while the real servers run."""

from __future__ import annotations

import shutil
import time

import pytest
import requests

from bot import KNOWLEDGE_DIR
from bot.knowledge import career_files
from bot.launch.processes import wait_until
from tests.conftest import DEFAULT_CAREER, FIXTURES
from tests.support.servers import running as running_servers

REAL = KNOWLEDGE_DIR / "mortgage_servicing_specialist.yml"
FIXTURE = FIXTURES / "knowledge" / "lighthouse_keeper.yml"
# The action server looks at the files at most once a second (bot/knowledge.py, LiveKnowledge); the
# deadline leaves room for a busy machine's slow answers, and the polling returns as soon as one is right.
DEADLINE_S = 10
# The fixture's pay, which no real career has.
FIXTURE_PAY = "$11,000 to $13,000"
DEFAULT_PAY = "$24,000 to $42,000"  # the default career's (mortgage servicing specialists) starting level


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    """The real servers on a copy of the real knowledge directory (every career file), with its default career."""
    workdir = tmp_path_factory.mktemp("live")
    knowledge_dir = workdir / "knowledge"
    knowledge_dir.mkdir()
    for path in career_files(KNOWLEDGE_DIR):
        shutil.copy(path, knowledge_dir / path.name)
    assert (knowledge_dir / f"{DEFAULT_CAREER}.yml").exists()
    for servers in running_servers(
        workdir, CAREERBOT_KNOWLEDGE_DIR=str(knowledge_dir), CAREERBOT_CAREER=DEFAULT_CAREER
    ):
        yield servers, knowledge_dir, workdir / "logs" / "actions.log"


@pytest.fixture
def site(running):
    """The running servers; the knowledge directory as the test found it once the test ends."""
    servers, knowledge_dir, actions_log = running
    before = {path.name: path.read_bytes() for path in career_files(knowledge_dir)}
    yield servers, knowledge_dir, actions_log
    for path in career_files(knowledge_dir):
        if path.name not in before:
            path.unlink()
    for name, content in before.items():
        path = knowledge_dir / name
        if not path.exists() or path.read_bytes() != content:
            path.write_bytes(content)


def ask(servers, message, sender=None, career=None):
    body = {"sender": sender or f"live-{time.time_ns()}", "message": message}
    if career is not None:
        body["metadata"] = {"context": {"career": career}}
    response = requests.post(f"{servers.rasa_url}/webhooks/rest/webhook", json=body, timeout=30)
    assert response.status_code == 200
    return "\n".join(m.get("text", "") for m in response.json())


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))


def test_edits_apply_without_restart_and_bad_edits_are_refused(site):
    servers, knowledge_dir, actions_log = site
    knowledge_file = knowledge_dir / REAL.name
    assert "Loan managers earn $59,000 to $87,000" in ask(servers, "what do loan managers earn?")

    edit(knowledge_file, "high: 87000", "high: 91000")
    wait_until(
        lambda: "$59,000 to $91,000" in ask(servers, "what do loan managers earn?"),
        DEADLINE_S,
        "the edit applies",
        interval=0.5,
    )

    edit(knowledge_file, "high: 91000", "high: 100")  # below its low: invalid
    answers = []
    # The knowledge is checked when an answer needs it: keep asking until the edit was seen.
    wait_until(
        lambda: (
            answers.append(ask(servers, "what do loan managers earn?"))
            or "pay.levels[2].low" in actions_log.read_text()
        ),
        DEADLINE_S,
        "the bad edit is refused",
        interval=0.5,
    )
    assert "knowledge edit rejected" in actions_log.read_text()
    assert all("$59,000 to $91,000" in answer for answer in answers)  # the last good knowledge, every time


def astronomers_file():
    """The fixture career as a new site's page: its own id (the file name) and names."""
    text = FIXTURE.read_text()
    for old, new in (
        ("id: lighthouse_keeper", "id: astronomers"),
        ("name: lighthouse keeper", "name: astronomer"),
        ("plural: lighthouse keepers", "plural: astronomers"),
    ):
        assert old in text
        text = text.replace(old, new)
    return text


def test_a_new_career_file_is_answered_and_a_removed_one_no_longer(site):
    servers, knowledge_dir, _ = site
    pay_question = "how much do they earn?"
    # Before the file: the page's unknown career gets the default career, a question naming it not its facts.
    assert DEFAULT_PAY in ask(servers, pay_question, career="astronomers")
    assert FIXTURE_PAY not in ask(servers, "how much do astronomers earn?")

    new_file = knowledge_dir / "astronomers.yml"
    new_file.write_text(astronomers_file())
    # No retraining, no restart: the page's context and the name in a message both reach the new file.
    wait_until(
        lambda: FIXTURE_PAY in ask(servers, pay_question, career="astronomers"),
        DEADLINE_S,
        "the new career's page is answered from its file",
        interval=0.5,
    )
    assert FIXTURE_PAY in ask(servers, "how much do astronomers earn?")
    visitor = f"stays-{time.time_ns()}"
    answer = ask(servers, "what are the working hours?", sender=visitor, career="astronomers")
    assert "6pm to 6am" in answer and "Test Fixture Handbook" in answer

    new_file.unlink()
    # The removed career's page falls back to the default career, not the removed facts ...
    wait_until(
        lambda: DEFAULT_PAY in ask(servers, pay_question, career="astronomers"),
        DEADLINE_S,
        "the removed career's page gets the default career",
        interval=0.5,
    )
    assert FIXTURE_PAY not in ask(servers, "how much do astronomers earn?")
    # ... and so does a conversation that was about it.
    answer = ask(servers, pay_question, sender=visitor, career="astronomers")
    assert DEFAULT_PAY in answer and FIXTURE_PAY not in answer


def test_a_real_career_removed_is_no_longer_served(site):
    servers, knowledge_dir, _ = site
    assert "$32,620" in ask(servers, "how much do they earn?", career="tellers")  # tellers' median
    (knowledge_dir / "tellers.yml").unlink()
    wait_until(
        lambda: DEFAULT_PAY in ask(servers, "how much do they earn?", career="tellers"),
        DEADLINE_S,
        "the removed career's page gets the default career",
        interval=0.5,
    )
    assert "$32,620" not in ask(servers, "how much do bank tellers make?")
