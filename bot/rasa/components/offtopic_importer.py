"""The off-topic importer: bot/rasa/offtopic.py's training sample as out_of_scope examples (config.yml `importers`)."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Text

from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot.rasa import offtopic
from bot.rasa.components.paths import project_path


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
        self.held_out = [project_path(p) for p in (held_out or [])]

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

        from bot.similarity import held_out_texts, near_duplicates

        texts = offtopic.training_examples(self.per_intent)
        held_out = [text for path in self.held_out if path.exists() for text in held_out_texts(path)]
        copies = {line for line, _, _ in near_duplicates(texts, held_out)}
        return TrainingData(
            [Message(data={TEXT: text, INTENT: offtopic.OUT_OF_SCOPE}) for text in texts if text not in copies]
        )
