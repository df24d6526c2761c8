"""The WordLlama featurizer: a pretrained 256-dimension vector for every token.

The vectors let "earn", "make", "salary" and "paid" meet without listing every
phrasing. They are WordLlama's static token embeddings (the `wordllama` wheel, MIT
licence, fetched by `make embeddings`), read with `safetensors`; words are split into
sub-words by the wheel's Llama-2 tokenizer file, read with `tokenizers`. A token's
vector is the mean of its sub-words' vectors; the sentence's is the mean over all
sub-words. `WordLlamaVectors` (bot/vectors.py, usable without Rasa) reads any such table,
MiniLM's too (minilm_featurizer).
"""

from __future__ import annotations

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

from bot.rasa.components.paths import file_digest, project_path
from bot.vectors import WORDLLAMA_TOKENIZER, WORDLLAMA_WEIGHTS, VectorsMissing, WordLlamaVectors

__all__ = ["WORDLLAMA_TOKENIZER", "WORDLLAMA_WEIGHTS", "WordLlamaFeaturizer", "WordLlamaVectors"]


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
        try:
            self.vectors = WordLlamaVectors.load(
                project_path(self._config["weights"]), project_path(self._config["tokenizer"])
            )
        except VectorsMissing as error:
            raise InvalidConfigException(str(error)) from None
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
        sequence, sentence = self.vectors.features(words)
        return sequence, (sentence * self.scale).reshape(1, -1).astype(np.float32)

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
