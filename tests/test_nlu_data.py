"""The held-out messages stay held out, and the training data stays consistent."""

from __future__ import annotations

import re

import yaml
from rasa.shared.nlu.training_data.loading import load_data

from tests.conftest import ROOT

HELD_OUT = ROOT / "tests" / "nlu_heldout.yml"
REALISTIC = ROOT / "tests" / "heldout_realistic.yml"
REALISTIC_DEV = ROOT / "tests" / "realistic_dev.yml"
FINAL = ROOT / "tests" / "heldout_final.yml"


def _plain(text: str) -> str:
    return " ".join(re.sub(r"[^\w' ]", " ", text.lower()).split())


def _texts(path):
    return {_plain(m.get("text")): m.get("intent") for m in load_data(str(path)).intent_examples}


def _realistic_texts(path):
    data = yaml.safe_load(path.read_text())
    texts = {_plain(m["text"]) for m in data["messages"]}
    texts |= {_plain(t) for c in data["conversations"] for t in c["turns"]}
    return texts - {""}


def test_no_held_out_message_is_in_the_training_data():
    training = set(_texts(ROOT / "data" / "nlu"))
    for held_out in (
        set(_texts(HELD_OUT)),
        _realistic_texts(REALISTIC),
        _realistic_texts(REALISTIC_DEV),
        _realistic_texts(FINAL),
    ):
        # Answers of a word or two ("no", "2:1") are bound to be in both.
        overlap = {t for t in training & held_out if len(t.split()) > 3}
        assert not overlap, f"held-out messages found in training data: {sorted(overlap)[:10]}"


# Never the classifier's, so neither trained nor held out: feedback is sent only by
# the thumbs buttons; deleting a conversation cannot be undone, so it takes the exact
# phrase or the widget's button (config.yml's ControlPhrases), never a guess; asking
# to delete in other words is read by nlp/deletion_requests.py, and its answers are
# buttons.
# Set by a button or by the pipeline's own components, never by the classifier.
BUTTON_ONLY_INTENTS = {
    "feedback",
    "delete_conversation",
    "request_deletion",
    "keep_conversation",
    "privacy_question",
}


def test_the_held_out_sets_are_big_enough_and_cover_every_intent(domain):
    held_out = load_data(str(HELD_OUT))
    realistic = yaml.safe_load(REALISTIC.read_text())
    assert len(held_out.intent_examples) >= 200
    assert len(realistic["messages"]) >= 150 and len(realistic["conversations"]) >= 30
    covered = set(held_out.intents) | {m["expect"] for m in realistic["messages"]}
    assert covered == set(domain["intents"]) - BUTTON_ONLY_INTENTS
    assert not BUTTON_ONLY_INTENTS & set(load_data(str(ROOT / "data" / "nlu")).intents)


def test_every_verdict_of_both_programmes_is_in_each_realistic_set():
    for path in (REALISTIC, FINAL):
        realistic = yaml.safe_load(path.read_text())
        seen = {(c["expect"]["programme"], c["expect"]["verdict"]) for c in realistic["conversations"]}
        assert seen == {
            (p, v) for p in ("STP", "PTP") for v in ("eligible", "possibly_eligible", "not_eligible")
        }, path


def test_no_training_message_has_two_intents():
    seen = {}
    for message in load_data(str(ROOT / "data" / "nlu")).intent_examples:
        text = message.get("text").strip().lower()
        assert seen.setdefault(text, message.get("intent")) == message.get("intent"), text
