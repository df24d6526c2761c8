"""The spelling normaliser (bot/rasa/spelling.py) with the project's spaCy pipeline and knowledge, in model storage."""

from __future__ import annotations

import pytest
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.extractors.spacy_entity_extractor import SpacyEntityExtractor
from rasa.nlu.tokenizers.spacy_tokenizer import SpacyTokenizer
from rasa.nlu.utils.spacy_utils import SpacyNLP
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import INTENT, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import vocab
from bot.rasa.nlp import ENTITY_LABELS, build
from bot.rasa.spelling import INDEX_FILE, WORDS_FILE, SpellingNormaliser

TRAINING = [
    ("how much do they earn", "ask_pay"),
    ("what do they earn in a year", "ask_pay"),
    ("what is the salary", "ask_pay"),
    ("what are the hours", "ask_hours"),
    ("what's the weather like tomorrow", "out_of_scope"),
    ("do I need a licence", "ask_licensing"),
]


@pytest.fixture(scope="module")
def spacy_nlp(tmp_path_factory, knowledge):
    path = build(knowledge, tmp_path_factory.mktemp("spacy") / "pipeline")
    nlp = SpacyNLP.create({**SpacyNLP.get_default_config(), "model": str(path)}, None, None, None)
    return nlp, nlp.provide()


@pytest.fixture(scope="module")
def tokenizer():
    return SpacyTokenizer(SpacyTokenizer.get_default_config())


@pytest.fixture(scope="module")
def prepare(spacy_nlp, tokenizer):
    """Messages as the pipeline hands them to the normaliser: the spaCy document and its tokens."""
    nlp, model = spacy_nlp

    def messages(*texts, intents=None):
        found = [Message(data={TEXT: t, **({INTENT: intents[i]} if intents else {})}) for i, t in enumerate(texts)]
        nlp.process(found, model)
        tokenizer.process(found)
        return found

    return messages


def train(tmp_path, prepare, config=None):
    (tmp_path / "storage").mkdir(parents=True)
    storage = LocalModelStorage(tmp_path / "storage")
    resource = Resource("spelling")
    normaliser = SpellingNormaliser.create(
        {**SpellingNormaliser.get_default_config(), **(config or {})}, storage, resource, None
    )
    texts, intents = zip(*TRAINING, strict=True)
    data = TrainingData(prepare(*texts, intents=list(intents)))
    normaliser.train(data)
    return normaliser, storage, resource, data


def tokens(message):
    return [t.text for t in message.get(TOKENS_NAMES[TEXT])]


def normalised(normaliser, prepare, text):
    [message] = normaliser.process(prepare(text))
    return message


def test_misspelled_domain_words_become_the_domain_words(tmp_path, prepare):
    normaliser, *_ = train(tmp_path, prepare)
    message = normalised(normaliser, prepare, "how much does a mortage servicng speciaist earn")
    assert tokens(message) == ["how", "much", "does", "a", "mortgage", "servicing", "specialist", "earn"]
    # The text stays as typed: the entity rules and the actions read it.
    assert message.get(TEXT) == "how much does a mortage servicng speciaist earn"
    # SpacyNLP lower-cases the text for its document (case_sensitive: false), and so the tokens.
    assert tokens(normalised(normaliser, prepare, "Averge SALRY")) == ["average", "salary"]


def test_known_words_numbers_and_state_codes_are_left_alone(tmp_path, prepare):
    # Even with every word of 2 letters or more looked at, known words and state codes stay.
    normaliser, *_ = train(tmp_path, prepare, {"min_length": 2})
    text = "whats the weather in TX and ok in 2024 for 401k"
    assert tokens(normalised(normaliser, prepare, text)) == tokens(prepare(text)[0])
    assert normaliser.correction("weather") is None  # a training word, though one edit from "whether"
    assert normaliser.correction("licence") is None and normaliser.correction("license") is None


def test_english_words_are_known_unless_switched_off(tmp_path, prepare):
    """An everyday word the domain lacks is left alone; with the domain's words only it would become one of them."""
    normaliser, *_ = train(tmp_path, prepare)
    assert normaliser.counts["does"] == 0  # known, and never a correction
    assert normaliser.correction("does") is None
    assert normaliser.correction("servicng") == "servicing"
    domain_only, *_ = train(tmp_path / "domain", prepare, {"english_min_count": None})
    assert domain_only.correction("does") is not None


def test_short_words_are_left_alone_by_default(tmp_path, prepare):
    normaliser, *_ = train(tmp_path, prepare)
    assert tokens(normalised(normaliser, prepare, "pya hte tellr")) == ["pya", "hte", "teller"]


def test_no_training_word_is_changed(tmp_path, prepare):
    normaliser, _, _, data = train(tmp_path, prepare)
    texts = [m.get(TEXT) for m in data.training_examples]
    before = [tokens(m) for m in prepare(*texts)]
    assert [tokens(m) for m in normaliser.process(prepare(*texts))] == before


def test_entity_text_is_left_alone(tmp_path, prepare, spacy_nlp):
    """A job the entity rules name in a form the dictionary lacks (a plural) stays as typed, and stays an entity."""
    normaliser, *_ = train(tmp_path, prepare)
    candidates = [
        vocab.plural(job)
        for job in vocab.occupations()
        if " " not in job
        and vocab.plural(job).lower() not in normaliser.known
        and normaliser.correction(vocab.plural(job)) is not None
    ]
    assert candidates, "no plural job outside the dictionary with a near known word"
    job = candidates[0]
    message = normalised(normaliser, prepare, f"how much do {job} earn")
    assert tokens(message)[3] == job.lower()
    extractor = SpacyEntityExtractor({"dimensions": list(ENTITY_LABELS)})
    extractor.process([message], spacy_nlp[1])
    assert [(e["value"].lower(), e["entity"]) for e in message.get("entities")] == [(job.lower(), "other_career")]


def test_the_dictionary_survives_the_model_storage(tmp_path, prepare):
    normaliser, storage, resource, _ = train(tmp_path, prepare)
    with storage.read_from(resource) as directory:
        assert (directory / WORDS_FILE).is_file() and (directory / INDEX_FILE).is_file()
    loaded = SpellingNormaliser.load(SpellingNormaliser.get_default_config(), storage, resource, None)
    assert loaded.counts == normaliser.counts and loaded.known == normaliser.known
    assert loaded.counts["earn"] >= 2  # counted in the training data...
    assert "mortgage" in loaded.known and "california" in loaded.known  # ...and the knowledge and vocabularies
    for word in ("mortage", "servicng", "averge", "salry", "tellr", "weather", "zzzzqqq"):
        assert loaded.correction(word) == normaliser.correction(word)


def test_a_broken_dictionary_names_its_file_and_line(tmp_path, prepare):
    _, storage, resource, _ = train(tmp_path, prepare)
    with storage.write_to(resource) as directory:
        (directory / WORDS_FILE).write_text("earn\t3\nbroken line\n", encoding="utf-8")
    with pytest.raises(InvalidConfigException, match=rf"{WORDS_FILE}, line 2: expected 'word<TAB>count'"):
        SpellingNormaliser.load(SpellingNormaliser.get_default_config(), storage, resource, None)


def test_bad_settings_are_refused():
    with pytest.raises(InvalidConfigException, match="max_edit_distance"):
        SpellingNormaliser.validate_config({"max_edit_distance": 3})
    with pytest.raises(InvalidConfigException, match="min_length"):
        SpellingNormaliser.validate_config({"min_length": 0})
    with pytest.raises(InvalidConfigException, match="english_min_count"):
        SpellingNormaliser.validate_config({"english_min_count": "all"})
