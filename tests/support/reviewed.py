"""The review's NLU files (data/nlu/reviewed.yml, reviewed_out_of_scope.yml) written into a test's copy of data/."""

from __future__ import annotations

from pathlib import Path
from typing import Dict, List


def write_reviewed(data: Path, name: str, lines_by_intent: Dict[str, List[str]]) -> None:
    """A reviewed NLU file as the review writes it: the list form, each example with its message id."""
    body = ['version: "3.1"', "nlu:"]
    for intent, texts in lines_by_intent.items():
        body.append(f"- intent: {intent}")
        body.append("  examples:")
        for number, text in enumerate(texts):
            body.append(f"  - text: {text!r}")
            body.append(f"    metadata: {{review: m{number:015d}}}")
    (data / "nlu").mkdir(parents=True, exist_ok=True)
    (data / "nlu" / name).write_text("\n".join(body) + "\n", encoding="utf-8")
