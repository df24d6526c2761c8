"""Where a path option of config.yml (a held-out set, an embedding file) points."""

from __future__ import annotations

from pathlib import Path

from bot import PROJECT_DIR


def project_path(path: str) -> Path:
    """`path` as written, or under the project's folder when relative: Rasa may run from anywhere."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_DIR / candidate
