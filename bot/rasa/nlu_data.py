"""The NLU test sets as Rasa reads them (the held-out lines and the near-copy rule: bot/similarity.py)."""

from __future__ import annotations

from pathlib import Path
from typing import List, Tuple


def load_test_set(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]
