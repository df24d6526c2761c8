"""What running the whole sentence encoder per message would buy, and cost (issue 20's trade-off, measured).

The bot reads a message through static token vectors distilled from all-MiniLM-L6-v2
(bot/devtools/minilm.py): a table lookup. The encoder itself, run on the message, reads
words in context. This trial measures, on the dev sets only, what it would add:

- "as built": the trained model's own classifier, its top intent (no gate, no fallback);
- "cascade at T": the same, except that a message the classifier is less than T sure
  of is also encoded, and its topic is the product of the classifier's probabilities
  and those of a second logistic regression over the encoder's vector (trained on the
  same lines); "every message" escalates them all.

For each it prints the top-intent accuracy on dev set 2, dev set 1 and their misspelled
variants (the encoder reads the tokens as the spelling normaliser left them), the share
of off-topic dev lines given an in-scope intent, and the share of messages escalated;
then the encoder's cost: milliseconds per message (one at a time, as the bot would)
and seconds to encode the training lines (what `make train` would add).

    make encoder-trial        # fetches the encoder's weights into build/minilm-full/ first
    python -m bot.devtools.encoder_trial --encoder build/minilm-full [--model models/careerbot.tar.gz]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np

from bot import PROJECT_DIR
from bot.devtools import evaluate as ev
from bot.devtools import noise

THRESHOLDS = (0.5, 0.7, 0.9)
EVERY = float("inf")
OUT_OF_SCOPE = "out_of_scope"


def cascade(first: np.ndarray, second: np.ndarray, threshold: float) -> Tuple[np.ndarray, np.ndarray]:
    """Class indices and escalated rows: a row under `threshold` takes the argmax of both models' product."""
    escalated = first.max(axis=1) < threshold
    joint = np.log(first + 1e-12) + np.log(second + 1e-12)
    return np.where(escalated, joint.argmax(axis=1), first.argmax(axis=1)), escalated


@dataclass
class Lines:
    name: str
    intents: List[str]
    features: Any  # the classifier's input rows (scipy sparse)
    read: List[str]  # the text as the featurizers read it (tokens after spelling correction)


class Capture:
    """The trained model, parsing lines and keeping what its classifier was given."""

    def __init__(self, model: Path) -> None:
        from rasa.nlu.constants import TOKENS_NAMES
        from rasa.shared.nlu.constants import TEXT

        from bot.rasa.components.logistic_classifier import TunedLogisticRegressionClassifier

        self._rows: List[Any] = []
        self._read: List[str] = []
        original = TunedLogisticRegressionClassifier.process

        # Wrapped before the model loads: each graph node keeps the bound method it started with.
        def process(component: TunedLogisticRegressionClassifier, messages: List[Any]) -> List[Any]:
            import scipy.sparse as sp

            self._rows.append(sp.csr_matrix(component._create_X(messages)))
            self._read += [" ".join(t.text for t in m.get(TOKENS_NAMES[TEXT]) or []) for m in messages]
            return original(component, messages)

        TunedLogisticRegressionClassifier.process = process  # type: ignore[method-assign,assignment]
        self.parser = ev.Parser(model)
        self.classifier: Optional[TunedLogisticRegressionClassifier] = None
        for node in self.parser.agent.processor.graph_runner._instantiated_nodes.values():
            if isinstance(node._component, TunedLogisticRegressionClassifier):
                self.classifier = node._component
        if self.classifier is None:
            raise SystemExit(f"{model}: no TunedLogisticRegressionClassifier in its pipeline")

    def lines(self, name: str, lines: Sequence[Tuple[str, str]]) -> Lines:
        import scipy.sparse as sp

        self._rows, self._read = [], []

        async def parse() -> None:
            for text, _ in lines:
                await self.parser.agent.parse_message(text)

        asyncio.run(parse())
        return Lines(name, [intent for _, intent in lines], sp.vstack(self._rows).tocsr(), self._read)


class Encoder:
    def __init__(self, directory: Path) -> None:
        from tokenizers import Tokenizer

        from bot.devtools.minilm import MiniLMEncoder

        self.model = MiniLMEncoder.from_file(directory / "model.safetensors")
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()

    def ids(self, text: str) -> List[int]:
        return self.tokenizer.encode(text).ids[:128]

    def encode(self, texts: Sequence[str], batch: int = 64) -> np.ndarray:
        """Vectors in the texts' order, encoded in batches of similar length."""
        ids = [self.ids(t) for t in texts]
        order = np.argsort([len(i) for i in ids])
        vectors = np.zeros((len(ids), 384), np.float32)
        for start in range(0, len(ids), batch):
            rows = order[start : start + batch]
            vectors[rows] = self.model.encode([ids[i] for i in rows])
        return vectors


def main(argv: Optional[List[str]] = None) -> int:
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ev.MODEL)
    parser.add_argument("--encoder", type=Path, default=PROJECT_DIR / "build" / "minilm-full")
    parser.add_argument("--C", type=float, default=10.0, help="inverse regularisation of the encoder's model")
    args = parser.parse_args(argv)
    if not (args.encoder / "model.safetensors").is_file():
        print(f"{args.encoder}/model.safetensors: missing; `make encoder-trial` fetches it", file=sys.stderr)
        return 2
    ev.quiet_rasa()
    capture = Capture(args.model)
    assert capture.classifier is not None
    dev2, dev1 = ev.load_test_set(ev.DEV_SET_2), ev.load_test_set(ev.DEV_SET)
    sets = [
        ("dev set 2", dev2),
        ("dev set 2 misspelled", noise.misspelled_lines(dev2)),
        ("dev set 1", dev1),
        ("dev set 1 misspelled", noise.misspelled_lines(dev1)),
        ("off-topic dev split", ev.offtopic_lines()),
    ]
    train = capture.lines("training", ev.training_lines())
    parsed = [capture.lines(name, lines) for name, lines in sets]
    encoder = Encoder(args.encoder)
    started = time.perf_counter()
    train_vectors = encoder.encode(train.read)
    encode_training = time.perf_counter() - started
    second = LogisticRegression(C=args.C, class_weight="balanced", max_iter=1000, random_state=42)
    second.fit(train_vectors, train.intents)
    first = capture.classifier.clf
    if list(first.classes_) != list(second.classes_):
        raise SystemExit("the encoder's model and the classifier disagree on the intents")
    classes = np.asarray(first.classes_)
    probabilities = [
        (lines, first.predict_proba(lines.features), second.predict_proba(encoder.encode(lines.read)))
        for lines in parsed
    ]

    header = ["variant", *(lines.name for lines in parsed[:-1]), "off-topic given a topic", "escalated"]
    print("| " + " | ".join(header) + " |")
    print("|" + "---|" * len(header))
    for label, threshold in [
        ("as built", 0.0),
        *((f"cascade at {t}", t) for t in THRESHOLDS),
        ("every message", EVERY),
    ]:
        cells, escalated_rows, total = [], 0, 0
        for lines, p1, p2 in probabilities:
            chosen, escalated = cascade(p1, p2, threshold)
            predicted = classes[chosen]
            escalated_rows += int(escalated.sum())
            total += len(predicted)
            if lines is parsed[-1]:
                cells.append(f"{np.mean(predicted != OUT_OF_SCOPE) * 100:.1f} %")
            else:
                cells.append(f"{np.mean(predicted == np.asarray(lines.intents)) * 100:.1f} %")
        cells.append(f"{escalated_rows / total * 100:.0f} %")
        print(f"| {label} | " + " | ".join(cells) + " |")

    timings = []
    for text in parsed[0].read[:200]:
        started = time.perf_counter()
        encoder.model.encode([encoder.ids(text)])
        timings.append((time.perf_counter() - started) * 1000)
    median = statistics.median(timings)
    print(f"\nencoder per message, one at a time (dev set 2's first 200 lines): median {median:.1f} ms")
    print(f"encoding the {len(train.read)} training lines: {encode_training:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
