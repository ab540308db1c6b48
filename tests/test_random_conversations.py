"""Conversations no one scripted: hundreds of random mixes of real messages of every
kind, button clicks, corrections, negations, off-topic and unreadable turns, through
the trained model and the real actions.

Whatever is said, in whatever order: every turn gets a reply, no reply repeats the
same message, the person can always stop, cancel or start again, and the assistant
never loops (Rasa's circuit breaker would show as a repeated message).

The seed is fixed so that a failure can be replayed; RANDOM_SEED=<n> tries others,
RANDOM_CONVERSATIONS=<n> changes how many.
"""

from __future__ import annotations

import os
import random
import uuid
from typing import Any, Dict, List

import pytest
import yaml
from rasa.shared.nlu.training_data.loading import load_data

from careers.vocabulary import FORM, PROFILE_FACTS
from tests.conftest import ROOT

SEED = int(os.environ.get("RANDOM_SEED", "20261125"))
COUNT = int(os.environ.get("RANDOM_CONVERSATIONS", "300"))
TURNS = (3, 9)

# Said the way people say them, and what each must do.
STOPS = ["stop", "cancel", "Cancel!", "stop the check please", "I want to stop"]
STARTS_AGAIN = ["start again", "start over", "Restart"]
CORRECTIONS = [
    "actually it was a 2:1",
    "sorry, I meant a 2:2",
    "actually I'll leave with a PGDip instead of the MSc",
    "no wait, it's a first",
    "I got that wrong, it's in chemistry",
    "actually she has a PhD",
    "my degree is from India",
    "actually it's an HND",
    "I have 3 A-levels not 2",
]
NEGATIONS = [
    "no",
    "nope",
    "none",
    "no master's",
    "I don't have a degree",
    "she doesn't have one",
    "I'm not checking anyone's eligibility, I just want an overview",
    "not really",
    "never did A-levels",
]
ODD = [
    "",
    "   ",
    "🙂🙂",
    "<b>hi</b>",
    "?",
    "asdfghjkl",
    "12345",
    "x" * 3000,
    "/inform",
    "/nonsense",
    '/inform{"degree_class":"banana"}',
    '/inform{"count":"999"}',
    "/feedback",
    "null",
    "ok",
    "I'm 34 and work in IT",
    "the engineering side of hospitals",
    "yes no maybe",
]
PROFILE_STATEMENTS = [
    "I have a 2:2 in history and an MSc in medical physics",
    "2:1 in physics",
    "I'm doing a BTEC in engineering",
    "five at B and three at A",
    "A-levels in chemistry and maths",
    "I'm in year 12",
    "I'm a graduate",
    "still at school",
    "just my bachelor's",
    "not sure",
    "my son has 3 A-levels: physics, chemistry and maths",
    "I have an ordinary degree",
    "a first from a university in Nigeria",
    "predicted a 2:1 in mechanical engineering",
    "I'm doing a T level instead of A-levels",
    "he's doing the IB, not A levels",
    "she has Scottish Highers",
    "an MSc, still in progress",
    "mostly 4s and 5s with a 3 in French",
]
STARTS = [
    "am I eligible?",
    "check my eligibility for the PTP",
    "can I apply for the STP?",
    "can my son get onto the practitioner programme?",
    "hello",
]


def _training_messages() -> List[str]:
    texts = [m.get("text") for m in load_data(str(ROOT / "data" / "nlu")).intent_examples]
    return [t for t in texts if t]


def _button_payloads() -> List[str]:
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    payloads = set()
    for variants in domain["responses"].values():
        for variant in variants:
            for button in variant.get("buttons") or []:
                payloads.add(button["payload"].replace("{{", "{").replace("}}", "}"))
    return sorted(payloads)


def _conversation(rng: random.Random, pools: Dict[str, List[str]]) -> List[str]:
    kinds = list(pools)
    weights = [pools_weight.get(k, 1) for k in kinds]
    return [rng.choice(pools[rng.choices(kinds, weights)[0]]) for _ in range(rng.randint(*TURNS))]


pools_weight = {
    "training": 5,
    "buttons": 3,
    "profile": 3,
    "corrections": 2,
    "negations": 2,
    "odd": 1,
    "stops": 1,
    "starts_again": 1,
}


def _state(assistant: Any, sender: str) -> Dict[str, Any]:
    """The active loop and the slots after the latest turn, from the stored events."""
    loop, slots = None, {}
    for event in assistant.events(sender):
        if event["event"] == "active_loop":
            loop = event.get("name")
        elif event["event"] == "slot":
            slots[event["name"]] = event["value"]
        elif event["event"] in ("restart", "session_started"):
            loop, slots = None, {}
    return {"loop": loop, "slots": slots}


def _texts(replies: List[Dict[str, Any]]) -> List[str]:
    return [r["text"] for r in replies if r.get("text")]


@pytest.fixture(scope="module")
def pools() -> Dict[str, List[str]]:
    return {
        "training": _training_messages(),
        "buttons": _button_payloads(),
        "profile": PROFILE_STATEMENTS,
        "corrections": CORRECTIONS,
        "negations": NEGATIONS,
        "odd": ODD,
        "stops": STOPS,
        "starts_again": STARTS_AGAIN,
    }


def test_no_conversation_breaks(assistant, pools):
    rng = random.Random(SEED)
    problems: List[str] = []
    for number in range(COUNT):
        sender = f"random-{SEED}-{number}-{uuid.uuid4().hex[:6]}"
        # Half start with a check, so that many turns land in the middle of one; each
        # ends by leaving, as a stop or a start again must always work.
        turns = ([rng.choice(STARTS)] if rng.random() < 0.5 else []) + _conversation(rng, pools)
        turns.append(rng.choice(STOPS + STARTS_AGAIN))
        history = []
        offered: List[str] = []
        for index, message in enumerate(turns):
            if offered and index < len(turns) - 1 and rng.random() < 0.4:
                message = rng.choice(offered)  # click a button, as people mostly do
            replies = assistant.send(sender, message)
            offered = [b["payload"] for r in replies for b in r.get("buttons") or []]
            history.append((message, _texts(replies)))
            where = f"conversation {number} ({' | '.join(m[:40] for m, _ in history)})"
            texts = _texts(replies)
            if not replies:
                problems.append(f"{where}: no reply to {message[:40]!r}")
            duplicates = {t for t in texts if texts.count(t) > 1}
            if duplicates:
                problems.append(
                    f"{where}: the same message twice in one reply: {sorted(duplicates)[0][:80]!r}"
                )
            state = _state(assistant, sender)
            if message in STOPS and state["loop"] == FORM:
                problems.append(f"{where}: {message!r} left the check running")
            if message in STARTS_AGAIN:
                kept = {s: v for s, v in state["slots"].items() if s in PROFILE_FACTS and v is not None}
                if kept:
                    problems.append(f"{where}: {message!r} kept {kept}")
        if len(problems) > 10:
            break
    assert not problems, "\n".join(problems[:10])


def test_the_random_mix_reaches_every_kind_of_turn(pools):
    """The generator really mixes: every pool is drawn from in the first conversations."""
    rng = random.Random(SEED)
    drawn = {m for _ in range(60) for m in _conversation(rng, pools)}
    for kind, messages in pools.items():
        assert drawn & set(messages), f"no {kind} message drawn"
