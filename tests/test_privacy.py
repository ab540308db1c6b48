"""What the assistant says and keeps about people: it asks them not to give names or
contact details, never asks for any, and a new session starts with no facts."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from careers.rules_file import DEFAULT_PATH

ROOT = Path(__file__).resolve().parents[1]
NOTICE = "Please don't tell me your name or contact details"
# A question that asks for something identifying.
ASKS_FOR_IDENTITY = re.compile(
    r"(?<!don't )(?<!do not )"
    r"\b(what(?:'s| is) your|tell me your|give me your|your full|can I have your|enter your)\s+"
    r"(name|e-?mail|phone|mobile|number|address|postcode|date of birth|age|school|university)\b",
    re.IGNORECASE,
)


def domain() -> dict:
    return yaml.safe_load((ROOT / "domain.yml").read_text())


def every_text(value) -> list:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in every_text(v)]
    if isinstance(value, list):
        return [t for v in value for t in every_text(v)]
    return []


def test_the_greeting_and_the_widgets_opening_message_ask_for_no_names_or_contact_details():
    greetings = domain()["responses"]["utter_greet"]
    assert greetings and all(NOTICE in g["text"] for g in greetings)
    widget = (ROOT / "widget" / "src" / "settings.js").read_text()
    assert NOTICE in re.sub(r'"\s*\+\s*"', "", widget), "the widget's default opening message"


def test_nothing_the_assistant_says_asks_who_someone_is():
    texts = every_text(domain()["responses"]) + every_text(yaml.safe_load(DEFAULT_PATH.read_text()))
    assert len(texts) > 100
    asking = [t for t in texts if ASKS_FOR_IDENTITY.search(t)]
    assert not asking, asking
    assert ASKS_FOR_IDENTITY.search("What's your email?"), "the pattern finds such a question"
    assert ASKS_FOR_IDENTITY.search("Please tell me your name.")


def test_a_new_session_starts_with_no_facts():
    assert domain()["session_config"]["carry_over_slots_to_new_session"] is False
