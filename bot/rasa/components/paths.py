"""Where a path option of config.yml (a held-out set, an embedding file) points."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot import PROJECT_DIR


def project_path(path: str) -> Path:
    """`path` as written, or under the project's folder when relative: Rasa may run from anywhere."""
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_DIR / candidate


def file_digest(*paths: Path) -> str:
    """One SHA-256 over the files' contents (a missing file counts as empty: the component's own load
    names it), for a component's `fingerprint_addon`."""
    digest = hashlib.sha256()
    for path in paths:
        digest.update(str(path).encode() + b"\0")
        if path.is_file():
            with open(path, "rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
        digest.update(b"\0")
    return digest.hexdigest()
