"""The MiniLM featurizer: WordLlama's featurizer with static vectors distilled from all-MiniLM-L6-v2.

The vectors and the word-piece tokenizer come from bot/devtools/minilm.py (`make
embeddings`). Its sentence vector sits next to WordLlama's: the two were trained on
different objectives, and together they beat either alone (docs/benchmarks.md).
"""

from __future__ import annotations

from typing import Any, Dict, Text

from rasa.engine.recipes.default_recipe import DefaultV1Recipe

from bot.rasa.components.wordllama_featurizer import WordLlamaFeaturizer
from bot.vectors import MINILM_TOKENIZER, MINILM_WEIGHTS

__all__ = ["MINILM_TOKENIZER", "MINILM_WEIGHTS", "MiniLMFeaturizer"]


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class MiniLMFeaturizer(WordLlamaFeaturizer):
    """Dense features from MiniLM's distilled static token vectors, the same way as WordLlama's."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            **WordLlamaFeaturizer.get_default_config(),
            "weights": str(MINILM_WEIGHTS),
            "tokenizer": str(MINILM_TOKENIZER),
        }
