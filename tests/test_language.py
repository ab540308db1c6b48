"""Language helpers: the usual ways people write grades, degrees and counts."""

from __future__ import annotations

import pytest

from actions.language import (
    answer_for_requested_slot,
    canonical_degree_class,
    canonical_qualification,
    clean_subject,
    facts_from_message,
    lowest_gcse_grade,
    parse_count,
)


@pytest.mark.parametrize(
    "text, expected",
    [("2:1", "upper_second"), ("2.1", "upper_second"), ("2-1", "upper_second"),
     ("2i", "upper_second"), ("upper second", "upper_second"), ("Upper 2nd", "upper_second"),
     ("first class", "first"), ("1st", "first"), ("First-class honours", "first"),
     ("2:2", "lower_second"), ("2.2", "lower_second"), ("2ii", "lower_second"),
     ("lower second", "lower_second"), ("third", "third"), ("3rd", "third"),
     ("upper_second", "upper_second"), ("no degree", "none"), ("banana", None), ("", None)],
)
def test_degree_classes(text, expected):
    assert canonical_degree_class(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("MSc", "msc"), ("master's", "msc"), ("MRes", "mres"), ("MPhil", "mphil"), ("PhD", "phd"),
     ("DPhil", "phd"), ("PGDip", "pgdip"), ("PG dip", "pgdip"), ("postgraduate diploma", "pgdip"),
     ("PGCert", "pgcert"), ("PG cert", "pgcert"), ("postgraduate certificate", "pgcert"),
     ("MEng", "integrated_masters"), ("integrated masters", "integrated_masters"),
     ("MBBS", "medical_degree"), ("no", "none"), ("a certificate of attendance", None)],
)
def test_qualifications(text, expected):
    assert canonical_qualification(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("two", 2), ("2", 2), ("three A levels", 3), ("3 or more", 3), ("none", 0), ("no", 0),
     ("one", 1), ("lots", None)],
)
def test_counts(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("grade 4s", "4"), ("9-4", "4"), ("grade 5 and above", "5"), ("A*-C", "C"),
     ("mostly Bs", "B"), ("Cs", "C"), ("A*s and As", "A"), ("C/4", "4"), ("nothing", None)],
)
def test_lowest_gcse_grade(text, expected):
    assert lowest_gcse_grade(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [("Physics", "physics"), ("it's in mechanical engineering", "mechanical engineering"),
     ("a degree in marine biology.", "marine biology"), ("BSc History", "history"),
     ("   ", None), ("x" * 80, None)],
)
def test_clean_subject(text, expected):
    assert clean_subject(text) == expected


def _ents(text, *spans):
    """Entities as the NLU gives them: (entity, phrase, canonical value)."""
    out = []
    for entity, phrase, value in spans:
        start = text.index(phrase)
        out.append({"entity": entity, "value": value, "start": start, "end": start + len(phrase)})
    return out


def test_subjects_go_to_the_degree_they_follow(rules):
    text = "I have a 2:2 in history and an MSc in medical physics, can I apply for the STP?"
    entities = _ents(text, ("degree_class", "2:2", "lower_second"), ("subject", "history", "history"),
                     ("qualification", "MSc", "msc"), ("subject", "medical physics", "medical physics"),
                     ("programme", "STP", "STP"))
    assert facts_from_message(rules, text, entities) == {
        "programme": "STP", "degree_class": "lower_second", "degree_subject": "history",
        "higher_degree": "msc", "higher_degree_subject": "medical physics",
    }


def test_subject_before_the_degree_word(rules):
    text = "I have a physics degree, a 2.1"
    entities = _ents(text, ("subject", "physics", "physics"), ("degree_class", "2.1", "upper_second"))
    facts = facts_from_message(rules, text, entities)
    assert facts["degree_subject"] == "physics" and facts["degree_class"] == "upper_second"


def test_predicted_and_in_progress(rules):
    text = "I'm predicted a 2:1 in physics"
    facts = facts_from_message(rules, text, _ents(
        text, ("degree_class", "2:1", "upper_second"), ("subject", "physics", "physics")))
    assert facts["degree_predicted"] is True

    text = "2:2 in chemistry and I'm currently doing an MSc in clinical engineering"
    facts = facts_from_message(rules, text, _ents(
        text, ("degree_class", "2:2", "lower_second"), ("subject", "chemistry", "chemistry"),
        ("qualification", "MSc", "msc"), ("subject", "clinical engineering", "clinical engineering")))
    assert facts["higher_degree_in_progress"] is True
    assert "degree_predicted" not in facts


def test_the_better_of_two_higher_degrees_counts(rules):
    text = "I have a PGDip and an MSc"
    facts = facts_from_message(rules, text, _ents(
        text, ("qualification", "PGDip", "pgdip"), ("qualification", "MSc", "msc")))
    assert facts["higher_degree"] == "msc"


def test_a_levels_and_gcses(rules):
    text = "grade 4s in my GCSEs and two A levels in physics and art"
    facts = facts_from_message(rules, text, _ents(
        text, ("grade", "grade 4s", "4"), ("qualification", "GCSEs", "gcse"), ("count", "two", "2"),
        ("qualification", "A levels", "a_level"), ("subject", "physics", "physics"),
        ("subject", "art", "art")))
    assert facts == {"gcse_grades": "4", "a_level_count": 2, "a_level_subjects": ["physics", "art"]}


def test_button_payload_entities_without_offsets(rules):
    facts = facts_from_message(rules, "/inform", [{"entity": "degree_class", "value": "first"}])
    assert facts == {"degree_class": "first"}


def test_a_bare_subject_answers_the_question_just_asked(rules):
    text = "medical physics"
    entities = _ents(text, ("subject", "medical physics", "medical physics"))
    assert facts_from_message(rules, text, entities, requested_slot="higher_degree_subject") == {
        "higher_degree_subject": "medical physics"}


def test_a_medical_degree_sets_the_subject(rules):
    text = "I have an MBBS"
    facts = facts_from_message(rules, text, _ents(text, ("qualification", "MBBS", "medical_degree")))
    assert facts["degree_subject"] == "medicine"


@pytest.mark.parametrize(
    "slot, text, intent, expected",
    [("gcse_grades", "yes", "affirm", "met"), ("gcse_grades", "nope", "deny", "not_met"),
     ("science_a_level", "yes", "affirm", "yes"), ("science_a_level", "Not sure", "deny", "unsure"),
     ("higher_degree", "no", "deny", "none"), ("a_level_count", "none", "deny", 0),
     ("degree_class", "2 1", "inform", "upper_second"), ("programme", "stp please", "inform", "STP"),
     ("degree_subject", "ocean acoustics", "nlu_fallback", "ocean acoustics"),
     ("degree_class", "whatever", "inform", None)],
)
def test_answers_to_the_question_just_asked(rules, slot, text, intent, expected):
    assert answer_for_requested_slot(rules, slot, text, intent) == expected


def test_joint_honours_is_judged_by_the_more_relevant_subject(rules):
    text = "a 2:1 in maths and physics"
    facts = facts_from_message(rules, text, _ents(
        text, ("degree_class", "2:1", "upper_second"), ("subject", "maths", "mathematics"),
        ("subject", "physics", "physics")))
    assert facts["degree_subject"] == "physics"


def test_an_unreadable_grade_does_not_answer_the_gcse_question(rules):
    text = "mostly good ones"
    entities = [{"entity": "grade", "value": "good ones", "start": 7, "end": 16}]
    assert "gcse_grades" not in facts_from_message(rules, text, entities, requested_slot="gcse_grades")
