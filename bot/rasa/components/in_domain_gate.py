"""The in-domain gate: out_of_scope for a career prediction unlike every in-scope training example."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Type

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa import offtopic
from bot.rasa.components.wordllama_featurizer import WordLlamaFeaturizer


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
