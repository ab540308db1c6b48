"""The rule engine, case by case from the sources. Each row reads as a specification:
a profile, the verdict the sources give, and the source sentence that decides it, or
NOT_DECIDED where the sources leave the case open (then the verdict is "possibly
eligible" and says who decides)."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from careers.answers import assessment_payload, spoken_of_them
from careers.engine import (
    NOT_DECIDED,
    assess,
    gcse_grade_meets,
    missing_facts,
    science_a_level_status,
)
from careers.vocabulary import VERDICT_LABELS, VERDICT_MARKS, VERDICT_TONES
from careers.vocabulary import VERDICTS as VERDICT_NAMES
from tests.conftest import ROOT

STP = {"programme": "STP"}
PTP = {"programme": "PTP"}

# The source sentences that decide cases (quoted in careers/entry_rules.yml).
STP_MAIN = (
    "you must have a 1st or 2.1 either in an undergraduate honours degree or an "
    "integrated master's degree in a pure or applied science subject relevant to the "
    "specialism for which you are applying"
)
COMMONLY = (
    "the most commonly accepted degrees will be in pure or applied physics, engineering "
    "or applied mathematics"
)
HIGHER_ROUTE = (
    "If you have a 2.2 honours degree or better in any subject, you will also be "
    "considered if you have a higher degree that is relevant"
)
NOT_PGDIP = "this does not include postgraduate diplomas or postgraduate certificates"
GRADUATE = "graduate-entry NHS Scientist Training Programme"
PREDICTED = "which must itself be a 1st or 2:1"
ANIMAL = "animal or plant science (e.g. zoology, marine biology, botany)"
MEDICAL = "Medical degrees are accepted only for Life and Physiological Sciences specialisms"
HONOURS = "either in an undergraduate honours degree or an integrated master's degree"
PTP_NEEDS = "a good range of GCSEs at A-C grade plus at least two A-levels including a science subject"

# (case, profile, verdict, the sentence that decides it or NOT_DECIDED)
VERDICTS = [
    # STP, main route: a 1st or 2:1 in a relevant science.
    ("1st in physics", {**STP, "degree_class": "first", "degree_subject": "physics"}, "eligible", COMMONLY),
    (
        "2:1 in mechanical engineering",
        {**STP, "degree_class": "upper_second", "degree_subject": "mechanical engineering"},
        "eligible",
        STP_MAIN,
    ),
    (
        "2:1 in applied mathematics",
        {**STP, "degree_class": "upper_second", "degree_subject": "applied mathematics"},
        "eligible",
        COMMONLY,
    ),
    (
        "2:1 integrated master's (MEng) in engineering counts like an honours degree",
        {
            **STP,
            "degree_class": "upper_second",
            "degree_type": "integrated_masters",
            "degree_subject": "engineering",
        },
        "eligible",
        HONOURS,
    ),
    (
        "1st in biomedical engineering, no higher degree",
        {**STP, "degree_class": "first", "degree_subject": "biomedical engineering", "higher_degree": "none"},
        "eligible",
        STP_MAIN,
    ),
    (
        "predicted 2:1 in physics can apply, but it is not yet the result",
        {**STP, "degree_class": "upper_second", "degree_subject": "physics", "degree_status": "predicted"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "predicted 1st in electronic engineering",
        {
            **STP,
            "degree_class": "first",
            "degree_subject": "electronic engineering",
            "degree_status": "predicted",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:1 in medical physics",
        {**STP, "degree_class": "upper_second", "degree_subject": "medical physics"},
        "eligible",
        COMMONLY,
    ),
    (
        "1st in astrophysics",
        {**STP, "degree_class": "first", "degree_subject": "astrophysics"},
        "eligible",
        COMMONLY,
    ),
    # STP, second route: a 2:2 or better plus a relevant higher degree.
    (
        "2:2 in history with an MSc in medical physics",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "history",
            "higher_degree": "msc",
            "higher_degree_subject": "medical physics",
        },
        "eligible",
        HIGHER_ROUTE,
    ),
    (
        "2:2 in history, an MSc in medical physics still to be awarded",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "history",
            "higher_degree": "msc",
            "higher_degree_subject": "medical physics",
            "higher_degree_status": "in_progress",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:2 in history, an MSc in medical physics only planned",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "history",
            "higher_degree": "msc",
            "higher_degree_subject": "medical physics",
            "higher_degree_status": "planned",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:2 in physics and a PhD started but not finished",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "physics",
            "higher_degree": "phd",
            "higher_degree_status": "abandoned",
        },
        "not_eligible",
        HIGHER_ROUTE,
    ),
    (
        "2:2 in physics with a PhD in engineering",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "physics",
            "higher_degree": "phd",
            "higher_degree_subject": "engineering",
        },
        "eligible",
        HIGHER_ROUTE,
    ),
    (
        "2:2 in business, part-way through an MSc in biomedical engineering",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "business",
            "higher_degree": "msc",
            "higher_degree_subject": "biomedical engineering",
            "higher_degree_status": "in_progress",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:1 in English with an MRes in physics",
        {
            **STP,
            "degree_class": "upper_second",
            "degree_subject": "english",
            "higher_degree": "mres",
            "higher_degree_subject": "physics",
        },
        "eligible",
        HIGHER_ROUTE,
    ),
    (
        "2:1 in marine biology with an MSc in medical physics",
        {
            **STP,
            "degree_class": "upper_second",
            "degree_subject": "marine biology",
            "higher_degree": "msc",
            "higher_degree_subject": "medical physics",
        },
        "eligible",
        HIGHER_ROUTE,
    ),
    (
        "2:2 in music with an MPhil in electrical engineering",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "music",
            "higher_degree": "mphil",
            "higher_degree_subject": "electrical engineering",
        },
        "eligible",
        HIGHER_ROUTE,
    ),
    (
        "2:2 with an MA in applied mathematics (the subject, not the letters, decides)",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "economics",
            "higher_degree": "ma",
            "higher_degree_subject": "applied mathematics",
        },
        "eligible",
        HIGHER_ROUTE,
    ),
    # STP: what the sources rule out.
    (
        "predicted 2:2 cannot apply, even with a higher degree in view",
        {**STP, "degree_class": "lower_second", "degree_subject": "physics", "degree_status": "predicted"},
        "not_eligible",
        PREDICTED,
    ),
    (
        "predicted third",
        {**STP, "degree_class": "third", "degree_subject": "engineering", "degree_status": "predicted"},
        "not_eligible",
        PREDICTED,
    ),
    (
        "2:2 with a PGDip: not a higher degree",
        {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "pgdip"},
        "not_eligible",
        NOT_PGDIP,
    ),
    (
        "2:2 in business, leaving with a PGDip instead of the MSc",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "business",
            "higher_degree": "pgdip",
            "higher_degree_subject": "biomedical engineering",
        },
        "not_eligible",
        NOT_PGDIP,
    ),
    (
        "2:2 with a PGCert: not a higher degree",
        {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "pgcert"},
        "not_eligible",
        NOT_PGDIP,
    ),
    (
        "2:2 in physics and no other degree",
        {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "none"},
        "not_eligible",
        HIGHER_ROUTE,
    ),
    (
        "2:2 with an MSc in history: the higher degree is not a science",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "physics",
            "higher_degree": "msc",
            "higher_degree_subject": "history",
        },
        "not_eligible",
        HIGHER_ROUTE,
    ),
    (
        "third with an MSc in physics: the route needs a 2:2 or better",
        {**STP, "degree_class": "third", "higher_degree": "msc", "higher_degree_subject": "physics"},
        "not_eligible",
        HIGHER_ROUTE,
    ),
    (
        "third in engineering, no higher degree",
        {**STP, "degree_class": "third", "degree_subject": "engineering"},
        "not_eligible",
        STP_MAIN,
    ),
    (
        "2:1 in a non-science without a higher degree",
        {**STP, "degree_class": "upper_second", "degree_subject": "music", "higher_degree": "none"},
        "not_eligible",
        STP_MAIN,
    ),
    (
        "1st in law without a higher degree",
        {**STP, "degree_class": "first", "degree_subject": "law", "higher_degree": "none"},
        "not_eligible",
        STP_MAIN,
    ),
    (
        "2:1 in zoology: animal sciences do not generally meet the criteria",
        {**STP, "degree_class": "upper_second", "degree_subject": "zoology", "higher_degree": "none"},
        "not_eligible",
        ANIMAL,
    ),
    (
        "1st in botany with a PGCert",
        {**STP, "degree_class": "first", "degree_subject": "botany", "higher_degree": "pgcert"},
        "not_eligible",
        ANIMAL,
    ),
    (
        "medical degree without a higher degree",
        {**STP, "degree_type": "medical_degree", "degree_subject": "medicine", "higher_degree": "none"},
        "not_eligible",
        MEDICAL,
    ),
    (
        "medical degree with a PGDip",
        {**STP, "degree_type": "medical_degree", "higher_degree": "pgdip"},
        "not_eligible",
        MEDICAL,
    ),
    ("no degree: the STP is for graduates", {**STP, "degree_class": "none"}, "not_eligible", GRADUATE),
    (
        "an HND is not an honours degree",
        {**STP, "degree_type": "hnd", "degree_subject": "electrical engineering"},
        "not_eligible",
        HONOURS,
    ),
    ("an HNC is not an honours degree", {**STP, "degree_type": "hnc"}, "not_eligible", HONOURS),
    (
        "a foundation degree is not an honours degree",
        {**STP, "degree_type": "foundation_degree", "degree_subject": "engineering"},
        "not_eligible",
        HONOURS,
    ),
    (
        "an ordinary degree, even with an MSc, is not a 2:2 honours degree",
        {**STP, "degree_type": "ordinary_degree", "higher_degree": "msc", "higher_degree_subject": "physics"},
        "not_eligible",
        HONOURS,
    ),
    # STP: what the sources leave to the National School.
    (
        "2:1 in chemistry: another science, for the School to judge",
        {**STP, "degree_class": "upper_second", "degree_subject": "chemistry", "higher_degree": "none"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "1st in computer science",
        {**STP, "degree_class": "first", "degree_subject": "computer science", "higher_degree": "none"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "1st in a subject not on any list",
        {**STP, "degree_class": "first", "degree_subject": "ocean acoustics", "higher_degree": "none"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:1 in economics: not clearly inside or outside science",
        {**STP, "degree_class": "upper_second", "degree_subject": "economics", "higher_degree": "none"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:1 in geography",
        {**STP, "degree_class": "upper_second", "degree_subject": "geography", "higher_degree": "none"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "1st in nursing",
        {**STP, "degree_class": "first", "degree_subject": "nursing", "higher_degree": "none"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:1 in design",
        {**STP, "degree_class": "upper_second", "degree_subject": "design", "higher_degree": "none"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:2 with an MRes in medical imaging: relevance for the School to judge",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "chemistry",
            "higher_degree": "mres",
            "higher_degree_subject": "medical imaging",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:2 with an MSc in computer science",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "history",
            "higher_degree": "msc",
            "higher_degree_subject": "computer science",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "medical degree with a PhD in biomedical engineering: the sources do not say",
        {
            **STP,
            "degree_type": "medical_degree",
            "degree_subject": "medicine",
            "higher_degree": "phd",
            "higher_degree_subject": "biomedical engineering",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "1st in physics from outside the UK",
        {**STP, "degree_class": "first", "degree_subject": "physics", "degree_overseas": True},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:2 from outside the UK with a UK MSc in engineering",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "history",
            "degree_overseas": True,
            "higher_degree": "msc",
            "higher_degree_subject": "engineering",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "2:2 in biology with an MSc in marine biology",
        {
            **STP,
            "degree_class": "lower_second",
            "degree_subject": "biology",
            "higher_degree": "msc",
            "higher_degree_subject": "marine biology",
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    # PTP.
    (
        "PTP: GCSEs A-C, three A-levels including physics",
        {**PTP, "gcse_grades": "met", "a_level_count": 3, "science_a_level": "yes"},
        "eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: numeric GCSE grades 4 and above",
        {**PTP, "gcse_grades": "4", "a_level_count": 2, "science_a_level": "yes"},
        "eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: A-levels in chemistry and maths count as two",
        {**PTP, "gcse_grades": "met", "a_level_subjects": ["chemistry", "mathematics"]},
        "eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: three A-level subjects named count as three A-levels",
        {**PTP, "gcse_grades": "met", "a_level_subjects": ["physics", "chemistry", "mathematics"]},
        "eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: science worked out from the A-level subjects",
        {**PTP, "gcse_grades": "C", "a_level_count": 2, "a_level_subjects": ["chemistry", "art"]},
        "eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: a BTEC as well as three A-levels with a science",
        {
            **PTP,
            "gcse_grades": "met",
            "a_level_count": 3,
            "science_a_level": "yes",
            "a_level_alternatives": ["btec"],
        },
        "eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: numeric GCSE grade 3 throughout is below C",
        {**PTP, "gcse_grades": "3", "a_level_count": 2, "science_a_level": "yes"},
        "not_eligible",
        PTP_NEEDS,
    ),
    ("PTP: no good range of GCSEs", {**PTP, "gcse_grades": "not_met"}, "not_eligible", PTP_NEEDS),
    ("PTP: one A-level and nothing else", {**PTP, "a_level_count": 1}, "not_eligible", PTP_NEEDS),
    (
        "PTP: no A-levels and nothing else",
        {**PTP, "gcse_grades": "met", "a_level_count": 0},
        "not_eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: no science A-level",
        {**PTP, "gcse_grades": "met", "a_level_count": 3, "science_a_level": "no"},
        "not_eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: A-levels in history, English and art",
        {**PTP, "gcse_grades": "met", "a_level_subjects": ["history", "english", "art"]},
        "not_eligible",
        PTP_NEEDS,
    ),
    (
        "PTP: maths only, for each university to say",
        {**PTP, "gcse_grades": "met", "a_level_count": 2, "a_level_subjects": ["mathematics", "art"]},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: not sure whether an A-level is a science",
        {**PTP, "gcse_grades": "met", "a_level_count": 2, "science_a_level": "unsure"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: a BTEC instead of A-levels",
        {**PTP, "gcse_grades": "met", "a_level_count": 0, "a_level_alternatives": ["btec"]},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: an Access to HE diploma",
        {**PTP, "gcse_grades": "met", "a_level_count": 0, "a_level_alternatives": ["access_to_he"]},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: a T-level",
        {**PTP, "gcse_grades": "met", "a_level_count": 0, "a_level_alternatives": ["t_level"]},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: Scottish Highers and National 5s",
        {
            **PTP,
            "gcse_grades": "equivalent",
            "a_level_count": 0,
            "a_level_alternatives": ["scottish_highers"],
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: the International Baccalaureate",
        {**PTP, "gcse_grades": "met", "a_level_count": 0, "a_level_alternatives": ["ib"]},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: the Irish Leaving Certificate",
        {
            **PTP,
            "gcse_grades": "equivalent",
            "a_level_count": 0,
            "a_level_alternatives": ["irish_leaving_cert"],
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: one A-level and a BTEC",
        {**PTP, "gcse_grades": "met", "a_level_count": 1, "a_level_alternatives": ["btec"]},
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: two non-science A-levels and a science BTEC",
        {
            **PTP,
            "gcse_grades": "met",
            "a_level_count": 2,
            "science_a_level": "no",
            "a_level_alternatives": ["btec"],
        },
        "possibly_eligible",
        NOT_DECIDED,
    ),
    (
        "PTP: unsure whether the GCSEs are a good range",
        {**PTP, "gcse_grades": "unsure", "a_level_count": 3, "science_a_level": "yes"},
        "possibly_eligible",
        NOT_DECIDED,
    ),
]


def _plain(text: str) -> str:
    """Source text without markdown escapes and link numbers, in single spaces."""
    text = re.sub(r"\s*\[\d+\]", "", text).replace("\\*", "").replace("\\", "")
    return " ".join(text.replace("’", "'").split())


SOURCE_TEXT = _plain("".join(p.read_text() for p in (ROOT / "sources").glob("*.md")))


@pytest.mark.parametrize("case, profile, verdict, decided_by", VERDICTS, ids=[v[0] for v in VERDICTS])
def test_verdicts_follow_the_sources(rules, case, profile, verdict, decided_by):
    assessment = assess(rules, profile)
    assert assessment.verdict == verdict
    assert assessment.missing == ()
    assert assessment.reasons and all(r.strip() for r in assessment.reasons)
    assert all(url.startswith("http") for url in assessment.sources)
    assert assessment.next_steps, "every verdict says what to do next"
    if decided_by == NOT_DECIDED:
        assert assessment.deciding_quotes == []
        decider = rules.deciders[profile["programme"]][0]
        assert decider.split()[-1] in " ".join(assessment.reasons + list(assessment.next_steps))
    else:
        assert decided_by in SOURCE_TEXT, "the table quotes the source"
        assert any(decided_by in q for q in assessment.deciding_quotes), assessment.deciding_quotes


def test_the_table_covers_every_verdict_of_both_programmes():
    assert len(VERDICTS) >= 60
    seen = {(p["programme"], v) for _, p, v, _ in VERDICTS}
    assert seen == {(p, v) for p in ("STP", "PTP") for v in ("eligible", "possibly_eligible", "not_eligible")}


def test_every_quote_in_the_rules_file_is_in_its_source(rules):
    for rule in rules.rules.values():
        for outcome, quote in rule.quotes.items():
            assert rule.source.copy, f"{rule.id} quotes a source with no copy under sources/"
            assert _plain(quote) in SOURCE_TEXT, f"{rule.id} ({outcome}): {quote!r}"


def test_the_copies_of_the_sources_match_the_shared_ones():
    shared = ROOT.parent / "shared" / "sources"
    if not shared.is_dir():
        pytest.skip("shared/sources is not beside this checkout")
    for page in shared.glob("*.md"):
        assert (ROOT / "sources" / page.name).read_text() == page.read_text(), page.name


# Values each fact can take, to try every combination.
_STP_SPACE = {
    "degree_class": [None, "first", "upper_second", "lower_second", "third", "none"],
    "degree_type": [None, "bachelors", "hnd", "medical_degree"],
    "degree_subject": [None, "physics", "chemistry", "history", "zoology", "ocean acoustics"],
    "degree_status": [None, "predicted", "in_progress"],
    "degree_overseas": [None, True],
    "higher_degree": [None, "none", "msc", "pgdip"],
    "higher_degree_subject": [None, "engineering", "biology", "law"],
    "higher_degree_status": [None, "in_progress", "planned", "abandoned"],
}
_PTP_SPACE = {
    "gcse_grades": [None, "met", "not_met", "unsure", "3", "B"],
    "a_level_count": [None, 0, 1, 2, 3],
    "a_level_subjects": [None, ["physics"], ["history", "art"], ["mathematics", "english"]],
    "a_level_alternatives": [None, ["btec"]],
    "science_a_level": [None, "yes", "no", "unsure"],
}


def _profiles(programme, space):
    keys = list(space)
    for values in itertools.product(*space.values()):
        profile = {k: v for k, v in zip(keys, values, strict=True) if v is not None}
        yield {"programme": programme, **profile}


@pytest.mark.parametrize("programme, space", [("STP", _STP_SPACE), ("PTP", _PTP_SPACE)])
def test_not_eligible_only_where_a_quoted_sentence_rules_it_out(rules, programme, space):
    """Over every combination of facts: each "not eligible" rests on a decisive
    outcome whose sentence is in the sources; each "possibly eligible" names who
    decides; a check that is not finished says what it needs next."""
    decider = rules.deciders[programme][0]
    for profile in _profiles(programme, space):
        assessment = assess(rules, profile)
        if assessment.verdict is None:
            assert assessment.missing, profile
        elif assessment.verdict == "not_eligible":
            failing = [f for f in assessment.findings if f.outcome == "not_met"]
            assert failing and all(rules.rules[f.rule_id].is_decisive(f.key) for f in failing), profile
            quotes = assessment.deciding_quotes
            assert quotes and all(_plain(q) in SOURCE_TEXT for q in quotes), profile
        elif assessment.verdict == "possibly_eligible":
            said = " ".join(assessment.reasons + list(assessment.next_steps))
            assert decider.split()[-1] in said or "universit" in said, profile


# (case, profile, facts still missing, next first)
MISSING = [
    ("nothing known", {}, ["programme"]),
    ("STP, nothing else", STP, ["degree_class"]),
    (
        "2:1 needs the subject, then a higher degree could help",
        {**STP, "degree_class": "upper_second"},
        ["degree_subject", "higher_degree"],
    ),
    ("2:2 needs only the higher degree route", {**STP, "degree_class": "lower_second"}, ["higher_degree"]),
    (
        "2:2 with an MSc: just the MSc's subject",
        {**STP, "degree_class": "lower_second", "higher_degree": "msc"},
        ["higher_degree_subject"],
    ),
    (
        "2:1 in chemistry: a relevant higher degree would decide",
        {**STP, "degree_class": "upper_second", "degree_subject": "chemistry"},
        ["higher_degree"],
    ),
    (
        "2:1 in history with an MSc: its subject",
        {**STP, "degree_class": "upper_second", "degree_subject": "history", "higher_degree": "mres"},
        ["higher_degree_subject"],
    ),
    (
        "a medical degree needs no class, only the higher degree",
        {**STP, "degree_type": "medical_degree"},
        ["higher_degree"],
    ),
    ("PTP, nothing else", PTP, ["gcse_grades", "a_level_count"]),
    ("PTP with GCSEs", {**PTP, "gcse_grades": "met"}, ["a_level_count"]),
    (
        "PTP with GCSEs and two A-levels",
        {**PTP, "gcse_grades": "met", "a_level_count": 2},
        ["science_a_level"],
    ),
    (
        "one A-level subject named is not taken as the count",
        {**PTP, "gcse_grades": "met", "a_level_subjects": ["physics"]},
        ["a_level_count"],
    ),
    (
        "a BTEC still asks how many A-levels",
        {**PTP, "gcse_grades": "met", "a_level_alternatives": ["btec"]},
        ["a_level_count"],
    ),
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
    # An HND opens neither STP route.
    assert missing_facts(rules, {**STP, "degree_type": "hnd"}) == []


def test_an_open_question_is_not_asked_when_it_could_not_change_the_verdict(rules):
    # From outside the UK, a higher degree could not make it more than "possibly".
    profile = {**STP, "degree_class": "first", "degree_subject": "physics", "degree_overseas": True}
    assert missing_facts(rules, profile) == []


def test_2_2_with_relevant_higher_degree_needs_no_first_degree_subject(rules):
    profile = {
        **STP,
        "degree_class": "lower_second",
        "higher_degree": "msc",
        "higher_degree_subject": "medical physics",
    }
    assert assess(rules, profile).verdict == "eligible"


def test_next_step_for_a_2_2_without_higher_degree_names_what_would_help(rules):
    profile = {**STP, "degree_class": "lower_second", "degree_subject": "physics", "higher_degree": "none"}
    steps = " ".join(assess(rules, profile).next_steps)
    assert "MSc" in steps and "PhD" in steps and "relevant to clinical engineering" in steps


def test_an_eligible_verdict_points_to_the_person_specification(rules):
    steps = " ".join(assess(rules, {**STP, "degree_class": "first", "degree_subject": "physics"}).next_steps)
    assert "person specification" in steps and "physical requirements" in steps


def test_a_subject_not_in_the_rules_file_is_never_repeated_back(rules):
    for subject in ("she doesn't have one", "underwater basket weaving"):
        profile = {**STP, "degree_class": "first", "degree_subject": subject, "higher_degree": "none"}
        said = " ".join(assess(rules, profile).reasons)
        assert subject not in said.lower()
        profile = {
            **STP,
            "degree_class": "lower_second",
            "higher_degree": "msc",
            "higher_degree_subject": subject,
        }
        assert subject not in " ".join(assess(rules, profile).reasons).lower()


def test_payload_has_the_documented_shape(rules):
    assessment = assess(rules, {**STP, "degree_class": "first", "degree_subject": "physics"})
    payload = assessment.as_payload()
    assert payload["programme"] == "STP"
    assert payload["verdict"] == "eligible"
    assert isinstance(payload["reasons"], list) and isinstance(payload["sources"], list)


@pytest.mark.parametrize("verdict", VERDICT_NAMES)
def test_the_payload_says_how_to_show_each_verdict_and_programme(rules, verdict):
    """Channels show what the payload says: no channel spells a verdict or programme."""
    profiles = {
        "eligible": {**STP, "degree_class": "first", "degree_subject": "physics"},
        "possibly_eligible": {
            **STP,
            "degree_class": "upper_second",
            "degree_subject": "chemistry",
            "higher_degree": "none",
        },
        "not_eligible": {
            **STP,
            "degree_class": "third",
            "degree_subject": "physics",
            "higher_degree": "none",
        },
    }
    payload = assessment_payload(rules, assess(rules, profiles[verdict]))["assessment"]
    assert payload["verdict"] == verdict
    assert payload["verdict_label"] == VERDICT_LABELS[verdict]
    assert payload["verdict_mark"] == VERDICT_MARKS[verdict]
    assert payload["verdict_tone"] == VERDICT_TONES[verdict]
    assert payload["programme_name"] == "NHS Scientist Training Programme (STP)"


def test_the_payload_and_the_findings_spell_verdicts_and_outcomes_as_documented(rules):
    """The names for verdicts and outcomes keep the strings the widget, the channels and
    the scripted conversations read (docs/developers.md) and the rules file's text keys:
    spelt out here, so that a name given another value fails."""
    verdicts, outcomes = set(), set()
    for _, profile, verdict, _ in VERDICTS:
        assessment = assess(rules, profile)
        sent = json.loads(json.dumps(assessment_payload(rules, assessment, profile)))["assessment"]
        assert sent["verdict"] == verdict
        verdicts.add(sent["verdict"])
        for finding in assessment.findings:
            outcomes.add(finding.outcome)
            assert finding.key in rules.rules[finding.rule_id].texts
    assert verdicts == {"eligible", "possibly_eligible", "not_eligible"}
    assert outcomes == {"met", "not_met", "unclear", "note"}


@pytest.mark.parametrize(
    "grade, meets",
    [
        ("met", True),
        ("not_met", False),
        ("4", True),
        ("9", True),
        ("3", False),
        ("C", True),
        ("A*", True),
        ("B", True),
        ("D", False),
        ("U", False),
        ("banana", None),
    ],
)
def test_gcse_grade_threshold_comes_from_the_rules_file(rules, grade, meets):
    assert gcse_grade_meets(rules, grade) is meets


@pytest.mark.parametrize(
    "profile, status",
    [
        ({"science_a_level": "no", "a_level_subjects": ["physics"]}, "no"),
        ({"a_level_subjects": ["biology"]}, "yes"),
        ({"a_level_subjects": ["further mathematics", "art"]}, "unsure"),
        ({"a_level_subjects": ["art", "history"]}, "no"),
        ({"a_level_subjects": ["art", "history"], "a_level_count": 3}, None),
        ({"a_level_subjects": ["geology", "english"]}, "unsure"),
    ],
)
def test_science_a_level_from_answer_or_subjects(rules, profile, status):
    assert science_a_level_status(rules, profile) == status


def test_counts_are_written_in_words(rules):
    assert "you have one." in assess(rules, {**PTP, "a_level_count": 1}).reasons[0]


def test_the_engine_fills_in_every_placeholder_the_rules_file_may_use(rules):
    """One list: the rules file is checked against PLACEHOLDERS, the engine fills them all."""
    from careers.engine import _Context
    from careers.vocabulary import PLACEHOLDERS

    for profile in ({}, {**STP, "degree_class": "first", "degree_subject": "physics"}):
        assert set(_Context(rules, profile).values()) == PLACEHOLDERS


@pytest.mark.parametrize(
    "to_the_person, of_them",
    [
        ("You have a 2:1 in physics.", "They have a 2:1 in physics."),
        ("you're predicted a 2:2; you've applied", "they're predicted a 2:2; they've applied"),
        ("Match your degree's content before you apply.", "Match their degree's content before they apply."),
        (
            "The National School can tell you whether yours counts.",
            "The National School can tell them whether theirs counts.",
        ),
        ("Ask the universities you plan to apply to.", "Ask the universities they plan to apply to."),
        ("Your degree is from outside the UK.", "Their degree is from outside the UK."),
        (
            "Physics is among the degrees most commonly accepted.",
            "Physics is among the degrees most commonly accepted.",
        ),
    ],
)
def test_reasons_said_of_someone_else(to_the_person, of_them):
    assert spoken_of_them(to_the_person) == of_them
