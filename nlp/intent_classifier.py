"""An intent classifier for Rasa: word and character TF-IDF with logistic regression.

On our held-out messages it matched or beat DIET on intents in every comparison
(docs/nlu-report.md), trains in seconds instead of minutes and, unlike DIET on
this machine, gives the same model every time it is trained, so the figures CI
checks do not wander between runs.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.constants import SPACY_DOCS
from rasa.shared.nlu.constants import INTENT, INTENT_NAME_KEY, PREDICTED_CONFIDENCE_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from dialogue.turns import is_question

logger = logging.getLogger(__name__)

# The one type a saved model holds beyond those skops trusts of itself (scikit-learn's
# estimators, NumPy's arrays and plain Python values): the TF-IDF matrices. A model
# file holding any other type is refused.
TRUSTED_TYPES = ["scipy.sparse._csr.csr_matrix"]

# The model, and beside it each vectorizer's n-grams in column order (plain JSON).
# skops writes a dictionary entry by entry, each a typed node: the two vocabularies
# (43,000 n-grams) made a 48 MB file whose reading took 90 MB more memory than
# the server needed at any other moment. As a list they are 1 MB.
MODEL_FILE = "tfidf_intents.skops"
VOCABULARIES_FILE = "vocabularies.json"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class TfidfIntentClassifier(GraphComponent, IntentClassifier):
    """Classifies intents from the message text alone (no other featurizer needed)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {"C": 10.0, "class_weight": None, "max_iter": 3000, "ranking_length": 10, "random_state": 42}

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[Any] = None,
    ) -> None:
        self._config = {**self.get_default_config(), **config}
        self._model_storage = model_storage
        self._resource = resource
        self._model = model
        self._scorer = _Scorer.for_model(model) if model is not None else None

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "TfidfIntentClassifier":
        return cls(config, model_storage, resource)

    @staticmethod
    def required_packages() -> List[Text]:
        return ["sklearn", "skops"]

    def _new_model(self) -> Any:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        return make_pipeline(
            make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True),
            ),
            LogisticRegression(
                C=self._config["C"],
                class_weight=self._config["class_weight"],
                max_iter=self._config["max_iter"],
                random_state=self._config["random_state"],
            ),
        )

    def train(self, training_data: TrainingData) -> Resource:
        examples = [m for m in training_data.intent_examples if m.get(TEXT)]
        if len({m.get(INTENT) for m in examples}) < 2:
            logger.warning("TfidfIntentClassifier needs at least two intents; not trained.")
            return self._resource
        self._model = self._new_model()
        self._model.fit([features(m) for m in examples], [m.get(INTENT) for m in examples])
        self._scorer = _Scorer.for_model(self._model)
        self.persist()
        return self._resource

    def persist(self) -> None:
        import skops.io as sio

        vectorizers = _vectorizers(self._model)
        vocabularies = [vectorizer.vocabulary_ for vectorizer in vectorizers]
        with self._model_storage.write_to(self._resource) as model_dir:
            try:
                for vectorizer in vectorizers:
                    vectorizer.vocabulary_ = {}
                sio.dump(self._model, model_dir / MODEL_FILE)
            finally:
                for vectorizer, vocabulary in zip(vectorizers, vocabularies, strict=True):
                    vectorizer.vocabulary_ = vocabulary
            in_column_order = [sorted(vocabulary, key=vocabulary.__getitem__) for vocabulary in vocabularies]
            (model_dir / VOCABULARIES_FILE).write_text(json.dumps(in_column_order), encoding="utf-8")

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "TfidfIntentClassifier":
        import skops.io as sio
        from skops.io.exceptions import UntrustedTypesFoundException

        try:
            with model_storage.read_from(resource) as model_dir:
                model = sio.load(model_dir / MODEL_FILE, trusted=TRUSTED_TYPES)
                if (model_dir / VOCABULARIES_FILE).exists():
                    _restore_vocabularies(
                        model, json.loads((model_dir / VOCABULARIES_FILE).read_text("utf-8"))
                    )
        except (ValueError, UntrustedTypesFoundException) as error:
            logger.warning(f"TfidfIntentClassifier could not be loaded: {error}")
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = (message.get(TEXT) or "").strip()
            if self._model is None or not text:
                # No confidence at all: the fallback classifier takes it from here.
                message.set(
                    INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, add_to_output=True
                )
                message.set("intent_ranking", [], add_to_output=True)
                continue
            probabilities = self._probabilities(message)
            ranked = sorted(zip(self._model.classes_, probabilities, strict=True), key=lambda p: -p[1])
            ranking = [
                {INTENT_NAME_KEY: str(name), PREDICTED_CONFIDENCE_KEY: float(p)}
                for name, p in ranked[: self._config["ranking_length"]]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set("intent_ranking", ranking, add_to_output=True)
        return messages

    def _probabilities(self, message: Message) -> Any:
        """The intent probabilities. A long message is mostly context around one
        question: its question sentence counts as much as the whole message."""
        scorer = self._scorer
        assert scorer is not None, "only called with a trained or loaded model"
        whole = scorer([features(message)])[0]
        questions = question_sentences(message.get(TEXT) or "")
        if not questions:
            return whole
        asked = scorer([features(message, questions[-1])])[0]
        return (whole + asked) / 2


def _vectorizers(model: Any) -> List[Any]:
    """The TF-IDF vectorizers of a model as `_new_model` makes it, in column order."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import FeatureUnion, Pipeline

    union = model.steps[0][1] if isinstance(model, Pipeline) and model.steps else None
    if not isinstance(union, FeatureUnion):
        return []
    return [part for _, part in union.transformer_list if isinstance(part, TfidfVectorizer)]


def _restore_vocabularies(model: Any, in_column_order: Any) -> None:
    """Puts back each vectorizer's n-grams, checked against its IDF weights."""
    vectorizers = _vectorizers(model)
    if not isinstance(in_column_order, list) or len(in_column_order) != len(vectorizers):
        raise ValueError(f"{VOCABULARIES_FILE} does not match the model's {len(vectorizers)} vectorizers")
    for vectorizer, grams in zip(vectorizers, in_column_order, strict=True):
        if not isinstance(grams, list) or len(grams) != len(vectorizer.idf_) or len(set(grams)) != len(grams):
            raise ValueError(f"{VOCABULARIES_FILE} does not match the model's IDF weights")
        vectorizer.vocabulary_ = {gram: column for column, gram in enumerate(grams)}


class _Scorer:
    """The model's `predict_proba` for a message or two at a time, about ten times
    as fast: scikit-learn's pipeline runs the feature union through joblib, checks
    every estimator is fitted, recomputes the IDF vector and builds sparse matrices
    on every call, and copies the whole weight matrix (classes x features) because
    it multiplies by its transpose. Here each vectorizer's n-grams are counted with
    its own analyzer and weighted exactly as its transform does, and only the
    weight rows of the n-grams present are read. Gives the same probabilities
    (tests/test_nlp.py); any other model shape just uses `predict_proba`."""

    def __init__(self, vectorizers: List["_Tfidf"], weights: Any, intercept: Any) -> None:
        self._vectorizers, self._weights, self._intercept = vectorizers, weights, intercept

    @classmethod
    def for_model(cls, model: Any) -> Any:
        import numpy as np
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import FeatureUnion, Pipeline

        steps = model.steps if isinstance(model, Pipeline) else []
        union, classifier = (steps[0][1], steps[-1][1]) if len(steps) == 2 else (None, None)
        multinomial = (
            isinstance(classifier, LogisticRegression)
            and len(classifier.classes_) > 2
            and classifier.multi_class in ("auto", "multinomial")
            and classifier.solver != "liblinear"
        )
        if not isinstance(union, FeatureUnion) or not multinomial or union.transformer_weights:
            return model.predict_proba
        parts = [vectorizer for _, vectorizer in union.transformer_list]
        if not all(_Tfidf.handles(part) for part in parts):
            return model.predict_proba
        assert classifier is not None
        vectorizers, offset = [], 0
        for part in parts:
            vectorizers.append(_Tfidf(part, offset))
            offset += len(part.vocabulary_)
        # Column-major weights: their transpose (features x classes) is contiguous,
        # for reading rows here and for predict_proba, without a second copy.
        classifier.coef_ = np.asfortranarray(classifier.coef_)
        return cls(vectorizers, classifier.coef_.T, classifier.intercept_)

    def __call__(self, texts: List[str]) -> Any:
        import numpy as np

        scores = np.tile(self._intercept, (len(texts), 1))
        for row, text in enumerate(texts):
            for vectorizer in self._vectorizers:
                columns, values = vectorizer(text)
                if len(columns):
                    scores[row] += values @ self._weights[columns]
        scores -= scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)


class _Tfidf:
    """A fitted TfidfVectorizer's row for one text, as (columns, values)."""

    def __init__(self, vectorizer: Any, offset: int) -> None:
        self._analyse = vectorizer.build_analyzer()
        self._vocabulary = vectorizer.vocabulary_
        self._idf = vectorizer.idf_  # a property that sums a sparse matrix: once
        self._sublinear = vectorizer.sublinear_tf
        self._offset = offset

    @staticmethod
    def handles(vectorizer: Any) -> bool:
        from sklearn.feature_extraction.text import TfidfVectorizer

        return (
            isinstance(vectorizer, TfidfVectorizer)
            and vectorizer.use_idf
            and vectorizer.norm == "l2"
            and not vectorizer.binary
        )

    def __call__(self, text: str) -> Tuple[Any, Any]:
        import numpy as np

        counts: Dict[int, int] = {}
        for gram in self._analyse(text):
            column = self._vocabulary.get(gram)
            if column is not None:
                counts[column] = counts.get(column, 0) + 1
        columns = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values: Any = np.fromiter(counts.values(), dtype=np.float64, count=len(counts))
        if self._sublinear:
            values = np.log(values) + 1.0  # as TfidfTransformer: log(tf) + 1
        values *= self._idf[columns]
        norm = np.sqrt(np.dot(values, values))
        if norm > 0:
            values /= norm
        return columns + self._offset, values


# Long messages: at least this many words before the question sentence is used too.
_LONG_MESSAGE_WORDS = 12
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")


def question_sentences(text: str) -> List[str]:
    """The sentences ending in a question mark, in a message long enough to have context."""
    if len(text.split()) < _LONG_MESSAGE_WORDS:
        return []
    sentences = [s.strip() for s in _SENTENCE.findall(text) if s.strip()]
    if len(sentences) < 2:
        return []
    return [s for s in sentences if s.endswith("?") and len(s.split()) >= 3]


def features(message: Message, text: Optional[str] = None) -> str:
    """The text the classifier reads: the words as written, then the same words with
    each entity the spaCy pipeline found replaced by its kind (and, where it matters,
    its canonical value: "ent_qualification_msc", "ent_subject"), so that a message
    about a subject it was never trained on reads like one about a subject it was;
    and whether it asks or states ("I have an HND" is a fact for the check, "does an
    HND count?" a question about the rules)."""
    whole = message.get(TEXT) or ""
    if text is None:
        text = whole
    offset = whole.find(text) if text else 0
    doc = message.get(SPACY_DOCS[TEXT])
    parts, last = [], offset
    for ent in doc.ents if doc is not None else ():
        if ent.start_char < offset or ent.end_char > offset + len(text):
            continue
        value = _ENTITY_VALUES.get(ent.label_) and (ent.ent_id_ or ent.text)
        value = re.sub(r"\W+", "_", str(value).lower()) if value else ""
        parts += [whole[last : ent.start_char], f" ent_{ent.label_}" + (f"_{value}" if value else "") + " "]
        last = ent.end_char
    parts.append(whole[last : offset + len(text)])
    # Whether it asks; whether it names anything the check could use; how long it is
    # (short chit-chat, "yes", "the PTP" and long questions read differently).
    markers = ["ent_question" if is_question(text) else "ent_statement"]
    if len(parts) == 1:
        markers.append("ent_none")
    words = len(text.split())
    markers.append(
        "ent_len1"
        if words <= 1
        else "ent_len2"
        if words <= 3
        else "ent_len_mid"
        if words <= 12
        else "ent_len_long"
    )
    return f"{text} || {''.join(parts)} {' '.join(markers)}"


# Entity kinds whose value matters to the intent (an MSc is not an A-level); for the
# others (which subject, how many) only the kind does.
_ENTITY_VALUES = {
    "qualification": True,
    "programme": True,
    "degree_class": True,
    "origin": True,
    "stage": True,
}
