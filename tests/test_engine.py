"""The rule engine, case by case from the sources. Each row reads as a specification:
a profile, the verdict the sources give, and the rules that decide it."""

from __future__ import annotations

import pytest

from actions.engine import assess, gcse_grade_meets, missing_facts, science_a_level_status

STP = {"programme": "STP"}
PTP = {"programme": "PTP"}

# (case, profile, verdict, rules that must appear among the reasons)
VERDICTS = [
    ("1st in physics",
     {**STP, "degree_class": "first", "degree_subject": "physics"},
     "eligible", {"stp_degree_class", "stp_subject_relevance"}),
    ("2:1 in mechanical engineering",
     {**STP, "degree_class": "upper_second", "degree_subject": "mechanical engineering"},
     "eligible", {"stp_degree_class"}),
    ("2:1 in applied mathematics",
     {**STP, "degree_class": "upper_second", "degree_subject": "applied mathematics"},
     "eligible", {"stp_subject_relevance"}),
    ("2:1 integrated master's (MEng) in engineering counts like an honours degree",
     {**STP, "degree_class": "upper_second", "degree_subject": "engineering"},
     "eligible", {"stp_degree_class"}),
    ("research experience is desirable, noted when there is no higher degree",
     {**STP, "degree_class": "first", "degree_subject": "physics", "higher_degree": "none"},
     "eligible", {"stp_research_experience"}),
    ("predicted 2:1 in physics can apply, with the condition",
     {**STP, "degree_class": "upper_second", "degree_subject": "physics", "degree_predicted": True},
     "eligible", {"stp_predicted_result"}),
    ("predicted 2:2 cannot apply, even with a higher degree in view",
     {**STP, "degree_class": "lower_second", "degree_subject": "physics", "degree_predicted": True},
     "not_eligible", {"stp_predicted_result"}),
    ("2:2 in history with an MSc in medical physics",
     {**STP, "degree_class": "lower_second", "degree_subject": "history",
      "higher_degree": "msc", "higher_degree_subject": "medical physics"},
     "eligible", {"stp_higher_degree_route"}),
    ("2:2 in physics with a PhD in engineering",
     {**STP, "degree_class": "lower_second", "degree_subject": "physics",
      "higher_degree": "phd", "higher_degree_subject": "engineering"},
     "eligible", {"stp_higher_degree_route"}),
    ("2:2 with an MSc still in progress must have it awarded by the start",
     {**STP, "degree_class": "lower_second", "degree_subject": "chemistry", "higher_degree": "msc",
      "higher_degree_subject": "clinical engineering", "higher_degree_in_progress": True},
     "eligible", {"stp_higher_degree_route", "stp_awarded_by_start"}),
    ("2:2 with a PGDip: not a higher degree",
     {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "pgdip"},
     "not_eligible", {"stp_not_a_higher_degree", "stp_degree_class"}),
    ("2:2 with a PGCert: not a higher degree",
     {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "pgcert"},
     "not_eligible", {"stp_not_a_higher_degree"}),
    ("2:2 without a higher degree",
     {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "none"},
     "not_eligible", {"stp_degree_class", "stp_higher_degree_route"}),
    ("2:2 with an MSc in history: the higher degree is not relevant",
     {**STP, "degree_class": "lower_second", "degree_subject": "physics",
      "higher_degree": "msc", "higher_degree_subject": "history"},
     "not_eligible", {"stp_higher_degree_route"}),
    ("third with an MSc in physics: the route needs a 2:2 or better",
     {**STP, "degree_class": "third", "higher_degree": "msc", "higher_degree_subject": "physics"},
     "not_eligible", {"stp_degree_class", "stp_higher_degree_route"}),
    ("2:1 in a non-science with a relevant MSc",
     {**STP, "degree_class": "upper_second", "degree_subject": "english",
      "higher_degree": "msc", "higher_degree_subject": "medical physics"},
     "eligible", {"stp_higher_degree_route"}),
    ("2:1 in a non-science without a higher degree",
     {**STP, "degree_class": "upper_second", "degree_subject": "music", "higher_degree": "none"},
     "not_eligible", {"stp_subject_relevance"}),
    ("2:1 in chemistry: another science, for the School to judge",
     {**STP, "degree_class": "upper_second", "degree_subject": "chemistry", "higher_degree": "none"},
     "possibly_eligible", {"stp_subject_relevance"}),
    ("1st in a subject not on any list: for the School to judge",
     {**STP, "degree_class": "first", "degree_subject": "ocean acoustics", "higher_degree": "none"},
     "possibly_eligible", {"stp_subject_relevance"}),
    ("2:1 in zoology: animal sciences do not generally meet the criteria",
     {**STP, "degree_class": "upper_second", "degree_subject": "zoology", "higher_degree": "none"},
     "not_eligible", {"stp_animal_plant_science"}),
    ("2:1 in marine biology with an MSc in medical physics",
     {**STP, "degree_class": "upper_second", "degree_subject": "marine biology",
      "higher_degree": "msc", "higher_degree_subject": "medical physics"},
     "eligible", {"stp_higher_degree_route"}),
    ("2:2 with an MRes in medical imaging: relevance for the School to judge",
     {**STP, "degree_class": "lower_second", "degree_subject": "chemistry",
      "higher_degree": "mres", "higher_degree_subject": "medical imaging"},
     "possibly_eligible", {"stp_higher_degree_route"}),
    ("medical degree: only for Life and Physiological Sciences",
     {**STP, "degree_subject": "medicine"},
     "not_eligible", {"stp_medical_degree"}),
    ("no degree: the STP is for graduates",
     {**STP, "degree_class": "none"},
     "not_eligible", {"stp_no_degree"}),
    ("PTP: GCSEs A-C, three A-levels including physics",
     {**PTP, "gcse_grades": "met", "a_level_count": 3, "science_a_level": "yes"},
     "eligible", {"ptp_gcses", "ptp_a_levels", "ptp_science_a_level",
                  "ptp_university_requirements"}),
    ("PTP: numeric GCSE grades 4 and above",
     {**PTP, "gcse_grades": "4", "a_level_count": 2, "science_a_level": "yes"},
     "eligible", {"ptp_gcses"}),
    ("PTP: numeric GCSE grade 3 is below C",
     {**PTP, "gcse_grades": "3", "a_level_count": 2, "science_a_level": "yes"},
     "not_eligible", {"ptp_gcses"}),
    ("PTP: letter grades down to D fall short",
     {**PTP, "gcse_grades": "D"},
     "not_eligible", {"ptp_gcses"}),
    ("PTP: one A-level is not enough",
     {**PTP, "a_level_count": 1},
     "not_eligible", {"ptp_a_levels"}),
    ("PTP: no science A-level",
     {**PTP, "gcse_grades": "met", "a_level_count": 3, "science_a_level": "no"},
     "not_eligible", {"ptp_science_a_level"}),
    ("PTP: science worked out from the A-level subjects",
     {**PTP, "gcse_grades": "C", "a_level_count": 2, "a_level_subjects": ["chemistry", "art"]},
     "eligible", {"ptp_science_a_level"}),
    ("PTP: three A-level subjects named count as three A-levels",
     {**PTP, "gcse_grades": "met", "a_level_subjects": ["physics", "chemistry", "mathematics"]},
     "eligible", {"ptp_a_levels"}),
    ("PTP: maths only, for each university to say",
     {**PTP, "gcse_grades": "met", "a_level_count": 2, "a_level_subjects": ["mathematics", "art"]},
     "possibly_eligible", {"ptp_science_a_level"}),
]


@pytest.mark.parametrize("case, profile, verdict, deciding", VERDICTS, ids=[v[0] for v in VERDICTS])
def test_verdicts_follow_the_sources(rules, case, profile, verdict, deciding):
    assessment = assess(rules, profile)
    assert assessment.verdict == verdict
    assert deciding <= {f.rule_id for f in assessment.findings}
    assert assessment.missing == ()
    assert assessment.reasons and all(r.strip() for r in assessment.reasons)
    assert all(url.startswith("http") for url in assessment.sources)
    assert assessment.next_steps, "every verdict says what to do next"


# (case, profile, facts still missing, next first)
MISSING = [
    ("nothing known", {}, ["programme"]),
    ("STP, nothing else", STP, ["degree_class"]),
    ("2:1 needs the subject, then a higher degree could help", {**STP, "degree_class": "upper_second"},
     ["degree_subject", "higher_degree"]),
    ("2:2 needs only the higher degree route", {**STP, "degree_class": "lower_second"},
     ["higher_degree"]),
    ("2:2 with an MSc: just the MSc's subject",
     {**STP, "degree_class": "lower_second", "higher_degree": "msc"},
     ["higher_degree_subject"]),
    ("2:1 in chemistry: a relevant higher degree would decide",
     {**STP, "degree_class": "upper_second", "degree_subject": "chemistry"}, ["higher_degree"]),
    ("2:1 in history with an MSc: its subject",
     {**STP, "degree_class": "upper_second", "degree_subject": "history", "higher_degree": "mres"},
     ["higher_degree_subject"]),
    ("PTP, nothing else", PTP, ["gcse_grades", "a_level_count", "science_a_level"]),
    ("PTP with GCSEs", {**PTP, "gcse_grades": "met"}, ["a_level_count", "science_a_level"]),
    ("one A-level subject named is not taken as the count",
     {**PTP, "gcse_grades": "met", "a_level_subjects": ["physics"]}, ["a_level_count"]),
]


@pytest.mark.parametrize("case, profile, missing", MISSING, ids=[m[0] for m in MISSING])
def test_asks_only_for_what_the_rules_still_need(rules, case, profile, missing):
    assessment = assess(rules, profile)
    assert assessment.verdict is None
    assert missing_facts(rules, profile) == missing


def test_a_decisive_fact_ends_the_check_early(rules):
    # A third fails both STP routes whatever the subject or higher degree.
    assert missing_facts(rules, {**STP, "degree_class": "third"}) == []
    # One A-level fails the PTP whatever the GCSEs.
    assert missing_facts(rules, {**PTP, "a_level_count": 1}) == []


def test_2_2_with_relevant_higher_degree_needs_no_first_degree_subject(rules):
    profile = {**STP, "degree_class": "lower_second", "higher_degree": "msc",
               "higher_degree_subject": "medical physics"}
    assert assess(rules, profile).verdict == "eligible"


def test_next_step_for_a_2_2_without_higher_degree_names_what_would_help(rules):
    profile = {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "none"}
    steps = " ".join(assess(rules, profile).next_steps)
    assert "MSc" in steps and "PhD" in steps and "relevant to clinical engineering" in steps


def test_payload_has_the_documented_shape(rules):
    assessment = assess(rules, {**STP, "degree_class": "first", "degree_subject": "physics"})
    payload = assessment.as_payload()
    assert payload["programme"] == "STP"
    assert payload["verdict"] == "eligible"
    assert isinstance(payload["reasons"], list) and isinstance(payload["sources"], list)


@pytest.mark.parametrize(
    "grade, meets",
    [("met", True), ("not_met", False), ("4", True), ("9", True), ("3", False),
     ("C", True), ("A*", True), ("B", True), ("D", False), ("U", False), ("banana", None)],
)
def test_gcse_grade_threshold_comes_from_the_rules_file(rules, grade, meets):
    assert gcse_grade_meets(rules, grade) is meets


@pytest.mark.parametrize(
    "profile, status",
    [({"science_a_level": "no", "a_level_subjects": ["physics"]}, "no"),
     ({"a_level_subjects": ["biology"]}, "yes"),
     ({"a_level_subjects": ["further mathematics", "art"]}, "unsure"),
     ({"a_level_subjects": ["art", "history"]}, None)],
)
def test_science_a_level_from_answer_or_subjects(rules, profile, status):
    assert science_a_level_status(rules, profile) == status


def test_counts_are_written_in_words(rules):
    assert "you have one." in assess(rules, {**PTP, "a_level_count": 1}).reasons[0]
