"""Measures intent accuracy of a trained model on the held-out NLU test set.

    python -m bot.evaluate [--model models/careerbot.tar.gz] [--test-set tests/nlu/test_set.yml]

An out_of_scope example counts as right when the model says out_of_scope or
falls back (nlu_fallback): the user gets the same fallback answer either way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import List, Tuple

from bot import PROJECT_DIR

FALLBACK_INTENT = "nlu_fallback"
OUT_OF_SCOPE = "out_of_scope"


@dataclass
class Report:
    results: List[Tuple[str, str, str]] = field(default_factory=list)  # text, expected, predicted

    @staticmethod
    def is_right(expected: str, predicted: str) -> bool:
        return predicted == expected or (expected == OUT_OF_SCOPE and predicted == FALLBACK_INTENT)

    @property
    def accuracy(self) -> float:
        right = sum(self.is_right(e, p) for _, e, p in self.results)
        return right / len(self.results) if self.results else 0.0

    @property
    def errors(self) -> List[Tuple[str, str, str]]:
        return [r for r in self.results if not self.is_right(r[1], r[2])]

    def summary(self) -> str:
        right = len(self.results) - len(self.errors)
        lines = [f"NLU intent accuracy: {self.accuracy:.1%} ({right}/{len(self.results)} held-out examples)"]
        by_intent = Counter(e for _, e, _ in self.errors)
        for intent, count in by_intent.most_common():
            lines.append(f"  {intent}: {count} wrong")
        for text, expected, predicted in self.errors:
            lines.append(f"  - {text!r}: expected {expected}, got {predicted}")
        return "\n".join(lines)


def load_test_set(path: Path) -> List[Tuple[str, str]]:
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(m.get("text"), m.get("intent")) for m in data.intent_examples]


def quiet_rasa() -> None:
    """Rasa logs every parse at debug level through structlog unless told otherwise."""
    import logging

    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)


async def evaluate(model: Path, test_set: Path) -> Report:
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    report = Report()
    for text, expected in load_test_set(test_set):
        parsed = await agent.parse_message(text)
        report.results.append((text, expected, parsed["intent"]["name"]))
    return report


def main(argv: List[str] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=PROJECT_DIR / "models" / "careerbot.tar.gz")
    parser.add_argument("--test-set", type=Path, default=PROJECT_DIR / "tests" / "nlu" / "test_set.yml")
    args = parser.parse_args(argv)
    os.chdir(PROJECT_DIR)  # the model's SpacyNLP path is relative to the project
    quiet_rasa()
    report = asyncio.run(evaluate(args.model, args.test_set))
    print(report.summary())
    return 0


if __name__ == "__main__":
    sys.exit(main())
