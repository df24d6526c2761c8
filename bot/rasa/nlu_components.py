"""careerbot's own NLU pieces for Rasa 3.6: the off-topic importer, the WordLlama featurizer, a tunable classifier.

- `OfftopicImporter` adds the off-topic training sample of bot/rasa/offtopic.py as
  out_of_scope examples (config.yml `importers`).
- `WordLlamaFeaturizer` gives every token a pretrained 256-dimension vector, so that
  "earn", "make", "salary" and "paid" meet without listing every phrasing. The vectors
  are WordLlama's static token embeddings (the `wordllama` wheel, MIT licence, fetched
  by `make embeddings`), read with `safetensors`; words are split into sub-words by the
  wheel's Llama-2 tokenizer file, read with `tokenizers`. A token's vector is the mean
  of its sub-words' vectors; the sentence's is the mean over all sub-words.
- `MiniLMFeaturizer` does the same with static vectors distilled from the sentence
  encoder all-MiniLM-L6-v2 (bot/devtools/minilm.py, `make embeddings`) and its word-piece
  tokenizer. Its sentence vector sits next to WordLlama's: the two were trained on
  different objectives, and together they beat either alone (docs/benchmarks.md).
- `TunedLogisticRegressionClassifier` is Rasa's LogisticRegressionClassifier with its
  regularisation `C` and `class_weight` as options (Rasa fixes them).
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
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.nlu.constants import DENSE_FEATURIZABLE_ATTRIBUTES, TOKENS_NAMES
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import PROJECT_DIR
from bot.rasa import offtopic

WORDLLAMA_DIR = PROJECT_DIR / "build" / "wordllama"
WORDLLAMA_WEIGHTS = WORDLLAMA_DIR / "l2_supercat_256.safetensors"
WORDLLAMA_TOKENIZER = WORDLLAMA_DIR / "l2_supercat_tokenizer_config.json"
MINILM_DIR = PROJECT_DIR / "build" / "minilm"
MINILM_WEIGHTS = MINILM_DIR / "minilm_static_384.safetensors"
MINILM_TOKENIZER = MINILM_DIR / "tokenizer.json"


class OfftopicImporter(TrainingDataImporter):
    """Adds the off-topic training sample as out_of_scope examples to what the other importers load.

    Named in config.yml under `importers` after Rasa's RasaFileImporter. Options:
    `per_intent`, how many lines of each source intent are taken; `held_out`, NLU files
    (the test and dev sets) whose lines the sample must not copy: a sample line 0.85 or
    more similar to one of them is left out, by the rule the tests apply to all training data.
    """

    def __init__(
        self,
        config_file: Optional[Text] = None,
        domain_path: Optional[Text] = None,
        training_data_paths: Optional[Any] = None,
        per_intent: int = offtopic.TRAIN_PER_INTENT,
        held_out: Optional[List[Text]] = None,
        **_: Any,
    ) -> None:
        self.per_intent = int(per_intent)
        self.held_out = [_project_path(p) for p in (held_out or [])]

    def get_domain(self) -> Any:
        from rasa.shared.core.domain import Domain

        return Domain.empty()

    def get_stories(self, exclusion_percentage: Optional[int] = None) -> Any:
        from rasa.shared.core.training_data.structures import StoryGraph

        return StoryGraph([])

    def get_conversation_tests(self) -> Any:
        from rasa.shared.core.training_data.structures import StoryGraph

        return StoryGraph([])

    def get_config(self) -> Dict:
        return {}

    def get_config_file_for_auto_config(self) -> Optional[Text]:
        return None

    def get_nlu_data(self, language: Optional[Text] = "en") -> TrainingData:
        from rasa.shared.nlu.constants import INTENT, TEXT

        from bot.rasa.nlu_data import held_out_texts, near_duplicates

        texts = offtopic.training_examples(self.per_intent)
        held_out = [text for path in self.held_out if path.exists() for text in held_out_texts(path)]
        copies = {line for line, _, _ in near_duplicates(texts, held_out)}
        return TrainingData(
            [Message(data={TEXT: text, INTENT: offtopic.OUT_OF_SCOPE}) for text in texts if text not in copies]
        )


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
            _project_path(self._config["weights"]), _project_path(self._config["tokenizer"])
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


def _project_path(path: str) -> Path:
    candidate = Path(path)
    return candidate if candidate.is_absolute() else PROJECT_DIR / candidate


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TunedLogisticRegressionClassifier(LogisticRegressionClassifier):
    """Rasa's logistic regression with `C` and `class_weight` configurable, and a faster prediction.

    Rasa's own prediction builds a sparse matrix from every feature block of every
    message (sparse and dense alike) and stacks them; per message that costs more than
    the arithmetic. Here each block is multiplied with its slice of the coefficients
    and the softmax taken directly: the same numbers as scikit-learn's predict_proba
    for the multinomial model (tests/bot/test_nlu_components.py).
    """

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {**LogisticRegressionClassifier.get_default_config(), "C": 1.0, "class_weight": "balanced"}

    def __init__(self, config: Dict[Text, Any], name: Text, model_storage: ModelStorage, resource: Resource) -> None:
        super().__init__(config, name, model_storage, resource)
        self.clf.set_params(C=float(self.config["C"]), class_weight=self.config["class_weight"])
        self._weights: Optional[np.ndarray] = None

    def train(self, training_data: TrainingData) -> Resource:
        """Rasa's training, with scikit-learn's fit done faster where it applies (bot/rasa/logistic.py)."""
        from bot.rasa import logistic

        x, y = self._create_training_matrix(training_data)
        if x.shape[0] == 0 or not logistic.applies(self.clf, y):
            return super().train(training_data)
        logistic.fit(self.clf, x, y)
        self.persist()
        return self._resource

    def probabilities(self, message: Message) -> Optional[np.ndarray]:
        """The class probabilities for one message, or None when the fast path does not apply."""
        from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT

        coef = getattr(self.clf, "coef_", None)
        if coef is None or coef.shape[0] < 3:  # binary models are not multinomial
            return None
        if self._weights is None:
            self._weights = np.ascontiguousarray(coef.T)  # features x classes
        blocks = [f for f in message.features if f.type == FEATURE_TYPE_SENTENCE and f.attribute == TEXT]
        ordered = [f for f in blocks if f.is_sparse()] + [f for f in blocks if f.is_dense()]
        scores = self.clf.intercept_.astype(np.float64).copy()
        offset = 0
        for block in ordered:
            width = block.features.shape[-1]
            weights = self._weights[offset : offset + width]
            offset += width
            if offset > self._weights.shape[0]:
                return None
            if block.is_sparse():
                row = block.features.tocsr()
                scores += np.asarray(row @ weights).reshape(-1)
            else:
                scores += np.asarray(block.features, dtype=np.float64).reshape(-1) @ weights
        if offset != self._weights.shape[0]:
            return None
        scores -= scores.max()
        exp = np.exp(scores)
        return exp / exp.sum()

    def process(self, messages: List[Message]) -> List[Message]:
        fast = [self.probabilities(m) for m in messages]
        if any(p is None for p in fast):
            return super().process(messages)
        for message, probabilities in zip(messages, fast, strict=True):
            assert probabilities is not None  # checked above
            ranking = sorted(
                (
                    {"name": name, "confidence": float(p)}
                    for name, p in zip(self.clf.classes_, probabilities, strict=True)
                ),
                key=lambda e: -e["confidence"],
            )
            message.set("intent", ranking[0], add_to_output=True)
            length = self.config["ranking_length"]
            message.set("intent_ranking", ranking[:length] if length > 0 else ranking, add_to_output=True)
        return messages


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class InDomainGate(GraphComponent):
    """Sends a message to out_of_scope when it is unlike every in-scope training example.

    Placed after the intent classifier: when that predicts an intent answered with a
    career fact (a topic or a follow-up), the gate takes the message's dense sentence
    vector (WordLlama's) and its cosine similarity to the nearest training example of
    any intent but out_of_scope; below `threshold` the message is out_of_scope. The
    classifier has to pick one of the intents it knows, and words like "pay", "schedule"
    or "office" pull banking and calendar requests to a topic; the gate asks instead
    whether anything like the message was ever a career question.

    With `margin` set, the gate also remembers the out_of_scope training examples (the
    off-topic sample and data/nlu/out_of_scope.yml): a message nearer to one of them than
    to every in-scope example by more than `margin` is out_of_scope too, however near a
    career question it is. "today's schedule" is near "what is the schedule like", but
    nearer still to the calendar requests of the off-topic sample.

    A prediction the classifier is sure of passes: short in-scope phrasings ("possible
    promotions", "employment projections") are often far from every training line, and
    the classifier's certainty is the better witness. Sure means a top confidence of at
    least `confident` for the first test, and of at least `margin_confident` (by default
    `confident`) for the second: a message that real off-topic traffic resembles more
    than any career question needs more certainty to pass.
    """

    @classmethod
    def required_components(cls) -> List[Type]:
        return [WordLlamaFeaturizer]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"threshold": 0.5, "confident": 1.01, "margin": None, "margin_confident": None}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        examples: Optional[np.ndarray] = None,
        out_of_scope: Optional[np.ndarray] = None,
    ) -> None:
        settings = {**self.get_default_config(), **config}
        self.threshold = float(settings["threshold"])
        self.confident = float(settings["confident"])
        self.margin = None if settings["margin"] is None else float(settings["margin"])
        sure = settings["margin_confident"]
        self.margin_confident = self.confident if sure is None else float(sure)
        self._model_storage = model_storage
        self._resource = resource
        self.examples = examples
        self.out_of_scope = out_of_scope

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "InDomainGate":
        return cls(config, model_storage, resource)

    @staticmethod
    def _vector(message: Message) -> Optional[np.ndarray]:
        from rasa.shared.nlu.constants import TEXT

        sentence = message.get_dense_features(TEXT)[1]
        if sentence is None:
            return None
        vector = np.asarray(sentence.features, dtype=np.float32).reshape(-1)
        norm = float(np.linalg.norm(vector))
        return vector / norm if norm > 0 else None

    def _vectors(self, training_data: TrainingData, out_of_scope: bool) -> List[np.ndarray]:
        vectors = [
            self._vector(m)
            for m in training_data.intent_examples
            if m.get("intent") and (m.get("intent") == offtopic.OUT_OF_SCOPE) == out_of_scope
        ]
        return [v for v in vectors if v is not None]

    def train(self, training_data: TrainingData) -> Resource:
        found = self._vectors(training_data, out_of_scope=False)
        if not found:
            raise InvalidConfigException("InDomainGate needs dense sentence features (WordLlamaFeaturizer)")
        self.examples = np.stack(found)
        if self.margin is not None:
            outside = self._vectors(training_data, out_of_scope=True)
            if not outside:
                raise InvalidConfigException("InDomainGate: `margin` needs out_of_scope training examples")
            self.out_of_scope = np.stack(outside)
        with self._model_storage.write_to(self._resource) as directory:
            np.save(directory / "in_domain.npy", self.examples)
            if self.out_of_scope is not None:
                np.save(directory / "out_of_scope.npy", self.out_of_scope)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "InDomainGate":
        with model_storage.read_from(resource) as directory:
            outside = directory / "out_of_scope.npy"
            return cls(
                config,
                model_storage,
                resource,
                np.load(directory / "in_domain.npy"),
                np.load(outside) if outside.is_file() else None,
            )

    def similarity(self, message: Message) -> Optional[float]:
        vector = self._vector(message)
        if vector is None or self.examples is None:
            return None
        return float((self.examples @ vector).max())

    def _out_of_domain(self, message: Message, confidence: float) -> bool:
        by_distance = confidence < self.confident
        by_margin = self.margin is not None and self.out_of_scope is not None and confidence < self.margin_confident
        vector = self._vector(message) if by_distance or by_margin else None
        if vector is None or self.examples is None:
            return False
        similarity = float((self.examples @ vector).max())
        if by_distance and similarity < self.threshold:
            return True
        if not by_margin or self.out_of_scope is None or self.margin is None:
            return False
        return float((self.out_of_scope @ vector).max()) - similarity > self.margin

    def process(self, messages: List[Message]) -> List[Message]:
        from bot.clarify import gives_career_answer

        for message in messages:
            intent = message.get("intent") or {}
            if not gives_career_answer(intent.get("name") or ""):
                continue
            if not self._out_of_domain(message, float(intent.get("confidence") or 0.0)):
                continue
            gated = {"name": offtopic.OUT_OF_SCOPE, "confidence": 1.0}
            ranking = [r for r in message.get("intent_ranking") or [] if r.get("name") != offtopic.OUT_OF_SCOPE]
            message.set("intent", gated, add_to_output=True)
            message.set("intent_ranking", [gated, *ranking], add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
