"""The intent classifier trains, saves (skops), loads and ranks intents."""

from __future__ import annotations

import pytest
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.intent_classifier import TfidfIntentClassifier

EXAMPLES = {
    "greet": ["hi", "hello there", "hey", "good morning", "hiya"],
    "choose_pay_now": ["I'll pay now", "pay it all today", "I can pay the full amount now", "let me pay now"],
    "request_human": ["can I speak to a person", "I want a human", "put me through to an agent", "real person please"],
}


@pytest.fixture
def storage(tmp_path):
    return LocalModelStorage(tmp_path)


def _context() -> ExecutionContext:
    return ExecutionContext(GraphSchema({}), node_name="intent_classifier")


def _trained(storage) -> Resource:
    resource = Resource("intent_classifier")
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])
    TfidfIntentClassifier.create({}, storage, resource, _context()).train(data)
    return resource


def test_a_trained_classifier_is_loaded_and_ranks_intents(storage):
    classifier = TfidfIntentClassifier.load({}, storage, _trained(storage), _context())
    [message] = classifier.process([Message(data={"text": "could I talk to a real person"})])
    assert message.get("intent")["name"] == "request_human"
    ranking = message.get("intent_ranking")
    assert next(r["name"] for r in ranking) == "request_human" and len(ranking) == 3
    assert abs(sum(r["confidence"] for r in ranking) - 1.0) < 1e-6
    assert ranking[0]["confidence"] > ranking[1]["confidence"]


def test_an_empty_message_gets_no_intent(storage):
    classifier = TfidfIntentClassifier.load({}, storage, _trained(storage), _context())
    empty, hello = classifier.process([Message(data={"text": "  "}), Message(data={"text": "hello"})])
    assert empty.get("intent") == {"name": None, "confidence": 0.0} and empty.get("intent_ranking") == []
    assert hello.get("intent")["name"] == "greet"


def test_a_message_with_nothing_the_model_knows_is_not_understood(storage):
    """Letters and symbols none of the examples had ("ȀȁȂ", emoji the data lacks) leave
    the model nothing to go on: it would answer with whichever intent its biases favour
    (affirm at 0.82 in the shipped model), a guess. It gives no intent, so the fallback
    asks again."""
    classifier = TfidfIntentClassifier.load({}, storage, _trained(storage), _context())
    unknown, emoji, hello = classifier.process(
        [Message(data={"text": "ȀȁȂ"}), Message(data={"text": "\U0001f9ff\U0001f9ff"}), Message(data={"text": "hello"})]
    )
    for message in (unknown, emoji):
        assert message.get("intent") == {"name": None, "confidence": 0.0}
        assert message.get("intent_ranking") == []
    assert hello.get("intent")["name"] == "greet"


def test_a_missing_model_classifies_nothing_instead_of_failing(storage):
    classifier = TfidfIntentClassifier.load({}, storage, Resource("never_trained"), _context())
    [message] = classifier.process([Message(data={"text": "hello"})])
    assert message.get("intent") == {"name": None, "confidence": 0.0}


def test_weights_laid_out_for_scoring_give_bit_identical_probabilities():
    from copy import deepcopy

    from components.intent_classifier import _fast_scoring

    texts = [t for texts in EXAMPLES.values() for t in texts]
    labels = [i for i, texts in EXAMPLES.items() for _ in texts]
    model = TfidfIntentClassifier({}, None, None)._new_model().fit(texts, labels)
    before = model.predict_proba(texts + ["speak to someone today", "hello, pay now"])
    fast = _fast_scoring(deepcopy(model))
    assert fast.steps[-1][1].coef_.T.flags["C_CONTIGUOUS"]  # scipy multiplies without copying the weights
    assert (fast.predict_proba(texts + ["speak to someone today", "hello, pay now"]) == before).all()


ZH_EXAMPLES = {
    "greet": ["你好", "您好", "在吗", "早上好"],
    "choose_pay_now": ["我现在就还", "今天全部还清", "马上还款", "我一次性还了"],
    "request_human": ["我要找人工", "转人工客服", "请让真人跟我说", "人工服务"],
}


def test_chinese_and_english_are_each_read_by_their_own_model(storage):
    """One model per script: a Chinese message is ranked by the Chinese examples only,
    an English one by the English only, and both come back from storage."""
    resource = Resource("intent_classifier")
    both = {**{i: EXAMPLES[i] + ZH_EXAMPLES[i] for i in EXAMPLES}}
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in both.items() for t in texts])
    TfidfIntentClassifier.create({}, storage, resource, _context()).train(data)
    classifier = TfidfIntentClassifier.load({}, storage, resource, _context())
    assert set(classifier.models) == {"en", "zh"}
    zh, en, mixed = classifier.process(
        [
            Message(data={"text": "我想转人工"}),
            Message(data={"text": "pay it all now"}),
            Message(data={"text": "ok 你好"}),
        ]
    )
    assert zh.get("intent")["name"] == "request_human"
    assert en.get("intent")["name"] == "choose_pay_now"
    assert mixed.get("intent")["name"] == "greet"


def test_a_language_without_examples_gets_no_intent_rather_than_a_guess(storage):
    classifier = TfidfIntentClassifier.load({}, storage, _trained(storage), _context())
    [message] = classifier.process([Message(data={"text": "我想转人工"})])
    assert message.get("intent") == {"name": None, "confidence": 0.0}


def test_chinese_words_are_jiebas_segmentation_without_punctuation():
    from components.intent_classifier import chinese_words

    assert chinese_words("我想转人工，谢谢！") == ["我", "想", "转", "人工", "谢谢"]
    assert chinese_words("能不能每个月还500") == ["能", "不能", "每个", "月", "还", "500"]


def test_the_chinese_model_reads_words_not_whole_sentences(storage):
    """Chinese has no spaces: the Chinese model's word n-grams are jieba's words (a
    whitespace split made each sentence one "word"); the English model's are unchanged."""
    resource = Resource("intent_classifier")
    both = {i: EXAMPLES[i] + ZH_EXAMPLES[i] for i in EXAMPLES}
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in both.items() for t in texts])
    TfidfIntentClassifier.create({}, storage, resource, _context()).train(data)
    classifier = TfidfIntentClassifier.load({}, storage, resource, _context())  # the segmenter's function is trusted
    zh_words = classifier.models["zh"].steps[0][1].transformer_list[1][1].vocabulary_
    assert "人工" in zh_words and "转 人工" in zh_words and "转人工客服" not in zh_words
    en_words = classifier.models["en"].steps[0][1].transformer_list[1][1].vocabulary_
    assert "real person" in en_words
    [message] = classifier.process([Message(data={"text": "人工，谢谢"})])
    assert message.get("intent")["name"] == "request_human"


def test_the_sentence_vector_reads_meaning_the_n_grams_miss(storage):
    """ "can I clear what I owe this minute" shares no telling n-gram with the pay-now
    examples (only "can", which a person's example has too): the n-grams alone rank a
    person first; with each message's multilingual sentence
    vector beside them (the shipped configuration) it is paying now. The saved model
    refers to `sentence_vectors` by name, which loading trusts."""
    from components.intent_classifier import _uses_encoder

    data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])
    found = {}
    for with_vectors in (False, True):
        resource = Resource(f"intent_classifier_{with_vectors}")
        TfidfIntentClassifier.create({"sentence_vectors": with_vectors}, storage, resource, _context()).train(data)
        classifier = TfidfIntentClassifier.load({}, storage, resource, _context())
        assert _uses_encoder(classifier.models["en"]) is with_vectors
        [message] = classifier.process([Message(data={"text": "can I clear what I owe this minute"})])
        found[with_vectors] = message.get("intent")["name"]
    assert found == {False: "request_human", True: "choose_pay_now"}


def test_the_sentence_vector_alone_does_not_make_a_message_known(storage):
    """Every text has a sentence vector, "ȀȁȂ" included; only the n-grams say whether
    the message has anything the examples had."""
    resource = Resource("intent_classifier")
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])
    TfidfIntentClassifier.create({"sentence_vectors": True}, storage, resource, _context()).train(data)
    classifier = TfidfIntentClassifier.load({}, storage, resource, _context())
    assert classifier.models["en"][0].transformer_list[-1][0] == "functiontransformer"
    [unknown] = classifier.process([Message(data={"text": "ȀȁȂ ȀȁȂ"})])
    assert unknown.get("intent") == {"name": None, "confidence": 0.0}


def test_with_the_sentence_vector_a_message_without_a_known_word_gets_no_intent(storage):
    """ "erm", "zzzz": characters the examples had but not one of their words. The vector
    alone would place them near the commonest short replies (the shipped model: "erm" an
    affirm at 0.78), a guess; no intent, so the fallback asks again. A known word is enough."""
    resource = Resource("intent_classifier")
    data = TrainingData([Message(data={"text": t, "intent": i}) for i, texts in EXAMPLES.items() for t in texts])
    TfidfIntentClassifier.create({"sentence_vectors": True}, storage, resource, _context()).train(data)
    classifier = TfidfIntentClassifier.load({}, storage, resource, _context())
    erm, zzzz, hello = classifier.process([Message(data={"text": t}) for t in ("erm", "zzzz", "hello erm")])
    assert erm.get("intent") == zzzz.get("intent") == {"name": None, "confidence": 0.0}
    assert hello.get("intent")["name"] == "greet"
