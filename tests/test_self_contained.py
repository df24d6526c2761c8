"""A clone of the project is all a user has: nothing it builds or runs may read a path beside it.

`.ci/run` proves it for real (it runs `make test` in a fresh clone in an empty
folder); this test names the offending line at once, in seconds.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterator

from bot import PROJECT_DIR
from bot.rasa import offtopic

# What is generated or installed, not written by the project.
SKIPPED_DIRS = {".git", ".venv", ".venv-audit", "build", "models", "results", "reports", "var", "node_modules"}
CHECKED = {".py", ".yml", ".yaml", ".toml", ".cfg", ".ini", ".sh", ".json", ".html", ".js"}
OUTSIDE = re.compile(r"\.\./shared|\bshared/(data|source)\b")


def _project_files(directory: Path) -> Iterator[Path]:
    for path in sorted(directory.iterdir()):
        if path.is_dir():
            if path.name not in SKIPPED_DIRS and not path.name.startswith("."):
                yield from _project_files(path)
        elif path.suffix in CHECKED or path.name in {"Makefile", "run"}:
            yield path


def test_no_project_file_reads_a_folder_beside_the_project():
    hits = [
        f"{path.relative_to(PROJECT_DIR)}:{number}: {line.strip()}"
        for path in [*_project_files(PROJECT_DIR), PROJECT_DIR / ".ci" / "run"]
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not hits, "paths outside the project (a fresh clone has none of them):\n" + "\n".join(hits)


def test_the_off_topic_corpora_ship_with_the_project_and_their_licence(monkeypatch):
    monkeypatch.delenv(offtopic.ENV_VAR, raising=False)
    directory = offtopic.data_dir()
    assert directory == PROJECT_DIR / "data" / "offtopic"
    readme = (directory / "README.md").read_text(encoding="utf-8")
    for source in offtopic.SOURCES:
        assert f"`{source}.tsv`" in readme
    assert readme.count("CC BY 4.0") >= 2
    assert len(offtopic.load(directory)) > 20000
