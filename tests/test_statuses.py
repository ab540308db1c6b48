"""Facts with their timing (issue 26): over every combination of statuses, the engine never
counts a qualification that is not held as held, and never says "not eligible" because of
one that is only predicted, in progress or planned, except where a quoted source sentence
says so (a predicted degree class must itself be a 1st or 2:1).

Each test walks the whole product of the values below (thousands of profiles) through the
real rules file; no Rasa."""

from __future__ import annotations

import itertools
from typing import Any, Dict, Iterator, Mapping

import pytest

from careers.engine import assess
from careers.rules_file import REQUIRED_STATUSES, default_rules
from careers.vocabulary import (
    A_LEVEL_COUNT,
    A_LEVEL_STATUS,
    A_LEVEL_SUBJECTS,
    DEGREE_CLASS,
    DEGREE_STATUS,
    DEGREE_SUBJECT,
    ELIGIBLE,
    GCSE_GRADES,
    GCSE_STATUS,
    HELD,
    HIGHER_DEGREE,
    HIGHER_DEGREE_STATUS,
    HIGHER_DEGREE_SUBJECT,
    IN_PROGRESS,
    NOT_ELIGIBLE,
    PLANNED,
    PREDICTED,
    PROGRAMME,
    PTP,
    STATUS_FACTS,
    STP,
)

RULES = default_rules()

_STP = {
    DEGREE_CLASS: ["first", "upper_second", "lower_second", "third"],
    DEGREE_SUBJECT: ["physics", "chemistry", "history", "zoology"],
    DEGREE_STATUS: [None, PREDICTED, IN_PROGRESS, PLANNED, "abandoned"],
    HIGHER_DEGREE: ["none", "msc", "phd", "pgdip"],
    HIGHER_DEGREE_SUBJECT: [None, "engineering", "biology", "law"],
    HIGHER_DEGREE_STATUS: [None, PREDICTED, IN_PROGRESS, PLANNED, "abandoned"],
}
_PTP = {
    GCSE_GRADES: ["met", "unsure", "not_met"],
    A_LEVEL_COUNT: [None, 1, 2, 3],
    A_LEVEL_SUBJECTS: [["physics", "mathematics"], ["history", "art"], ["psychology", "english"]],
    A_LEVEL_STATUS: [None, PREDICTED, IN_PROGRESS, PLANNED, "abandoned"],
    GCSE_STATUS: [None, PREDICTED, IN_PROGRESS, PLANNED, "abandoned"],
}


def _profiles(programme: str, space: Mapping[str, list]) -> Iterator[Dict[str, Any]]:
    for values in itertools.product(*space.values()):
        profile = {k: v for k, v in zip(space, values, strict=True) if v is not None}
        yield {PROGRAMME: programme, **profile}


def _held(profile: Mapping[str, Any]) -> Dict[str, Any]:
    """The same profile with every qualification still under way (predicted, in progress)
    held; one planned or abandoned stays so."""
    return {k: v for k, v in profile.items() if k not in STATUS_FACTS.values() or v in (PLANNED, "abandoned")}


def _without_higher_degree(profile: Mapping[str, Any]) -> Dict[str, Any]:
    kept = {k: v for k, v in profile.items() if k not in (HIGHER_DEGREE_SUBJECT, HIGHER_DEGREE_STATUS)}
    return {**kept, HIGHER_DEGREE: "none"}


def test_the_rules_file_says_how_every_status_is_treated():
    for kind, needed in REQUIRED_STATUSES.items():
        assert set(RULES.statuses[kind]) == needed
        for rule_id, outcome in RULES.statuses[kind].values():
            rule = RULES.rules[rule_id]
            assert outcome in rule.texts
            # Each status's treatment rests on a sentence of the sources.
            assert rule.quotes.get(outcome) or rule.quotes, (kind, rule_id, outcome)


@pytest.mark.parametrize("programme, space", [(STP, _STP), (PTP, _PTP)])
def test_eligible_never_rests_on_a_qualification_that_is_not_held(programme, space):
    checked = 0
    for profile in _profiles(programme, space):
        verdict = assess(RULES, profile).verdict
        if verdict != ELIGIBLE:
            continue
        checked += 1
        # A first degree or A-levels still being studied or only planned: never "eligible".
        assert profile.get(DEGREE_STATUS, HELD) == HELD, profile
        assert profile.get(A_LEVEL_STATUS, HELD) == HELD, profile
        assert profile.get(GCSE_STATUS, HELD) == HELD, profile
        # A higher degree in progress, planned or abandoned: the verdict must stand without it.
        if profile.get(HIGHER_DEGREE_STATUS, HELD) != HELD:
            assert assess(RULES, _without_higher_degree(profile)).verdict == ELIGIBLE, profile
    assert checked, "some profiles are eligible"


@pytest.mark.parametrize("programme, space", [(STP, _STP), (PTP, _PTP)])
def test_not_eligible_never_comes_from_a_qualification_still_under_way(programme, space):
    checked = 0
    for profile in _profiles(programme, space):
        assessment = assess(RULES, profile)
        # (Planned or abandoned is not having it: "not eligible" may rest on that.)
        timed = any(profile.get(fact, HELD) in (PREDICTED, IN_PROGRESS) for fact in STATUS_FACTS.values())
        if assessment.verdict != NOT_ELIGIBLE or not timed:
            continue
        checked += 1
        # Either the same qualifications, held, would not be eligible either ...
        held_verdict = assess(RULES, _held(profile)).verdict
        # ... or a source sentence rules on the predicted result itself.
        predicted_rule = any(
            f.rule_id == "stp_predicted_result" and f.outcome == "not_met" for f in assessment.findings
        )
        assert held_verdict == NOT_ELIGIBLE or predicted_rule, profile
    assert checked, "some timed profiles are not eligible"


def test_a_predicted_first_or_upper_second_is_possibly_eligible_not_eligible():
    for degree_class in ("first", "upper_second"):
        for status in (PREDICTED, IN_PROGRESS):
            profile = {PROGRAMME: STP, DEGREE_CLASS: degree_class, DEGREE_SUBJECT: "physics"}
            assessment = assess(RULES, {**profile, DEGREE_STATUS: status, HIGHER_DEGREE: "none"})
            assert assessment.verdict == "possibly_eligible"
            assert any(f.rule_id == "stp_predicted_result" for f in assessment.findings)


def test_gcses_still_being_taken_are_never_judged_on_their_predicted_grades():
    for status in (PREDICTED, IN_PROGRESS, PLANNED):
        for grades in ("met", "not_met"):
            profile = {PROGRAMME: PTP, GCSE_GRADES: grades, GCSE_STATUS: status, A_LEVEL_COUNT: 3}
            profile.update({A_LEVEL_SUBJECTS: ["physics", "mathematics", "chemistry"]})
            assessment = assess(RULES, profile)
            assert assessment.verdict == "possibly_eligible", (status, grades)
            gcses = next(f for f in assessment.findings if f.rule_id == "ptp_gcses")
            assert gcses.key == "unclear_in_progress" and not gcses.decisive
