"""The dialogue layer without Rasa's action server: one turn in, typed, and what it
changes out (dialogue.turns.take_turn); and the contract with the launcher about which
events the actions receive (dialogue.history), checked against the launcher's own
`recent_events` on conversations of every shape."""

from __future__ import annotations

import random
from typing import Any, Dict, List

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from careers.rules_file import default_rules
from careers.vocabulary import (
    ASSESSMENT_SLOT,
    CHECK_INTENT,
    DEGREE_CLASS,
    DEGREE_STATUS,
    DEGREE_SUBJECT,
    HIGHER_DEGREE,
    HIGHER_DEGREE_ENDS,
    HIGHER_DEGREE_STATUS,
    HIGHER_DEGREE_SUBJECT,
    NOT_UNDERSTOOD,
    ONESELF,
    PROFILE_FACTS,
    PROGRAMME,
    SOMEONE_ELSE,
    STP,
)
from dialogue import history
from dialogue.turns import Turn, take_turn
from dialogue.whom import whom
from runtime.rasa_patches import ACTION_SERVER_TURNS, recent_events

RULES = default_rules()


def test_a_turn_reads_facts_with_their_timing_and_says_what_comes_next(entities_of):
    text = "I got a 2:2 in physics and I'm finishing an MSc in medical physics in December 2026"
    result = take_turn(RULES, Turn(text, tuple(entities_of(text)), "inform"))
    assert result.changes[DEGREE_CLASS] == "lower_second"
    assert result.changes[HIGHER_DEGREE] == "msc"
    assert result.changes[HIGHER_DEGREE_STATUS] == "in_progress"
    assert result.changes[HIGHER_DEGREE_ENDS] == "in December 2026"
    assert "still to be awarded" in result.understood
    assert result.ask_next is None or result.ask_next == PROGRAMME


def test_a_predicted_class_is_held_as_predicted(entities_of):
    text = "final year of mechanical engineering, predicted a 2:1"
    result = take_turn(RULES, Turn(text, tuple(entities_of(text)), "inform", facts={PROGRAMME: STP}))
    assert result.changes[DEGREE_STATUS] == "predicted"
    assert result.changes[DEGREE_SUBJECT] == "mechanical engineering"


def test_an_answer_that_cannot_be_read_is_flagged_not_guessed(entities_of):
    turn = Turn("banana", tuple(entities_of("banana")), "out_of_scope", asked=DEGREE_CLASS, in_check=True)
    result = take_turn(RULES, turn)
    assert result.unreadable and result.changes == {DEGREE_CLASS: NOT_UNDERSTOOD}
    assert result.ask_next == PROGRAMME or result.ask_next == DEGREE_CLASS


def test_a_new_check_after_a_verdict_starts_afresh(entities_of):
    facts = {PROGRAMME: STP, DEGREE_CLASS: "first", DEGREE_SUBJECT: "physics", HIGHER_DEGREE: "none"}
    text = "can you check my eligibility for the STP?"
    turn = Turn(text, tuple(entities_of(text)), CHECK_INTENT, facts=facts, had_verdict=True)
    result = take_turn(RULES, turn)
    assert result.start_afresh
    assert result.changes[DEGREE_CLASS] is None and result.changes[PROGRAMME] == STP
    assert result.ask_next == DEGREE_CLASS


def test_a_correction_clears_what_it_makes_stale(entities_of):
    facts = {
        PROGRAMME: STP,
        DEGREE_CLASS: "lower_second",
        HIGHER_DEGREE: "msc",
        HIGHER_DEGREE_SUBJECT: "physics",
        HIGHER_DEGREE_STATUS: "in_progress",
    }
    text = "actually I don't have a masters"
    result = take_turn(RULES, Turn(text, tuple(entities_of(text)), "inform", facts=facts, after_verdict=True))
    assert result.changes[HIGHER_DEGREE] == "none"
    assert result.changes[HIGHER_DEGREE_SUBJECT] is None and result.changes[HIGHER_DEGREE_STATUS] is None


def test_an_empty_message_changes_nothing():
    assert take_turn(RULES, Turn("   ")).changes == {}


# The launcher's contract: every question the actions ask of the events has the same
# answer on the events the action server is sent as on the whole conversation.


def _conversation(seed: int, turns: int) -> List[Any]:
    """A conversation of Rasa events: messages with intents, answers (some asking for
    feedback), slots set, as the server records them."""
    rng = random.Random(seed)
    intents = ["greet", "inform", "check_eligibility", "nlu_fallback", "ask_skills", "affirm", "deny"]
    responses = ["utter_topic_answer", "utter_ask_feedback", "utter_verdict_eligible", None]
    events: List[Any] = [ActionExecuted("action_listen")]
    for turn in range(turns):
        intent = rng.choice(intents)
        events.append(UserUttered(f"message {turn}", {"name": intent, "confidence": 1.0}))
        for _ in range(rng.randint(0, 3)):
            slot = rng.choice(PROFILE_FACTS + (ASSESSMENT_SLOT,))
            events.append(SlotSet(slot, rng.choice([None, "x", NOT_UNDERSTOOD])))
        for _ in range(rng.randint(0, 2)):
            response = rng.choice(responses)
            events.append(
                BotUttered(f"reply {turn}", metadata={"utter_action": response} if response else {})
            )
        events.append(ActionExecuted("action_listen"))
    return events


def _answers(events: List[Dict[str, Any]]) -> Dict[str, Any]:
    return {
        "since": history.slots_set_since_latest_message(events),
        "fact": history.fact_set_since_latest_message(events, PROFILE_FACTS),
        "fact besides": history.fact_set_since_latest_message(
            events, PROFILE_FACTS, besides=(PROGRAMME,), unset=(None, NOT_UNDERSTOOD)
        ),
        "previous intent": history.previous_user_intent(events),
        "said before": history.said_before_latest(events),
    }


def test_the_launcher_sends_as_many_turns_as_the_dialogue_layer_needs():
    assert ACTION_SERVER_TURNS == history.TURNS_NEEDED


@pytest.mark.parametrize("seed", range(40))
def test_every_answer_is_the_same_on_the_events_the_action_server_is_sent(seed):
    events = _conversation(seed, turns=1 + seed % 12)
    full = [e.as_dict() for e in events]
    sent = [e.as_dict() for e in recent_events(events, ACTION_SERVER_TURNS)]
    assert _answers(sent) == _answers(full)


def test_one_turn_fewer_would_break_the_contract():
    """The check above can fail: sent one message fewer, the previous intent is lost."""
    events = _conversation(3, turns=5)
    full = [e.as_dict() for e in events]
    fewer = [e.as_dict() for e in recent_events(events, history.TURNS_NEEDED - 1)]
    assert history.previous_user_intent(full) is not None
    assert history.previous_user_intent(fewer) != history.previous_user_intent(full)


def test_a_result_said_to_be_in_replaces_a_prediction(entities_of):
    facts = {
        PROGRAMME: STP,
        DEGREE_CLASS: "upper_second",
        DEGREE_SUBJECT: "physics",
        DEGREE_STATUS: "predicted",
    }
    text = "actually I've graduated now, I got a first"
    result = take_turn(RULES, Turn(text, tuple(entities_of(text)), "inform", facts=facts, after_verdict=True))
    assert result.changes[DEGREE_CLASS] == "first"
    assert result.changes[DEGREE_STATUS] == "held"


# Whom a message speaks of (dialogue/whom.py) -------------------------------------


@pytest.mark.parametrize(
    "text, expected",
    [
        ("my son is in year 12, could he do the PTP?", SOMEONE_ELSE),
        ("I'm asking for my daughter, she has a 2:1 in physics", SOMEONE_ELSE),
        ("I think he has three A levels", SOMEONE_ELSE),
        ("she's doing maths, physics and chemistry", SOMEONE_ELSE),
        ("can one of my students apply with a 2:2?", SOMEONE_ELSE),
        ("I'm a careers adviser at a sixth form", SOMEONE_ELSE),
        ("is it for someone with a biology degree", None),
        ("I have a 2:1 in physics", ONESELF),
        ("actually this is for me", ONESELF),
        ("I'm taking A levels in maths and physics", ONESELF),
        ("I think so", None),
        ("what grades do you need?", None),
        ("2:1", None),
        ("yes", None),
        ('/inform{"degree_class":"first"}', None),
    ],
)
def test_whom_a_message_speaks_of(text, expected):
    assert whom(text) == expected
