"""The reading evaluation's judge (tools/evaluation/reading.py, issue 26), without Rasa:
what counts as a fact read right, a fact nobody stated, and a verdict or question the
message does not support."""

from __future__ import annotations

import pytest

from tools.evaluation.reading import TABLE, _in_table_terms, fact_problems, judge, load_table, unstated


@pytest.mark.parametrize(
    "fact, held, right",
    [
        (
            {"fact": "degree_class", "value": "upper_second", "status": "held"},
            {"degree_class": "upper_second"},
            True,
        ),
        (
            {"fact": "degree_class", "value": "upper_second", "status": "predicted"},
            {"degree_class": "upper_second"},
            False,  # predicted, read as awarded
        ),
        (
            {"fact": "degree_class", "value": "upper_second", "status": "predicted"},
            {"degree_class": "upper_second", "degree_status": "predicted"},
            True,
        ),
        (
            {"fact": "degree_class", "value": None, "status": "held"},
            {"degree_class": "first"},
            False,
        ),  # a GPA
        ({"fact": "higher_degree", "value": "msc", "status": "planned"}, {"higher_degree": "msc"}, False),
        (
            {"fact": "higher_degree", "value": "msc", "status": "planned"},
            {"higher_degree": "msc", "higher_degree_status": "planned"},
            True,
        ),
        (
            {"fact": "higher_degree", "value": "msc", "status": "in_progress"},
            {"higher_degree": "msc", "higher_degree_status": "in_progress"},
            True,
        ),
        ({"fact": "higher_degree", "value": "none", "status": "denied"}, {"higher_degree": "msc"}, False),
        ({"fact": "higher_degree", "value": "phd", "status": "abandoned"}, {}, True),
        (
            {"fact": "degree_subject", "value": "Maths", "status": "held"},
            {"degree_subject": "mathematics"},
            True,
        ),
        ({"fact": "degree_origin", "value": "unknown", "status": "held"}, {"degree_overseas": False}, False),
        ({"fact": "degree_origin", "value": "uk", "status": "held"}, {}, True),
        (
            {"fact": "a_level_subjects", "value": "maths, physics", "status": "held"},
            {"a_level_subjects": ["mathematics", "physics", "chemistry"]},
            True,
        ),
        (
            # "design and technology" split by the table's writer is still one subject held
            {"fact": "a_level_subjects", "value": "physics, design and technology", "status": "held"},
            {"a_level_subjects": ["physics", "design and technology"]},
            True,
        ),
        (
            {"fact": "a_level_subjects", "value": "physics, design", "status": "held"},
            {"a_level_subjects": ["physics", "technology"]},
            False,
        ),
        ({"fact": "a_level_count", "value": 3, "status": "in_progress"}, {"a_level_count": 3}, False),
        (
            {"fact": "a_level_count", "value": 3, "status": "in_progress"},
            {"a_level_count": 3, "a_level_status": "in_progress"},
            True,
        ),
        ({"fact": "a_level_grades", "value": "AAB", "status": "held"}, {}, False),
        ({"fact": "a_level_grades", "value": "AAB", "status": "held"}, {"a_level_grades": "ABA"}, True),
        (
            {"fact": "a_level_grades", "value": "A*AB", "status": "predicted"},
            {"a_level_grades": "A*AB"},
            False,  # predicted, read as held
        ),
    ],
)
def test_a_fact_is_right_only_as_stated_and_with_its_status(fact, held, right):
    assert (fact_problems(fact, held) == []) is right


def test_a_fact_nobody_stated_is_a_misreading():
    facts = [{"fact": "degree_class", "value": "first", "status": "held"}]
    assert unstated(facts, {"degree_class": "first", "higher_degree": "msc"}) == ["higher_degree"]
    # A degree named implies a bachelor's; a flag left False says nothing.
    assert (
        unstated(facts, {"degree_class": "first", "degree_type": "bachelors", "degree_overseas": None}) == []
    )


def test_verdicts_and_questions_the_message_does_not_support():
    item = {
        "verdict": "possibly_eligible",
        "facts": [{"fact": "degree_class", "value": "upper_second", "status": "predicted"}],
    }
    held = {"degree_class": "upper_second"}
    judged = judge(item, held, "eligible", None)
    assert judged["unsupported_eligible"] and not judged["facts_right"]
    assert judge(item, held, None, "degree_class")["needless_question"]
    assert not judge({"verdict": "not_eligible", "facts": []}, {}, "not_eligible", None)[
        "unsupported_not_eligible"
    ]


def test_the_table_is_frozen_with_every_message_labelled():
    table = load_table(TABLE)
    assert len(table) >= 150
    assert all(
        m["text"] and m["verdict"] in ("eligible", "possibly_eligible", "not_eligible", "ask") for m in table
    )


def test_gcses_still_being_taken_are_right_only_with_their_status():
    predicted = {"fact": "gcse_grades", "value": "mostly 6s", "status": "predicted"}
    assert fact_problems(predicted, {"gcse_grades": "met"}) != []
    assert fact_problems(predicted, {"gcse_grades": "met", "gcse_status": "predicted"}) == []
    assert fact_problems(predicted, {"gcse_status": "in_progress"}) == []
    held = {"fact": "gcse_grades", "value": "all 6s", "status": "held"}
    assert fact_problems(held, {"gcse_grades": "met", "gcse_status": "predicted"}) != []


def test_a_corrected_value_is_the_one_held():
    fact = {"fact": "degree_class", "value": "lower_second", "status": "corrected"}
    table = _in_table_terms(fact)
    assert table["status"] == "held"
    assert fact_problems(table, {"degree_class": "lower_second"}) == []
