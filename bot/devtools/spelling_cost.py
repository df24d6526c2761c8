"""What the spelling normaliser costs per message, on dev set 2 as written and misspelled (bot/devtools/noise.py).

    python -m bot.devtools.spelling_cost

Trains the normaliser as config.yml sets it, on every NLU training line as `rasa train`
sees it (with the knowledge and the vocabularies, as its training adds), into a
temporary model storage, and loads it from there as the server does (and says how
long that load takes). Then it tokenises the lines with the project's spaCy pipeline
and times the normaliser alone over them: the first pass (every unknown word looked
up) and a second one (the lookups memoised), in microseconds per message.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Optional

import yaml

from bot import PROJECT_DIR

NAME = "bot.rasa.spelling.SpellingNormaliser"


def configured() -> Dict[str, Any]:
    config = yaml.safe_load((PROJECT_DIR / "config.yml").read_text(encoding="utf-8"))
    for item in config.get("pipeline") or []:
        if item.get("name") == NAME:
            return {k: v for k, v in item.items() if k != "name"}
    raise SystemExit(f"config.yml: no {NAME} in the pipeline")


def main(argv: Optional[List[str]] = None) -> int:
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.nlu.constants import INTENT, TEXT
    from rasa.shared.nlu.training_data.message import Message
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.devtools import noise
    from bot.devtools.evaluate import DEV_SET_2, training_lines
    from bot.rasa.nlu_data import load_test_set
    from bot.rasa.spelling import SpellingNormaliser
    from bot.settings import Settings

    os.chdir(PROJECT_DIR)
    config = {**SpellingNormaliser.get_default_config(), **configured()}
    data = TrainingData([Message(data={TEXT: text, INTENT: intent}) for text, intent in training_lines()])
    with tempfile.TemporaryDirectory(prefix="careerbot-spelling-") as tmp:
        storage, resource = LocalModelStorage(Path(tmp)), Resource("spelling")
        SpellingNormaliser.create(config, storage, resource, None).train(data)
        started = time.perf_counter()
        normaliser = SpellingNormaliser.load(config, storage, resource, None)
        loaded = time.perf_counter() - started
    targets = sum(1 for count in normaliser.counts.values() if count >= normaliser.min_count)
    print(
        f"dictionary: {len(normaliser.known)} known words, {targets} correction targets; "
        f"loaded in {loaded * 1000:.0f} ms"
    )

    spacy_nlp = SpacyNLP.create({"model": str(Settings.from_env().spacy_model_dir)}, None, None, None)
    model = spacy_nlp.provide()
    tokenizer = SpacyTokenizer(SpacyTokenizer.get_default_config())
    clean = load_test_set(DEV_SET_2)
    for name, lines in (("dev set 2", clean), ("dev set 2, misspelled", noise.misspelled_lines(clean))):
        normaliser._cache.clear()
        for label in ("first pass", "memoised"):
            messages = [Message(data={TEXT: text}) for text, _ in lines]
            spacy_nlp.process(messages, model)
            tokenizer.process(messages)
            started = time.perf_counter()
            for message in messages:
                normaliser.process([message])
            per = (time.perf_counter() - started) / len(messages)
            print(f"{name}, {label}: {per * 1e6:.1f} µs per message ({len(messages)} messages)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
