"""Spelling normalised against the domain's own words before featurising (issue 20: "averge salry for newbies").

`SpellingNormaliser` sits in config.yml right after the tokenizer. At training time it
counts the words of all the NLU training data Rasa gives it (the off-topic sample
included), of the knowledge files (career names, aliases and every text) and of the
vocabularies (states, fields of study, other jobs), and stores them with their counts
in the model, with the common words of English (symspellpy's list) as known words
that are never a correction: off-topic messages are full of words the domain lacks,
and turning them into domain words made them leak (dev set 2 and the off-topic
dev split: `python -m bot.devtools.evaluate`). At prediction time a token that is none of those
words, has at least `min_length` letters and is not part of an entity the spaCy rules
found is replaced by the most frequent domain word within `max_edit_distance` edits
(symspellpy's symmetric delete lookup, Damerau-OSA distance from editdistpy), when
there is one.

Only the tokens change, which every featurizer reads: the message text and the spaCy
document stay as typed, so the entity rules and the actions see the visitor's words
and entity offsets stay right. Numbers, state codes and words the vocabulary knows are
never changed, and nothing changes at training time (every training word is known).
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Dict, Iterable, Iterator, List, Optional, Set, Text, Tuple, Type

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import SPACY_DOCS, TOKENS_NAMES
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

WORDS_FILE = "words.tsv"
# symspellpy's own dump of its delete index, so that loading a model does not rebuild it
# (`python -m bot.devtools.spelling_cost` prints the load time).
INDEX_FILE = "symspell.pickle"
_WORD = re.compile(r"[a-z]+")
# Knowledge fields that are addresses, not words anyone types.
_NOT_WORDS = frozenset({"url"})
_CACHE_LIMIT = 100_000  # visitors can type any string: the memo of lookups stays bounded


def words_of(text: str) -> List[str]:
    return _WORD.findall(text.lower())


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            if key not in _NOT_WORDS:
                yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


def knowledge_texts() -> List[str]:
    """Every text of the knowledge the settings name, and of the vocabularies the entity rules use."""
    from bot import vocab
    from bot.knowledge import KnowledgeBase, KnowledgeError
    from bot.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
        knowledge = KnowledgeBase.load(settings.knowledge_dir, settings.career)
    except (KnowledgeError, SettingsError) as error:
        raise InvalidConfigException(f"SpellingNormaliser: cannot read the knowledge: {error}") from error
    texts: List[str] = []
    for career in knowledge.careers.values():
        texts += career.names
        texts += list(_strings(career.data))
    texts += vocab.occupations() + vocab.degree_fields()
    texts += [str(state["name"]) for state in vocab.us_states()]
    return texts


def count_words(texts: Iterable[str]) -> Counter:
    counts: Counter = Counter()
    for text in texts:
        counts.update(words_of(text))
    return counts


def english_words(min_count: float) -> List[str]:
    """The words of symspellpy's English frequency list (SCOWL words with Google Books counts) seen that often."""
    import symspellpy

    path = Path(symspellpy.__file__).parent / "frequency_dictionary_en_82_765.txt"
    words = []
    for line in path.read_text(encoding="utf-8").splitlines():
        word, _, count = line.partition(" ")
        if word.isalpha() and count.isdigit() and int(count) >= min_count:
            words.append(word.lower())
    return words


def state_codes() -> Set[str]:
    from bot import vocab

    return {str(state["code"]).lower() for state in vocab.us_states()}


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class SpellingNormaliser(GraphComponent):
    """Replaces misspelled tokens by the nearest known domain word; the dictionary is built in training."""

    @classmethod
    def required_components(cls) -> List[Type]:
        return [Tokenizer]

    @staticmethod
    def required_packages() -> List[Text]:
        return ["symspellpy", "editdistpy"]

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # Edits between a typed word and its correction (symspellpy's lookup bound).
            "max_edit_distance": 2,
            # Shorter words are left alone: two edits in a three-letter word make any other word.
            "min_length": 4,
            # A known word is a correction target only when seen this often (all known words stay untouched).
            "min_count": 1,
            # Words of symspellpy's English frequency list seen at least this often there are known too
            # (never corrected, never a correction): an off-topic "weather" must not become "whether".
            # null: the domain's words only.
            "english_min_count": 1,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        settings = {**cls.get_default_config(), **config}
        if int(settings["max_edit_distance"]) not in (1, 2):
            raise InvalidConfigException("SpellingNormaliser: max_edit_distance must be 1 or 2")
        if int(settings["min_length"]) < 1 or int(settings["min_count"]) < 1:
            raise InvalidConfigException("SpellingNormaliser: min_length and min_count must be at least 1")
        english = settings["english_min_count"]
        if english is not None and (not isinstance(english, (int, float)) or english < 0):
            raise InvalidConfigException("SpellingNormaliser: english_min_count must be a count (0 or more) or null")

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        counts: Optional[Dict[str, int]] = None,
        index: Optional[Path] = None,
    ) -> None:
        settings = {**self.get_default_config(), **config}
        self.validate_config(settings)
        self.max_edit_distance = int(settings["max_edit_distance"])
        self.min_length = int(settings["min_length"])
        self.min_count = int(settings["min_count"])
        english = settings["english_min_count"]
        self.english_min_count = None if english is None else float(english)
        self._model_storage = model_storage
        self._resource = resource
        self._states = state_codes()
        self._cache: Dict[str, Optional[str]] = {}
        self.counts: Dict[str, int] = {}
        self.known: Set[str] = set()
        self._speller: Any = None
        if counts is not None:
            self._use(counts, index)

    def _use(self, counts: Dict[str, int], index: Optional[Path] = None) -> None:
        """Takes the dictionary; the lookup index is read from `index` when given, else built from the counts."""
        from symspellpy import SymSpell
        from symspellpy.editdistance import DistanceAlgorithm, EditDistance

        self.counts = dict(counts)
        self.known = set(counts)
        speller = SymSpell(
            max_dictionary_edit_distance=self.max_edit_distance,
            distance_comparer=EditDistance(DistanceAlgorithm.DAMERAU_OSA_FAST),
        )
        if index is not None:
            if not speller.load_pickle(index, compressed=False):
                raise InvalidConfigException(f"{index}: not a symspellpy index of this version; retrain the model")
        else:
            for word, count in counts.items():
                if count >= self.min_count:
                    speller.create_dictionary_entry(word, count)
        self._speller = speller
        self._cache.clear()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "SpellingNormaliser":
        return cls(config, model_storage, resource)

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """The knowledge's words: the dictionary is built from them too, and Rasa's training cache would
        otherwise keep a dictionary from before a knowledge edit that left the training data alone."""
        import hashlib

        return hashlib.sha256("\0".join(knowledge_texts()).encode("utf-8")).hexdigest()

    def train(self, training_data: TrainingData) -> Resource:
        texts = [m.get(TEXT) for m in training_data.training_examples if m.get(TEXT)]
        counts = count_words([*texts, *knowledge_texts()])
        if self.english_min_count is not None:
            # Known, with count 0: below every min_count, so never a correction.
            for word in english_words(self.english_min_count):
                counts.setdefault(word, 0)
        self._use(dict(counts))
        with self._model_storage.write_to(self._resource) as directory:
            lines = [f"{word}\t{count}" for word, count in sorted(counts.items(), key=lambda wc: (-wc[1], wc[0]))]
            (directory / WORDS_FILE).write_text("\n".join(lines) + "\n", encoding="utf-8")
            self._speller.save_pickle(directory / INDEX_FILE, compressed=False)
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "SpellingNormaliser":
        counts: Dict[str, int] = {}
        with model_storage.read_from(resource) as directory:
            path = directory / WORDS_FILE
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                word, _, count = line.partition("\t")
                if not word or not count.isdigit():
                    raise InvalidConfigException(f"{path}, line {number}: expected 'word<TAB>count', got {line!r}")
                counts[word] = int(count)
            index = directory / INDEX_FILE
            return cls(config, model_storage, resource, counts, index if index.is_file() else None)

    def correction(self, word: str) -> Optional[str]:
        """The known word a typed word stands for, or None to leave it as typed."""
        lower = word.lower()
        if (
            len(lower) < self.min_length
            or lower in self.known
            or lower in self._states
            or not (lower.isascii() and lower.isalpha())
        ):
            return None
        if lower in self._cache:
            return self._cache[lower]
        from symspellpy import Verbosity

        found = None
        if self._speller is not None:
            suggestions = self._speller.lookup(lower, Verbosity.TOP, max_edit_distance=self.max_edit_distance)
            if suggestions and suggestions[0].term != lower:
                found = suggestions[0].term
        if len(self._cache) < _CACHE_LIMIT:
            self._cache[lower] = found
        return found

    @staticmethod
    def _entity_spans(message: Message) -> List[Tuple[int, int]]:
        doc = message.get(SPACY_DOCS[TEXT])
        if doc is None:
            return []
        return [(span.start_char, span.end_char) for span in doc.ents]

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            tokens = message.get(TOKENS_NAMES[TEXT]) or []
            spans: Optional[List[Tuple[int, int]]] = None
            for token in tokens:
                corrected = self.correction(token.text)
                if corrected is None:
                    continue
                if spans is None:
                    spans = self._entity_spans(message)
                if any(start < token.end and token.start < end for start, end in spans):
                    continue
                if token.text.isupper():
                    corrected = corrected.upper()
                elif token.text[:1].isupper():
                    corrected = corrected.capitalize()
                token.text = token.lemma = corrected
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        # Every word of the training data is in the dictionary: nothing to correct.
        return training_data
