"""The WordLlama featurizer: a pretrained 256-dimension vector for every token.

The vectors let "earn", "make", "salary" and "paid" meet without listing every
phrasing. They are WordLlama's static token embeddings (the `wordllama` wheel, MIT
licence, fetched by `make embeddings`), read with `safetensors`; words are split into
sub-words by the wheel's Llama-2 tokenizer file, read with `tokenizers`. A token's
vector is the mean of its sub-words' vectors; the sentence's is the mean over all
sub-words. `WordLlamaVectors` reads any such table, MiniLM's too (minilm_featurizer).
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import PROJECT_DIR
from bot.rasa.components.paths import file_digest, project_path

WORDLLAMA_DIR = PROJECT_DIR / "build" / "wordllama"
WORDLLAMA_WEIGHTS = WORDLLAMA_DIR / "l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = WORDLLAMA_DIR / "l2_supercat_tokenizer_config.json"


class WordLlamaVectors:
    """Token vectors from a static embedding table (WordLlama's, MiniLM's); one instance per file pair and process."""

    _loaded: Dict[tuple, "WordLlamaVectors"] = {}
    _lock = threading.Lock()

    def __init__(self, weights: Path, tokenizer: Path) -> None:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer as SubwordTokenizer

        tensors = load_file(str(weights))
        if len(tensors) != 1:
            raise InvalidConfigException(f"{weights}: expected one embedding table, found {sorted(tensors)}")
        # Kept in half precision (16 MB); rows are widened when looked up.
        self.table = next(iter(tensors.values()))
        self.tokenizer = SubwordTokenizer.from_file(str(tokenizer))
        # A tokenizer file may pad or truncate (MiniLM's pads to a fixed length): one word, no more.
        self.tokenizer.no_padding()
        self.tokenizer.no_truncation()
        self.dim = int(self.table.shape[1])
        self._cache: Dict[str, "tuple[np.ndarray, int]"] = {}

    @classmethod
    def load(cls, weights: Path, tokenizer: Path) -> "WordLlamaVectors":
        key = (str(weights), str(tokenizer))
        with cls._lock:
            if key not in cls._loaded:
                missing = [str(p) for p in (weights, tokenizer) if not Path(p).is_file()]
                if missing:
                    raise InvalidConfigException(
                        f"embedding files missing: {', '.join(missing)}. Run `make embeddings`."
                    )
                cls._loaded[key] = cls(Path(weights), Path(tokenizer))
            return cls._loaded[key]

    def word(self, text: str) -> "tuple[np.ndarray, int]":
        """The sum of a word's sub-word vectors and how many there are."""
        key = text.lower()
        found = self._cache.get(key)
        if found is None:
            ids = self.tokenizer.encode(key, add_special_tokens=False).ids
            ids = [i for i in ids if 0 <= i < self.table.shape[0]]
            total = self.table[ids].astype(np.float32).sum(axis=0) if ids else np.zeros(self.dim, np.float32)
            found = (total, len(ids))
            if len(self._cache) < 200_000:  # bounded: visitors can type any string
                self._cache[key] = found
        return found


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class WordLlamaFeaturizer(DenseFeaturizer, GraphComponent):
    """Dense features from WordLlama token embeddings: one vector per token, their mean for the sentence."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["safetensors", "tokenizers"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **DenseFeaturizer.get_default_config(),
            "weights": str(WORDLLAMA_WEIGHTS),
            "tokenizer": str(WORDLLAMA_TOKENIZER),
            # The sentence vector has unit length times `scale`, so that it weighs about
            # as much as the sparse count features next to it in a linear classifier.
            "scale": 1.0,
        }

    def __init__(self, config: Dict[Text, Any], name: Text) -> None:
        super().__init__(name, {**self.get_default_config(), **config})
        self.vectors = WordLlamaVectors.load(
            project_path(self._config["weights"]), project_path(self._config["tokenizer"])
        )
        self.scale = float(self._config["scale"])

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "WordLlamaFeaturizer":
        return cls(config, execution_context.node_name)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The vector and tokenizer files' contents: Rasa's training cache keys a node by its config and
        inputs only, and would otherwise reuse the features of vectors that `make embeddings` replaced."""
        merged = {**cls.get_default_config(), **config}
        return file_digest(project_path(merged["weights"]), project_path(merged["tokenizer"]))

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        if float(config.get("scale", 1.0)) <= 0:
            raise InvalidConfigException("WordLlamaFeaturizer: scale must be positive")

    def features(self, words: List[str]) -> "tuple[np.ndarray, np.ndarray]":
        """(sequence features [tokens, dim], sentence feature [1, dim]) for a list of words."""
        sums = [self.vectors.word(w) for w in words]
        sequence = (
            np.stack([total / count if count else total for total, count in sums])
            if sums
            else np.zeros((0, self.vectors.dim), np.float32)
        )
        count = sum(c for _, c in sums)
        sentence = np.asarray(sum(t for t, _ in sums) / count) if count else np.zeros(self.vectors.dim, np.float32)
        norm = float(np.linalg.norm(sentence))
        if norm > 0:
            sentence = sentence / norm * self.scale
        return sequence.astype(np.float32), sentence.reshape(1, -1).astype(np.float32)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            for attribute in DENSE_FEATURIZABLE_ATTRIBUTES:
                tokens = message.get(TOKENS_NAMES[attribute])
                if not tokens:
                    continue
                sequence, sentence = self.features([t.text for t in tokens])
                self.add_features_to_message(sequence, sentence, attribute, message)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
