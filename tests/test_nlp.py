"""The spaCy pipeline built from nlp/patterns, and the custom Rasa components."""

from __future__ import annotations

import pytest
from rasa.nlu.utils.spacy_utils import SpacyModel
from rasa.shared.nlu.training_data.message import Message

from careers.rules_file import load_rules
from careers.vocabulary import PROGRAMMES
from nlp.build_pipeline import PatternFileError, read_patterns
from nlp.rasa_components import CareersEntityExtractor, LongMessageFallback, MessageGuard


def _entities(nlp, text):
    """What CareersEntityExtractor reports for `text`: (entity, span text, value)."""
    message = Message({"text": text})
    extractor = CareersEntityExtractor({"dimensions": None})
    extractor.process([message], SpacyModel(model=nlp, model_name="test"))
    return [(e["entity"], text[e["start"] : e["end"]], e["value"]) for e in message.get("entities")]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "I have a 2:2 in history and an MSc in medical physics",
            [
                ("degree_class", "2:2", "lower_second"),
                ("subject", "history", "history"),
                ("qualification", "MSc", "msc"),
                ("subject", "medical physics", "medical physics"),
            ],
        ),
        (
            "got a first in mech eng",
            [("degree_class", "first", "first"), ("subject", "mech eng", "mechanical engineering")],
        ),
        (
            "upper second in Chemistry, then an MRes",
            [
                ("degree_class", "upper second", "upper_second"),
                ("subject", "Chemistry", "chemistry"),
                ("qualification", "MRes", "mres"),
            ],
        ),
        (
            "two A levels incl physics",
            [
                ("count", "two", "2"),
                ("qualification", "A levels", "a_level"),
                ("subject", "physics", "physics"),
            ],
        ),
        ("grade 4s in my GCSEs", [("grade", "grade 4s", "4"), ("qualification", "GCSEs", "gcse")]),
        ("A*-C in maths", [("grade", "A*-C", "C"), ("subject", "maths", "mathematics")]),
        ("can i do stp wiv a 2.2", [("programme", "stp", "STP"), ("degree_class", "2.2", "lower_second")]),
        (
            "PG cert or integrated masters",
            [
                ("qualification", "PG cert", "pgcert"),
                ("qualification", "integrated masters", "integrated_masters"),
            ],
        ),
    ],
)
def test_entities_with_canonical_values(nlp, text, expected):
    assert _entities(nlp, text) == expected


@pytest.mark.parametrize(
    "text, absent",
    [
        ("my first degree was in physics", ("degree_class", "first")),
        ("this is my first time here", ("degree_class", "first")),
        ("I am 22 and have a 2:1", ("count", "22")),
        ("I waited 3 years for this", ("count", "3")),
        ("can you get me a car rental for march 1st to 3rd in seattle", ("degree_class", "3rd")),
        ("can i apply for a paypal master card", ("qualification", "master")),
    ],
)
def test_words_that_only_look_like_entities_are_dropped(nlp, text, absent):
    assert absent not in [(e, t) for e, t, _ in _entities(nlp, text)]


def test_a_bare_answer_is_kept(nlp):
    assert _entities(nlp, "first") == [("degree_class", "first", "first")]
    assert _entities(nlp, "2") == [("count", "2", "2")]


def test_subjects_named_in_the_rules_file_are_recognised(nlp, rules):
    for subject in list(rules.subjects)[:40]:
        found = [(e, v) for e, _, v in _entities(nlp, f"my degree is in {subject}")]
        assert ("subject", subject) in found, subject


def test_a_broken_pattern_line_is_reported(tmp_path):
    (tmp_path / "bad.jsonl").write_text(
        '{"label": "subject", "pattern": "physics", "id": "physics"}\n'
        '{"label": "colour", "pattern": "red", "id": "red"}\n'
    )
    with pytest.raises(PatternFileError, match=r"bad.jsonl:2: label"):
        read_patterns(tmp_path)


def test_a_pattern_for_a_programme_the_domain_does_not_know_is_reported(tmp_path):
    (tmp_path / "programmes.jsonl").write_text(
        '{"label": "programme", "pattern": "scientist training programme", "id": "STP"}\n'
        '{"label": "programme", "pattern": "higher specialist training", "id": "HSST"}\n'
    )
    with pytest.raises(PatternFileError, match=r"programmes.jsonl:2: unknown programme 'HSST'"):
        read_patterns(tmp_path)


def test_the_short_names_of_the_programmes_come_from_the_vocabulary(nlp):
    for code in PROGRAMMES:
        assert ("programme", code) in [(e, v) for e, _, v in _entities(nlp, f"tell me about the {code}")]


def test_message_guard_cuts_long_messages_and_strips_markup():
    guard = MessageGuard({"max_characters": 50})
    long, markup, plain = (
        Message({"text": "a" * 120}),
        Message({"text": "<b>hi</b> there"}),
        Message({"text": "2 < 3"}),
    )
    guard.process([long, markup, plain])
    assert long.get("text") == "a" * 50 and long.get("original_length") == 120
    assert long.get("truncated") is True
    assert markup.get("text") == "hi there" and not markup.get("truncated")
    assert plain.get("text") == "2 < 3"


def test_long_message_fallback_overrides_the_classifier():
    message = Message(
        {
            "text": "x",
            "truncated": True,
            "intent": {"name": "greet", "confidence": 0.9},
            "entities": [{"entity": "subject"}],
        }
    )
    LongMessageFallback().process([message])
    assert message.get("intent") == {"name": "nlu_fallback", "confidence": 1.0}
    assert message.get("entities") == []


@pytest.mark.parametrize(
    "text, is_subject",
    [
        ("how do I get into clinical engineering?", False),
        ("a career in clinical engineering", False),
        ("is clinical engineering a good job", False),
        ("I have an MSc in clinical engineering", True),
        ("clinical engineering", True),
    ],
)
def test_the_career_name_is_a_subject_only_when_studied(nlp, text, is_subject):
    found = ("subject", "clinical engineering") in [(e, v) for e, _, v in _entities(nlp, text)]
    assert found is is_subject


def test_a_medic_is_recognised_as_having_a_medical_degree(nlp):
    assert ("qualification", "medic", "medical_degree") in _entities(nlp, "I'm a medic, can I switch?")


@pytest.mark.parametrize(
    "text, subject",
    [
        ("what a levels do i need for nursing", "nursing"),
        ("how do i apply for student finance", "finance"),
        ("is leadership important in clinical engineering", "clinical engineering"),
    ],
)
def test_subjects_in_a_career_context_are_dropped(nlp, text, subject):
    assert subject not in [v for e, _, v in _entities(nlp, text) if e == "subject"]


@pytest.mark.parametrize(
    "text, expected",
    [
        (
            "i have a frist in enginering",
            [("degree_class", "frist", "first"), ("subject", "enginering", "engineering")],
        ),
        (
            "a 2:1 in chemstry",
            [("degree_class", "2:1", "upper_second"), ("subject", "chemstry", "chemistry")],
        ),
        ("does it matter which masters", [("qualification", "masters", "msc")]),
        (
            "final yr of electrical n electronic engeneering",
            [("subject", "electrical n electronic engeneering", "electrical and electronic engineering")],
        ),
        (
            "an Msc in Biomedcal Engneering",
            [("qualification", "Msc", "msc"), ("subject", "Biomedcal Engneering", "biomedical engineering")],
        ),
        ("it doesnt matter", []),
        # Real words near a pattern word are left alone.
        ("from Queen's University Belfast", []),
        ("my role oversees quality", []),
        ("an artificial intelligence being", []),  # "beng" is a short form, not a spelling
        ("will engineers be competing for the same jobs", []),  # one wrong letter from "computing"
        ("My fiance has one", []),
        (
            "Electronic Engneering 2:1",
            [
                ("subject", "Electronic Engneering", "electronic engineering"),
                ("degree_class", "2:1", "upper_second"),
            ],
        ),
        ("physics n maths", [("subject", "physics", "physics"), ("subject", "maths", "mathematics")]),
    ],
)
def test_typos_are_recognised_but_not_other_words(nlp, text, expected):
    assert _entities(nlp, text) == expected


@pytest.mark.model  # trains and saves the intent classifier (skops: ~9 s to import)
def test_tfidf_intent_classifier_trains_persists_and_ranks(tmp_path):
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlp.intent_classifier import TfidfIntentClassifier

    examples = [
        Message({"text": t, "intent": i})
        for t, i in [
            ("hello there", "greet"),
            ("hi", "greet"),
            ("good morning", "greet"),
            ("what skills do I need", "ask_skills"),
            ("which qualities matter", "ask_skills"),
            ("skills for clinical engineers", "ask_skills"),
        ]
    ]
    storage, resource = LocalModelStorage(tmp_path), Resource("tfidf")
    context = ExecutionContext(graph_schema=None, model_id="test")
    TfidfIntentClassifier.create({}, storage, resource, context).train(TrainingData(examples))
    loaded = TfidfIntentClassifier.load({}, storage, resource, context)
    hello, empty = Message({"text": "hello"}), Message({"text": "  "})
    loaded.process([hello, empty])
    assert hello.get("intent")["name"] == "greet"
    assert [r["name"] for r in hello.get("intent_ranking")] == ["greet", "ask_skills"]
    assert empty.get("intent") == {"name": None, "confidence": 0.0}


def _trained_classifier(tmp_path):
    from rasa.engine.graph import ExecutionContext
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource
    from rasa.shared.nlu.training_data.training_data import TrainingData

    from nlp.intent_classifier import TfidfIntentClassifier

    texts = ["hello there", "hi", "good morning", "what skills do I need", "which qualities matter"]
    texts += ["skills for clinical engineers", "can I apply with a 2:2", "am I eligible", "is a 2:1 enough"]
    labels = ["greet"] * 3 + ["ask_skills"] * 3 + ["check_eligibility"] * 3
    storage, resource = LocalModelStorage(tmp_path), Resource("tfidf")
    context = ExecutionContext(graph_schema=None, model_id="test")
    trained = TfidfIntentClassifier.create({}, storage, resource, context)
    examples = [Message({"text": t, "intent": i}) for t, i in zip(texts, labels, strict=True)]
    trained.train(TrainingData(examples))
    return trained, storage, resource, context


@pytest.mark.model  # trains and saves the intent classifier (skops: ~9 s to import)
def test_the_saved_classifier_reads_back_the_same_probabilities(tmp_path):
    """The vocabularies are saved beside the model as lists (not by skops, entry by
    entry): what is loaded scores every message exactly as what was trained."""
    import json

    from nlp.intent_classifier import MODEL_FILE, VOCABULARIES_FILE, TfidfIntentClassifier, features

    trained, storage, resource, context = _trained_classifier(tmp_path)
    loaded = TfidfIntentClassifier.load({}, storage, resource, context)
    assert loaded._model is not None
    with storage.read_from(resource) as folder:
        grams = json.loads((folder / VOCABULARIES_FILE).read_text())
        assert [len(g) for g in grams] == [
            len(v.vocabulary_) for _, v in trained._model.steps[0][1].transformer_list
        ]
        assert b"qualities" not in (folder / MODEL_FILE).read_bytes()  # not inside the skops file
    for text in ["hello", "what skills", "2:1 physics, can I apply?", "zzz", ""]:
        message = Message({"text": text})
        assert loaded._scorer([features(message)]).tolist() == trained._scorer([features(message)]).tolist()
        assert loaded._model.predict_proba([text]).tolist() == trained._model.predict_proba([text]).tolist()


@pytest.mark.model  # trains and saves the intent classifier (skops: ~9 s to import)
def test_a_saved_classifier_with_other_types_or_wrong_vocabularies_is_refused(tmp_path, caplog):
    """Only the exact types listed are read from a model file; a model holding a
    function, or vocabularies that do not fit it, is not loaded (the fallback then
    answers every message)."""
    import json

    import skops.io as sio
    from sklearn.preprocessing import FunctionTransformer

    from nlp.intent_classifier import MODEL_FILE, VOCABULARIES_FILE, TfidfIntentClassifier

    trained, storage, resource, context = _trained_classifier(tmp_path)
    with storage.write_to(resource) as folder:
        vocabularies = json.loads((folder / VOCABULARIES_FILE).read_text())
        (folder / VOCABULARIES_FILE).write_text(json.dumps([vocabularies[0][:-1], vocabularies[1]]))
    assert TfidfIntentClassifier.load({}, storage, resource, context)._model is None
    assert "does not match the model's IDF weights" in caplog.text
    with storage.write_to(resource) as folder:
        (folder / VOCABULARIES_FILE).write_text(json.dumps(vocabularies))
        assert TfidfIntentClassifier.load({}, storage, resource, context)._model is not None
        sio.dump(FunctionTransformer(func=print), folder / MODEL_FILE)
    assert TfidfIntentClassifier.load({}, storage, resource, context)._model is None
    assert "builtins.print" in caplog.text


def test_no_phrase_has_two_meanings():
    """A phrase in two pattern files (or in a file and the rules file) with different
    labels or values would be read one way or the other at random."""
    from collections import defaultdict

    from nlp.build_pipeline import programme_patterns, read_patterns, subject_patterns

    meanings = defaultdict(set)
    for pattern in read_patterns() + programme_patterns() + subject_patterns(load_rules()):
        meanings[str(pattern["pattern"]).lower()].add((pattern["label"], pattern["id"]))
    assert {k: v for k, v in meanings.items() if len(v) > 1} == {}


def _ranked(text, *ranking):
    intents = [{"name": name, "confidence": confidence} for name, confidence in ranking]
    return Message({"text": text, "intent": intents[0], "intent_ranking": intents})


@pytest.fixture(scope="module")
def pipeline_config():
    import yaml

    from tests.conftest import ROOT

    config = yaml.safe_load((ROOT / "config.yml").read_text())
    return {c["name"].split(".")[-1]: c for c in config["pipeline"]}


@pytest.mark.parametrize(
    "text, intent",
    [
        ("Stop!", "stop"),
        ("cancel", "stop"),
        ("Start again", "start_again"),
        ("restart", "start_again"),
        ("stop the check please and tell me about pay", None),
    ],
)
def test_control_phrases_always_mean_the_same(pipeline_config, text, intent):
    from nlp.rasa_components import ControlPhrases

    message = _ranked(text, ("ask_skills", 0.6), ("stop", 0.2))
    ControlPhrases(pipeline_config["ControlPhrases"]).process([message])
    assert message.get("intent")["name"] == (intent or "ask_skills")


@pytest.mark.parametrize(
    "text, emergency",
    [
        ("I want to kill myself", True),
        ("I don't want to be alive anymore", True),
        ("my dad has collapsed and isn't breathing", True),
        ("she's taken an overdose", True),
        ("I've got chest pains", True),
        ("do clinical engineers work with breathing machines?", False),
        ("can I stop the check", False),
        ("I'm dying to know about the STP", False),
    ],
)
def test_safety_cues_catch_emergencies_whatever_the_classifier_said(pipeline_config, text, emergency):
    from nlp.rasa_components import SafetyCues

    message = _ranked(text, ("stop", 0.7), ("medical_emergency", 0.1))
    SafetyCues(pipeline_config["SafetyCues"]).process([message])
    assert (message.get("intent") == {"name": "medical_emergency", "confidence": 1.0}) is emergency


@pytest.mark.parametrize(
    "text, ranking, chosen",
    [
        # A close call with a keyword of something not covered: not covered.
        (
            "what band is a trainee on the stp",
            [("ask_stp_programme", 0.43), ("ask_not_covered", 0.42)],
            "ask_not_covered",
        ),
        # A close call without one: the covered topic.
        (
            "what qualifications do applicants need for the STP",
            [("ask_not_covered", 0.49), ("ask_stp_requirements", 0.40)],
            "ask_stp_requirements",
        ),
        # Not close: the classifier decides.
        ("is the STP paid?", [("ask_stp_programme", 0.97), ("ask_not_covered", 0.02)], "ask_stp_programme"),
        # Out of scope or not covered: not covered only with a keyword and a close call.
        ("what's the pay like", [("out_of_scope", 0.6), ("ask_not_covered", 0.32)], "ask_not_covered"),
        ("how much does a nurse earn", [("out_of_scope", 0.99), ("ask_not_covered", 0.01)], "out_of_scope"),
        ("tell me a joke", [("out_of_scope", 0.5), ("ask_not_covered", 0.45)], "out_of_scope"),
        # Anything else on top: left alone.
        ("hello", [("greet", 0.5), ("ask_not_covered", 0.45)], "greet"),
    ],
)
def test_not_covered_cues_settle_close_calls(pipeline_config, text, ranking, chosen):
    from nlp.rasa_components import NotCoveredCues

    message = _ranked(text, *ranking)
    NotCoveredCues(pipeline_config["NotCoveredCues"]).process([message])
    assert message.get("intent")["name"] == chosen
    assert message.get("intent_ranking")[0]["name"] == chosen


@pytest.mark.parametrize("intents", [3, 2])
def test_the_fast_scorer_gives_the_same_probabilities_as_scikit_learn(intents):
    import numpy as np

    from nlp.intent_classifier import TfidfIntentClassifier, _Scorer

    texts = ["hello there", "hi", "good morning", "what skills do I need", "which qualities matter"]
    texts += ["skills for clinical engineers", "can I apply with a 2:2", "am I eligible", "is a 2:1 enough"]
    labels = (["greet"] * 3 + ["ask_skills"] * 3 + ["check"] * 3) if intents == 3 else ["a", "b"] * 4 + ["a"]
    classifier = TfidfIntentClassifier({}, None, None)
    model = classifier._new_model().fit(texts, labels)
    scorer = _Scorer.for_model(model)
    # Two intents: logistic regression is binary, and scikit-learn's own method is used.
    assert isinstance(scorer, _Scorer) == (intents == 3)
    for text in ["hello", "what skills", "2:1 physics, can I apply?", "zzz"]:
        assert np.allclose(scorer([text]), model.predict_proba([text]), rtol=0, atol=1e-12)
