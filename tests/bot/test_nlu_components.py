"""The WordLlama and MiniLM featurizers on the real tables and tokenizer files (make embeddings),
the gate, the classifier and the off-topic importer."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.rasa import offtopic
from bot.rasa.components.minilm_featurizer import MINILM_TOKENIZER, MINILM_WEIGHTS, MiniLMFeaturizer
from bot.rasa.components.offtopic_importer import OfftopicImporter
from bot.rasa.components.wordllama_featurizer import WORDLLAMA_TOKENIZER, WORDLLAMA_WEIGHTS, WordLlamaFeaturizer


@pytest.fixture(scope="module")
def featurizer():
    assert WORDLLAMA_WEIGHTS.exists() and WORDLLAMA_TOKENIZER.exists(), "run `make embeddings`"
    return WordLlamaFeaturizer({**WordLlamaFeaturizer.get_default_config(), "scale": 3.0}, "wordllama")


@pytest.fixture(scope="module")
def minilm():
    assert MINILM_WEIGHTS.exists() and MINILM_TOKENIZER.exists(), "run `make embeddings`"
    return MiniLMFeaturizer({**MiniLMFeaturizer.get_default_config(), "scale": 3.0}, "minilm")


@pytest.fixture(params=[("featurizer", 256), ("minilm", 384)], ids=["wordllama", "minilm"])
def each(request):
    """Each featurizer with the width of its vectors."""
    name, width = request.param
    return request.getfixturevalue(name), width


def featurize(featurizer, text):
    message = Message(data={TEXT: text})
    tokenizer = WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
    tokenizer.process([message])
    featurizer.process([message])
    return message


def test_shapes(each):
    featurizer, width = each
    message = featurize(featurizer, "how much does a mortgage servicing specialist earn")
    sequence, sentence = message.get_dense_features(TEXT)
    assert sequence.features.shape == (len(message.get(TOKENS_NAMES[TEXT])), width)
    assert sentence.features.shape == (1, width)
    assert np.isclose(np.linalg.norm(sentence.features), 3.0)
    assert np.isfinite(sequence.features).all()


def sentence(featurizer, text):
    vector = featurize(featurizer, text).get_dense_features(TEXT)[1].features[0]
    return vector / np.linalg.norm(vector)


def test_words_of_one_meaning_meet(each):
    featurizer, _ = each
    salary = sentence(featurizer, "salary")
    assert salary @ sentence(featurizer, "wage") > salary @ sentence(featurizer, "weather") + 0.3
    assert sentence(featurizer, "licence") @ sentence(featurizer, "license") > 0.7


def test_case_does_not_matter(each):
    featurizer, _ = each
    assert np.allclose(sentence(featurizer, "SALARY"), sentence(featurizer, "salary"))


def test_unknown_junk_still_gets_features(each):
    featurizer, width = each
    sequence, sentence_ = featurize(featurizer, "zzqx ￼ 🙂").get_dense_features(TEXT)
    assert sequence.features.shape[1] == width and np.isfinite(sentence_.features).all()


def test_minilm_sentences_of_one_meaning_meet(minilm):
    """The distilled table keeps the encoder's sense: a pay question is nearer another pay question than a flight."""
    pay = sentence(minilm, "how much do they earn")
    assert pay @ sentence(minilm, "what is the salary") > pay @ sentence(minilm, "book a flight to paris") + 0.05
    assert sentence(minilm, "salary") @ sentence(minilm, "wage") > 0.7
    # A word-piece tokenizer with a fixed padding length must not pad one word to 128 pieces.
    assert minilm.vectors.word("salary")[1] == 1


def test_importer_adds_the_offtopic_sample_as_out_of_scope():
    data = OfftopicImporter(per_intent=4).get_nlu_data()
    assert {m.get("intent") for m in data.intent_examples} == {"out_of_scope"}
    assert [m.get("text") for m in data.intent_examples] == offtopic.training_examples(4)


def test_importer_leaves_out_copies_of_held_out_lines(tmp_path):
    sample = offtopic.training_examples(4)
    held_out = tmp_path / "held_out.yml"
    held_out.write_text(f'version: "3.1"\nnlu:\n- intent: out_of_scope\n  examples: |\n    - {sample[0].upper()}!\n')
    data = OfftopicImporter(per_intent=4, held_out=[str(held_out)]).get_nlu_data()
    assert [m.get("text") for m in data.intent_examples] == sample[1:]


def test_in_domain_gate_sends_what_is_unlike_every_career_question_out_of_scope(featurizer, tmp_path):
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.rasa.components.in_domain_gate import InDomainGate

    def example(text, intent):
        message = featurize(featurizer, text)
        message.set("intent", intent)
        return message

    training = TrainingData(
        [
            example("how much do they earn a year", "ask_pay"),
            example("what are the working hours", "ask_hours"),
            example("play some music", "out_of_scope"),
        ]
    )
    storage, resource = LocalModelStorage(tmp_path), Resource("gate")
    InDomainGate({"threshold": 0.5}, storage, resource).train(training)
    gate = InDomainGate.load({"threshold": 0.5}, storage, resource, execution_context=None)
    assert gate.examples.shape == (2, 256)  # out_of_scope examples are not remembered

    def route(text, predicted):
        message = featurize(featurizer, text)
        message.set("intent", {"name": predicted, "confidence": 0.6})
        message.set(
            "intent_ranking", [{"name": predicted, "confidence": 0.6}, {"name": "out_of_scope", "confidence": 0.3}]
        )
        gate.process([message])
        return message.get("intent")["name"], [r["name"] for r in message.get("intent_ranking")]

    assert route("what do they earn in a year", "ask_pay")[0] == "ask_pay"
    assert gate.similarity(featurize(featurizer, "what do they earn in a year")) > gate.similarity(
        featurize(featurizer, "turn off the kitchen lights")
    )
    assert route("turn off the kitchen lights", "ask_hours") == ("out_of_scope", ["out_of_scope", "ask_hours"])
    assert route("turn off the kitchen lights", "greet")[0] == "greet"  # no career fact: left alone

    # A classifier at least `confident` sure is believed, however far the line is from training.
    sure = InDomainGate.load({"threshold": 0.5, "confident": 0.9}, storage, resource, execution_context=None)
    for confidence, expected in ((0.95, "ask_hours"), (0.6, "out_of_scope")):
        message = featurize(featurizer, "turn off the kitchen lights")
        message.set("intent", {"name": "ask_hours", "confidence": confidence})
        message.set("intent_ranking", [{"name": "ask_hours", "confidence": confidence}])
        sure.process([message])
        assert message.get("intent")["name"] == expected, confidence


def test_in_domain_gate_with_a_margin_sends_what_is_nearer_an_out_of_scope_example_out_of_scope(featurizer, tmp_path):
    """Near a career question, but nearer still to an off-topic one: "what's on my calendar this week"."""
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.rasa.components.in_domain_gate import InDomainGate

    def example(text, intent):
        message = featurize(featurizer, text)
        message.set("intent", intent)
        return message

    training = TrainingData(
        [
            example("what is the work schedule like this week", "ask_hours"),
            example("how much do they earn a year", "ask_pay"),
            example("what's on my calendar today", "out_of_scope"),
        ]
    )
    storage, resource = LocalModelStorage(tmp_path), Resource("gate")
    config = {"threshold": 0.0, "margin": 0.0, "confident": 0.9}
    InDomainGate(config, storage, resource).train(training)
    gate = InDomainGate.load(config, storage, resource, execution_context=None)
    assert gate.examples.shape == (2, 256) and gate.out_of_scope.shape == (1, 256)
    without = InDomainGate.load({"threshold": 0.0}, storage, resource, execution_context=None)

    def route(component, text, confidence=0.6):
        message = featurize(featurizer, text)
        message.set("intent", {"name": "ask_hours", "confidence": confidence})
        message.set("intent_ranking", [{"name": "ask_hours", "confidence": confidence}])
        component.process([message])
        return message.get("intent")["name"]

    assert route(gate, "what's on my calendar this week") == "out_of_scope"
    assert route(without, "what's on my calendar this week") == "ask_hours"  # no margin: nothing is below 0
    assert route(gate, "what is the schedule like in this job") == "ask_hours"
    assert route(gate, "what's on my calendar this week", confidence=0.95) == "ask_hours"  # sure: believed
    # The margin test can ask for more certainty than the distance test.
    stricter = InDomainGate.load({**config, "margin_confident": 0.99}, storage, resource, execution_context=None)
    assert route(stricter, "what's on my calendar this week", confidence=0.95) == "out_of_scope"
    assert route(stricter, "what is the schedule like in this job", confidence=0.95) == "ask_hours"

    # A margin needs out_of_scope examples to compare with.
    from rasa.shared.exceptions import InvalidConfigException

    with pytest.raises(InvalidConfigException, match="out_of_scope"):
        InDomainGate(config, storage, Resource("other")).train(TrainingData(training.intent_examples[:2]))


def test_tuned_logistic_regression_predicts_as_scikit_learn_does(featurizer, tmp_path, monkeypatch):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import CountVectorsFeaturizer
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from bot.rasa.components.logistic_classifier import TunedLogisticRegressionClassifier

    storage = LocalModelStorage(tmp_path)
    words = CountVectorsFeaturizer(
        CountVectorsFeaturizer.get_default_config(),
        storage,
        Resource("words"),
        ExecutionContext(GraphSchema({}), node_name="words"),
    )
    chars = CountVectorsFeaturizer(
        {**CountVectorsFeaturizer.get_default_config(), "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3},
        storage,
        Resource("chars"),
        ExecutionContext(GraphSchema({}), node_name="chars"),
    )
    examples = {
        "ask_pay": ["how much do they earn", "what is the salary", "pay per year"],
        "ask_hours": ["what are the hours", "do they work weekends", "is it nine to five"],
        "out_of_scope": ["play some jazz", "book a flight", "what's the weather"],
    }
    messages = []
    for intent, texts in examples.items():
        for text in texts:
            message = featurize(featurizer, text)
            message.set("intent", intent)
            messages.append(message)
    training = TrainingData(messages)
    for vectorizer in (words, chars):
        vectorizer.train(training)
        vectorizer.process_training_data(training)
    # The model is stored as plain arrays: training, persisting and loading never import skops.
    monkeypatch.setitem(sys.modules, "skops", None)
    monkeypatch.setitem(sys.modules, "skops.io", None)
    config = {**TunedLogisticRegressionClassifier.get_default_config(), "C": 2.0}
    trained = TunedLogisticRegressionClassifier(config, "lr", storage, Resource("lr"))
    trained.train(training)
    assert trained.clf.C == 2.0
    classifier = TunedLogisticRegressionClassifier.load(
        config, storage, Resource("lr"), ExecutionContext(GraphSchema({}), node_name="lr")
    )
    assert classifier.clf.C == 2.0 and list(classifier.clf.classes_) == list(trained.clf.classes_)

    def parse(text):
        message = featurize(featurizer, text)
        for vectorizer in (words, chars):
            vectorizer.process([message])
        return message

    for text in ["how much is the salary", "weekend hours?", "jazz please", "zzz"]:
        message = parse(text)
        expected = classifier.clf.predict_proba(classifier._create_X([message]))[0]
        assert np.allclose(classifier.probabilities(message), expected)
        assert np.array_equal(classifier.probabilities(message), trained.probabilities(message))
        classifier.process([message])
        assert message.get("intent")["name"] == classifier.clf.classes_[int(np.argmax(expected))]
        assert len(message.get("intent_ranking")) == 3
    assert parse("what do they earn").get("intent") is None
    assert classifier.process([parse("what do they earn")])[0].get("intent")["name"] == "ask_pay"


def test_a_classifier_stored_in_another_form_is_named_with_the_way_out(tmp_path):
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.exceptions import RasaException

    from bot.rasa.components.logistic_classifier import TunedLogisticRegressionClassifier

    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), node_name="lr")
    config = TunedLogisticRegressionClassifier.get_default_config()
    # Never trained: an untrained component, as Rasa's own load gives.
    assert not hasattr(TunedLogisticRegressionClassifier.load(config, storage, Resource("lr"), context).clf, "coef_")
    with storage.write_to(Resource("lr")) as directory:
        (directory / "lr.skops").write_bytes(b"an older model's file")
    with pytest.raises(RasaException, match="make train"):
        TunedLogisticRegressionClassifier.load(config, storage, Resource("lr"), context)
    with storage.write_to(Resource("lr")) as directory:
        (directory / "lr.npz").write_bytes(b"not a numpy file")
    with pytest.raises(RasaException, match="lr.npz: the intent classifier cannot be read"):
        TunedLogisticRegressionClassifier.load(config, storage, Resource("lr"), context)


def test_the_training_cache_sees_new_vectors(tmp_path):
    """Rasa's training cache keys a featurizer by its config: the vector files' contents must be part of it,
    or a model trained after `make embeddings` replaced them would keep the old vectors' features."""
    weights, tokenizer = tmp_path / "vectors.safetensors", tmp_path / "tokenizer.json"
    weights.write_bytes(b"first vectors")
    tokenizer.write_text("{}")
    config = {"weights": str(weights), "tokenizer": str(tokenizer)}
    before = WordLlamaFeaturizer.fingerprint_addon(config)
    assert MiniLMFeaturizer.fingerprint_addon(config) == before
    weights.write_bytes(b"other vectors")
    assert WordLlamaFeaturizer.fingerprint_addon(config) != before
    # The defaults, as config.yml leaves them: the real files' digest.
    assert WordLlamaFeaturizer.fingerprint_addon({}) != MiniLMFeaturizer.fingerprint_addon({})


def test_the_training_cache_sees_a_knowledge_edit(tmp_path, monkeypatch):
    """The spelling dictionary is built from the knowledge too: an edit there must retrain it."""
    import shutil

    from bot import KNOWLEDGE_DIR
    from bot.rasa.spelling import SpellingNormaliser

    copy = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE_DIR, copy)
    monkeypatch.setenv("CAREERBOT_KNOWLEDGE_DIR", str(copy))
    before = SpellingNormaliser.fingerprint_addon({})
    assert SpellingNormaliser.fingerprint_addon({}) == before
    career = copy / "tellers.yml"
    text = career.read_text(encoding="utf-8")
    assert "were employed as tellers." in text
    career.write_text(text.replace("were employed as tellers.", "were employed as bank tellers."), encoding="utf-8")
    assert SpellingNormaliser.fingerprint_addon({}) != before
