"""What the spelling normaliser costs per message, on dev set 2 as written and misspelled (bot/devtools/noise.py).

    python -m bot.devtools.spelling_cost

Builds the normaliser's dictionary the way training does (every NLU training line as
`rasa train` sees it, the knowledge, the vocabularies), tokenises the lines with the
project's spaCy pipeline, then times the normaliser alone over them: the first pass
(every unknown word looked up) and a second one (the lookups memoised), in
microseconds per message. Also prints how long building the dictionary takes, which
loading a model repeats.
"""

from __future__ import annotations

import os
import sys
import time
from typing import List, Optional

from bot import PROJECT_DIR


def main(argv: Optional[List[str]] = None) -> int:
    from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
    from rasa.nlu.utils.spacy_utils import SpacyNLP
    from rasa.shared.nlu.constants import TEXT
    from rasa.shared.nlu.training_data.message import Message

    from bot.devtools import noise
    from bot.devtools.evaluate import DEV_SET_2, training_lines
    from bot.rasa.nlu_data import load_test_set
    from bot.rasa.spelling import SpellingNormaliser, count_words, knowledge_texts
    from bot.settings import Settings

    os.chdir(PROJECT_DIR)
    counts = count_words([text for text, _ in training_lines()] + knowledge_texts())
    started = time.perf_counter()
    normaliser = SpellingNormaliser(SpellingNormaliser.get_default_config(), None, None, dict(counts))
    built = time.perf_counter() - started
    print(f"dictionary: {len(counts)} words, built in {built * 1000:.0f} ms")

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
