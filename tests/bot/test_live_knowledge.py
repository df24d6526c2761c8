"""Editing a knowledge file while the bot runs: good edits apply, bad ones are refused."""

from __future__ import annotations

import os
import shutil

import pytest

from bot import KNOWLEDGE_DIR
from bot.knowledge import KnowledgeError, LiveKnowledge

REAL = KNOWLEDGE_DIR / "mortgage_servicing_specialist.yml"


def edit(path, old, new):
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new))
    stat = path.stat()  # make sure the change is visible even within one mtime tick
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))


@pytest.fixture
def live(tmp_path):
    shutil.copy(REAL, tmp_path / REAL.name)
    return LiveKnowledge(tmp_path, interval=0), tmp_path / REAL.name


def test_a_valid_edit_is_served_next(live):
    knowledge, path = live
    assert knowledge.get().career().pay_level("manager").high == 87000
    edit(path, "high: 87000", "high: 88000")
    assert knowledge.get().career().pay_level("manager").high == 88000


def test_an_invalid_edit_is_refused_and_logged(live, caplog):
    knowledge, path = live
    edit(path, "high: 87000", "high: 1000")  # now below its low
    with caplog.at_level("ERROR", logger="bot.knowledge"):
        served = knowledge.get()
    assert served.career().pay_level("manager").high == 87000  # the last good knowledge
    assert isinstance(knowledge.last_error, KnowledgeError)
    assert knowledge.last_error.field == "pay.levels[2].low"
    assert "pay.levels[2].low" in caplog.text and "still serving the last good knowledge" in caplog.text
    edit(path, "high: 1000", "high: 90000")  # fixed again
    assert knowledge.get().career().pay_level("manager").high == 90000
    assert knowledge.last_error is None


def test_a_broken_file_at_start_still_fails_loudly(tmp_path):
    (tmp_path / "broken.yml").write_text("career: {}\n")
    with pytest.raises(KnowledgeError):
        LiveKnowledge(tmp_path)
