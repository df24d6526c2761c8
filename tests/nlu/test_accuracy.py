"""Intent accuracy of the trained model on the held-out test set (never trained on)."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path


from bot import PROJECT_DIR
from bot.evaluate import evaluate, load_test_set

TEST_SET = Path(__file__).resolve().parent / "test_set.yml"
MODEL = PROJECT_DIR / "models" / "careerbot.tar.gz"
REQUIRED_ACCURACY = 0.95


def _normalise(text: str) -> str:
    return " ".join("".join(c for c in text.lower() if c.isalnum() or c.isspace()).split())


def test_test_set_is_large_and_held_out():
    from rasa.shared.nlu.training_data.loading import load_data

    examples = load_test_set(TEST_SET)
    assert len(examples) >= 150
    training = {_normalise(m.get("text")) for m in load_data(str(PROJECT_DIR / "data" / "nlu")).intent_examples}
    overlap = [text for text, _ in examples if _normalise(text) in training]
    assert overlap == [], "test examples found in the training data"


def test_intent_accuracy(capsys):
    assert MODEL.exists(), f"no trained model at {MODEL}: run `make train`"
    cwd = os.getcwd()
    os.chdir(PROJECT_DIR)  # the model's SpacyNLP path is relative to the project
    try:
        report = asyncio.run(evaluate(MODEL, TEST_SET))
    finally:
        os.chdir(cwd)
    with capsys.disabled():
        print("\n" + report.summary())
    assert report.accuracy >= REQUIRED_ACCURACY
