"""The held-out messages stay held out, and the training data stays consistent."""

from __future__ import annotations

from rasa.shared.nlu.training_data.loading import load_data

from tests.conftest import ROOT


def _texts(path):
    return {m.get("text").strip().lower(): m.get("intent")
            for m in load_data(str(path)).intent_examples}


def test_no_held_out_message_is_in_the_training_data():
    overlap = set(_texts(ROOT / "data" / "nlu")) & set(_texts(ROOT / "tests" / "nlu_heldout.yml"))
    assert not overlap, f"held-out messages found in training data: {sorted(overlap)[:10]}"


# Sent only by buttons (thumbs up/down), never typed, so neither trained nor held out.
BUTTON_ONLY_INTENTS = {"feedback"}


def test_held_out_set_is_big_enough_and_covers_every_intent(domain):
    held_out = load_data(str(ROOT / "tests" / "nlu_heldout.yml"))
    assert len(held_out.intent_examples) >= 200
    assert set(held_out.intents) == set(domain["intents"]) - BUTTON_ONLY_INTENTS
    assert not BUTTON_ONLY_INTENTS & set(load_data(str(ROOT / "data" / "nlu")).intents)


def test_no_training_message_has_two_intents():
    seen = {}
    for message in load_data(str(ROOT / "data" / "nlu")).intent_examples:
        text = message.get("text").strip().lower()
        assert seen.setdefault(text, message.get("intent")) == message.get("intent"), text
