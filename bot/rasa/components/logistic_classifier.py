"""The intent classifier: Rasa's logistic regression, with the `C` and `class_weight` Rasa fixes as options."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Dict, List, Optional, Text

import numpy as np
from rasa.engine.graph import ExecutionContext
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.logistic_regression_classifier import LogisticRegressionClassifier
from rasa.shared.exceptions import RasaException
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData


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

    def persist(self) -> None:
        """Stores the fitted model as plain arrays (numpy's .npz, no pickle) instead of Rasa's skops file.

        Importing skops.io looks every numpy and scipy ufunc up in every loaded module: with
        Rasa's thousands of modules loaded that took seconds of every Rasa start, training
        and evaluation (`python -X importtime -c "import bot.launch.rasa_run, skops.io"`).
        """
        with self._model_storage.write_to(self._resource) as model_dir:
            np.savez(
                model_dir / f"{self._resource.name}.npz",
                coef=self.clf.coef_,
                intercept=self.clf.intercept_,
                classes=np.asarray(self.clf.classes_, dtype=str),
                n_iter=self.clf.n_iter_,
            )

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TunedLogisticRegressionClassifier":
        """The classifier persisted by `persist`; untrained, as Rasa's own, when nothing was stored."""
        component = cls(config, execution_context.node_name, model_storage, resource)
        try:
            with model_storage.read_from(resource) as model_dir:
                component._set_fitted(model_dir / f"{resource.name}.npz")
        except ValueError:  # no resource: the component was never trained (Rasa's load does the same)
            pass
        return component

    def _set_fitted(self, stored: Path) -> None:
        if not stored.exists():
            raise RasaException(
                f"{stored.parent}: the intent classifier has no {stored.name}; the model was trained by an "
                "older version of bot/rasa/components/logistic_classifier.py: run `make train`"
            )
        try:
            with np.load(stored, allow_pickle=False) as arrays:
                self.clf.coef_ = arrays["coef"]
                self.clf.intercept_ = arrays["intercept"]
                self.clf.classes_ = arrays["classes"]
                self.clf.n_iter_ = arrays["n_iter"]
        except (OSError, ValueError, KeyError) as error:
            raise RasaException(f"{stored}: the intent classifier cannot be read ({error}): run `make train`") from None
        self.clf.n_features_in_ = int(self.clf.coef_.shape[1])

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
