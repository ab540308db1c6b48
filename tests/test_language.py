"""Reading messages: which facts a message states, in the light of the question just
asked. Each row is a message as people write it, read through the real entity
extractor, and the facts it must (and must not) give."""

from __future__ import annotations

import pytest

from dialogue.facts import apply_facts, facts_from_message
from dialogue.grades import canonical_degree_class, canonical_qualification, judge_gcses, parse_count
from dialogue.subjects import clean_subject
from dialogue.turns import (
    answer_for_asked,
    is_question,
    programme_from_answer,
    read_message,
    understand,
)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("2:1", "upper_second"),
        ("2.1", "upper_second"),
        ("2-1", "upper_second"),
        ("2i", "upper_second"),
        ("upper second", "upper_second"),
        ("Upper 2nd", "upper_second"),
        ("first class", "first"),
        ("1st", "first"),
        ("First-class honours", "first"),
        ("2:2", "lower_second"),
        ("2.2", "lower_second"),
        ("2ii", "lower_second"),
        ("lower second", "lower_second"),
        ("third", "third"),
        ("3rd", "third"),
        ("upper_second", "upper_second"),
        ("no degree", "none"),
        ("I don't have a degree", "none"),
        ("banana", None),
        ("", None),
    ],
)
def test_degree_classes(text, expected):
    assert canonical_degree_class(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("MSc", "msc"),
        ("master's", "msc"),
        ("MRes", "mres"),
        ("MPhil", "mphil"),
        ("PhD", "phd"),
        ("DPhil", "phd"),
        ("PGDip", "pgdip"),
        ("PG dip", "pgdip"),
        ("postgraduate diploma", "pgdip"),
        ("PGCert", "pgcert"),
        ("PG cert", "pgcert"),
        ("postgraduate certificate", "pgcert"),
        ("MEng", "integrated_masters"),
        ("integrated masters", "integrated_masters"),
        ("MBBS", "medical_degree"),
        ("a certificate of attendance", None),
    ],
)
def test_qualifications(text, expected):
    assert canonical_qualification(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("two", 2),
        ("2", 2),
        ("three A levels", 3),
        ("3 or more", 3),
        ("none", 0),
        ("no", 0),
        ("one", 1),
        ("lots", None),
    ],
)
def test_counts(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        # As the source words it: a good range at A-C (4-9).
        ("A good range of GCSEs at A-C", "met"),
        ("grade 4s", "met"),
        ("9-4", "met"),
        ("A*-C", "met"),
        ("mostly Bs", "met"),
        ("I have five at B and three at A", "met"),
        ("five at B and three at A and a D in french", "met"),
        ("mostly 4s and 5s with a 3 in French", "met"),
        ("seven GCSEs at grade C or above", "met"),
        # One low grade among good ones is not a fail; mostly low ones are.
        ("all 3s", "not_met"),
        ("mostly Ds and Es", "not_met"),
        ("I failed most of them", "not_met"),
        ("grade 3 in everything", "not_met"),
        # Fewer than five at A-C, and equivalents, are for the universities.
        ("only 3 GCSEs at C", "unsure"),
        ("GCSE maths and English at grade 5", "unsure"),  # two GCSEs are not yet a range
        ("4 GCSEs: C in maths and English, two Ds", "unsure"),
        ("all my GCSEs were 6-8", "met"),
        ("all her GCSEs were 3 to 5", "unsure"),
        ("failed most of them, only a 5 in english", "unsure"),  # some at A-C: the universities judge
        ("9 GCSEs including maths and english at grade 6", "met"),
        ("two at B and two at D", "unsure"),
        ("National 5s, all A and B", "equivalent"),
        ("O-levels in the 80s", "equivalent"),
        ("nothing about grades here", None),
    ],
)
def test_gcses_are_judged_as_a_good_range(rules, text, expected):
    assert judge_gcses(rules, text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Physics", "physics"),
        ("it's in mechanical engineering", "mechanical engineering"),
        ("a degree in marine biology.", "marine biology"),
        ("BSc History", "history"),
        ("ocean acoustics", "ocean acoustics"),
        # Never a subject: words about people, negations, questions, numbers.
        ("she doesn't have one", None),
        ("no idea", None),
        ("why?", None),
        ("2:1", None),
        ("   ", None),
        ("x" * 80, None),
    ],
)
def test_clean_subject(text, expected):
    assert clean_subject(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("the STP", "STP"),
        ("I'm a graduate", "STP"),
        ("I have a degree", "STP"),
        ("still at school", "PTP"),
        ("year 12", "PTP"),
        ("PTP (undergraduate)", "PTP"),
        ("undergraduate", "PTP"),
        ("not sure", None),
        ("both", None),
    ],
)
def test_which_programme(text, expected):
    assert programme_from_answer(text) == expected


# (message, question just asked, intent, facts it must give, slots it must not set)
READINGS = [
    # Degrees, subjects and the degree a subject belongs to.
    (
        "I have a 2:2 in history and an MSc in medical physics",
        None,
        "inform",
        {
            "degree_class": "lower_second",
            "degree_subject": "history",
            "higher_degree": "msc",
            "higher_degree_subject": "medical physics",
            "programme": "STP",
        },
        (),
    ),
    (
        "I have a physics degree, a 2.1",
        None,
        "inform",
        {"degree_class": "upper_second", "degree_subject": "physics"},
        (),
    ),
    ("a 2:1 in maths and physics", None, "inform", {"degree_subject": "physics"}, ()),
    (
        "I'm in the final year of an MPhys and I'm predicted a 2:1",
        None,
        "inform",
        {
            "degree_class": "upper_second",
            "degree_subject": "physics",
            "degree_status": "predicted",
            "degree_type": "integrated_masters",
        },
        (),
    ),
    (
        "my degree is a Bachelor of Engineering from a university in Germany",
        None,
        "inform",
        {"degree_type": "bachelors", "degree_subject": "engineering", "degree_overseas": True},
        (),
    ),
    (
        "Am I eligible? I have a BTech in mechanical engineering from India, first class",
        None,
        "check_eligibility",
        {"degree_subject": "mechanical engineering", "degree_class": "first", "degree_overseas": True},
        (),
    ),
    (
        "oh wait sorry, I typed that wrong - it's chemistry, not physics",
        None,
        "inform",
        {},
        ("degree_subject",),
    ),
    (
        "I have an HND in electrical engineering",
        None,
        "inform",
        {"degree_type": "hnd", "degree_subject": "electrical engineering"},
        (),
    ),
    ("I have an ordinary degree in engineering", None, "inform", {"degree_type": "ordinary_degree"}, ()),
    ("I have an MBBS", None, "inform", {"degree_type": "medical_degree", "degree_subject": "medicine"}, ()),
    # Predicted first degree, or a higher degree still in progress.
    ("I'm predicted a 2:1 in physics", None, "inform", {"degree_status": "predicted"}, ()),
    (
        "2:2 in history and I'm expecting a distinction in my MSc in medical physics",
        None,
        "inform",
        {
            "degree_class": "lower_second",
            "higher_degree": "msc",
            "higher_degree_status": "in_progress",
            "higher_degree_subject": "medical physics",
        },
        ("degree_status",),
    ),
    (
        "2:2 in chemistry and I'm currently doing an MSc in clinical engineering",
        None,
        "inform",
        {"higher_degree_status": "in_progress"},
        ("degree_status",),
    ),
    # Negations and corrections.
    (
        "I have a 2:2 in physics and no other degree",
        None,
        "inform",
        {"degree_class": "lower_second", "higher_degree": "none"},
        (),
    ),
    ("no master's", "higher_degree", "inform", {"higher_degree": "none"}, ()),
    ("just my bachelor's", "higher_degree", "inform", {"higher_degree": "none"}, ()),
    ("nope", "higher_degree", "deny", {"higher_degree": "none"}, ()),
    (
        "she doesn't have one",
        "higher_degree_subject",
        "deny",
        {"higher_degree": "none"},
        ("higher_degree_subject",),
    ),
    ("I don't have a degree", None, "inform", {"degree_class": "none"}, ()),
    ("actually I'll leave with a PGDip instead of the MSc", None, "inform", {"higher_degree": "pgdip"}, ()),
    ("I have a PGDip and an MSc", None, "inform", {"higher_degree": "msc"}, ()),
    ("not a 2:2, it was a 2:1", None, "inform", {"degree_class": "upper_second"}, ()),
    ("I got a 2:2, actually no, a 2:1", None, "inform", {"degree_class": "upper_second"}, ()),
    ("a first in my MSc and a 2:2 in my BSc", None, "inform", {"degree_class": "lower_second"}, ()),
    # Where a degree is from.
    (
        "My degree is a 2:1 in physics from a university in Nigeria",
        None,
        "inform",
        {"degree_overseas": True},
        (),
    ),
    (
        "oh I should say my degree is from a university in Nigeria, not the UK",
        None,
        "inform",
        {"degree_overseas": True},
        (),
    ),
    (
        "I graduated from a US university with a 3.8 GPA in physics",
        None,
        "inform",
        {"degree_overseas": True, "degree_subject": "physics"},
        (),
    ),
    # School qualifications, counts from subjects, alternatives to A-levels.
    (
        "A-levels in chemistry and maths",
        None,
        "inform",
        {
            "a_level_count": 2,
            "a_level_subjects": ["chemistry", "mathematics"],
            "science_a_level": "yes",
            "programme": "PTP",
        },
        (),
    ),
    ("three A-levels including physics", None, "inform", {"a_level_count": 3, "science_a_level": "yes"}, ()),
    (
        "grade 4s in my GCSEs and two A levels in physics and art",
        None,
        "inform",
        {"gcse_grades": "met", "a_level_count": 2, "a_level_subjects": ["physics", "art"]},
        (),
    ),
    (
        "I'm doing a T level in engineering instead of A-levels",
        "a_level_count",
        "inform",
        {"a_level_alternatives": ["t_level"], "a_level_count": 0},
        (),
    ),
    (
        "he's doing the IB, not A levels",
        "a_level_count",
        "inform",
        {"a_level_alternatives": ["ib"], "a_level_count": 0},
        (),
    ),
    (
        "I'm taking 4 Highers including physics",
        "a_level_count",
        "inform",
        {"a_level_alternatives": ["scottish_highers"], "a_level_count": 0},
        (),
    ),
    ("2 A-levels and a BTEC", None, "inform", {"a_level_count": 2, "a_level_alternatives": ["btec"]}, ()),
    ("I have five at B and three at A", "a_level_count", "inform", {}, ("a_level_count",)),
    ("yes, 7 National 5s all at A or B", "gcse_grades", "inform", {"gcse_grades": "equivalent"}, ()),
    ("never did A-levels", None, "inform", {"a_level_count": 0}, ()),
    # Stage of life answers the programme question.
    ("I have a degree", "programme", "inform", {"programme": "STP"}, ()),
    ("still at school", "programme", "inform", {"programme": "PTP"}, ()),
    ("I'm in year 12", "programme", "inform", {"programme": "PTP"}, ()),
    # Not facts: a question about the rules, words that only look like a subject.
    ("Is a BTEC ok instead of A-levels?", None, "ask_a_level_alternatives", {}, ("a_level_alternatives",)),
    ("my son is interested in the engineering side of hospitals", None, "inform", {}, ("degree_subject",)),
    ("I'm 34 and work in IT", None, "inform", {}, ("a_level_count", "degree_subject")),
    # Issue 26: facts with their timing, as people state them.
    (
        "2:2 in physics; I start an MSc in medical physics in October",
        None,
        "inform",
        {"higher_degree": "msc", "higher_degree_status": "planned"},
        (),
    ),
    (
        "2:1 in robotics. I started a PhD but dropped out after a year",
        None,
        "inform",
        {"higher_degree": "phd", "higher_degree_status": "abandoned"},
        (),
    ),
    (
        "I'm finishing my MSc in electronic engineering in December 2026, after a 2:2 in computing",
        None,
        "inform",
        {"higher_degree_status": "in_progress", "higher_degree_ends": "in December 2026"},
        (),
    ),
    ("they reckon he'll get a 2:1 in chemistry", None, "inform", {"degree_status": "predicted"}, ()),
    (
        "currently have a 2:2 in electrical engineering",
        None,
        "inform",
        {"degree_class": "lower_second"},
        ("degree_status",),
    ),
    (
        "I haven't got my A-level results yet (I'm taking physics, maths and chemistry)",
        None,
        "inform",
        {"a_level_status": "in_progress", "a_level_count": 3},
        (),
    ),
    (
        "Got AAB in Physics, Maths and Further Maths last summer",
        None,
        "inform",
        {"a_level_grades": "AAB", "a_level_count": 3, "a_level_status": "held"},
        ("degree_subject",),
    ),
    (
        "BEng (Hons) Mechatronics, First, Ulster 2017. Masters? Haven't done one.",
        None,
        "inform",
        {"degree_class": "first", "degree_subject": "mechatronics", "higher_degree": "none"},
        (),
    ),
    ("2:2 in Mechanical Engineering. Postgrad: none.", None, "inform", {"higher_degree": "none"}, ()),
    (
        "B.Eng Electrical Engineering, University of Lagos, Second Class Upper",
        None,
        "inform",
        {"degree_class": "upper_second", "degree_overseas": True},
        (),
    ),
    (
        "BTech in mechanical engineering, First Division with distinction",
        None,
        "inform",
        {"degree_overseas": True},
        ("degree_class",),
    ),
    # Questions that tell facts keep them; questions that only ask do not.
    (
        "I have a 2:2 in physics, can I apply for the STP?",
        None,
        "ask_degree_classes",
        {"degree_class": "lower_second"},
        (),
    ),
    ("does a PGCert count as a higher degree?", None, "ask_higher_degree_definition", {}, ("higher_degree",)),
    ("do i need a masters for stp", None, "ask_stp_requirements", {}, ("higher_degree",)),
    (
        "I teach physics at a secondary school - BA Primary Education, 2:1",
        None,
        "inform",
        {"degree_subject": "education"},
        (),
    ),
    ("I'm a chemical engineer", None, "inform", {"degree_subject": "chemical engineering"}, ()),
    (
        "my nephew dropped out of his chemistry degree in second year, he's got A levels in chemistry"
        " and biology",
        None,
        "inform",
        {"degree_class": "none", "a_level_count": 2, "a_level_status": "held", "programme": "PTP"},
        ("degree_subject",),
    ),
    ("actually I've graduated now, I got a first", None, "inform", {"degree_status": "held"}, ()),
    (
        "my degree is from the US and UK ENIC says it's 2.1 equivalent. BSc physics",
        None,
        "inform",
        {"degree_overseas": True},
        (),
    ),
    ("CGPA 3.45 in Electrical Engineering from UTM", None, "inform", {"degree_overseas": True}, ()),
    (
        "GCSE English C, Maths D, double science CC, the rest Ds",
        None,
        "inform",
        {"gcse_grades": "unsure"},  # some at A-C, fewer than a good range: for the universities
        (),
    ),
    ("GCSEs: 9 passes, grades 4 to 7", None, "inform", {"gcse_grades": "met"}, ()),
    ("I've got A-levels in physics and chemistry (BB)", None, "inform", {"a_level_grades": "BB"}, ()),
    (
        "I graduated with a first in History (an MA Hons)",
        None,
        "inform",
        {"degree_type": "bachelors"},
        ("higher_degree",),
    ),
    # From a review: what must not be read as held.
    ("Do I need a first in physics for the STP?", None, "ask_stp_requirements", {}, ("degree_class",)),
    ("Should I do a masters in engineering or a PhD?", None, "inform", {}, ("higher_degree",)),
    (
        "I have an MSc in physics and a 2:2 in history, and I'm currently applying",
        None,
        "inform",
        {"degree_class": "lower_second"},
        ("degree_status",),
    ),
    (
        "2:2 in history and I haven't finished my MSc in physics yet",
        None,
        "inform",
        {"higher_degree": "msc", "higher_degree_status": "in_progress"},
        (),
    ),
    (
        "I dropped out of my physics degree in third year, I was on track for a 2:1",
        None,
        "inform",
        {"degree_class": "none"},
        ("degree_subject", "degree_status"),
    ),
    (
        "I haven't got a degree yet but I'm in my final year of physics",
        None,
        "inform",
        {"degree_status": "in_progress"},
        ("degree_class",),
    ),
    (
        "I quit my A-levels in physics, maths and chemistry",
        None,
        "inform",
        {"a_level_count": 0},
        ("a_level_status",),
    ),
    ("she hasnt done a masters", None, "inform", {"higher_degree": "none"}, ()),
    # Subjects the patterns do not know whole are read from "<degree> in ...".
    (
        "2:2 in geophysics then an MPhil in acoustic metrology, done 2021",
        None,
        "inform",
        {"higher_degree": "mphil", "higher_degree_subject": "acoustic metrology"},
        (),
    ),
    (
        "MSc in Rehabilitation Engineering afterwards",
        None,
        "inform",
        {"higher_degree_subject": "rehabilitation engineering"},
        (),
    ),
    ("a first in civil eng from Leeds", None, "inform", {"degree_subject": "civil engineering"}, ()),
    ("an MSc in progress", None, "inform", {"higher_degree": "msc"}, ("higher_degree_subject",)),
    ("MS Mechanical Engineering from Purdue", None, "inform", {"higher_degree": "msc"}, ()),
    ("Ms Jones teaches physics", None, "inform", {}, ("higher_degree",)),
    # A list elsewhere in the message is no joint honours of the degree named.
    (
        "2:1 in geology. Do they only take physics and engineering graduates?",
        None,
        "inform",
        {"degree_subject": "geology"},
        (),
    ),
    ("4th yr biochem at Bristol", None, "inform", {"degree_subject": "biochemistry"}, ()),
    # A course wanted is not a course had.
    (
        "GCSEs are mostly 6s and I'm doing a BTEC. Could I get onto the clinical engineering BSc?",
        None,
        "inform",
        {"a_level_status": "in_progress"},
        ("degree_type", "degree_subject"),
    ),
    ("I want to study clinical engineering, I have Highers", None, "inform", {}, ("a_level_subjects",)),
    # "The M in MEng": an integrated master's called a masters is no higher degree.
    (
        "MEng with a 2:2 - it's a masters so does that count as my higher degree?",
        None,
        "inform",
        {"degree_type": "integrated_masters"},
        ("higher_degree",),
    ),
    # Grades: one A-level's grade, grades in a different order, a run of letters that is no grade list.
    ("just the one A level: chemistry, grade C", None, "inform", {"a_level_grades": "C"}, ()),
    ("got an A in A-level physics", None, "inform", {"a_level_grades": "A"}, ()),
    ("A-levels: Biology (B), Maths (A*)", None, "inform", {"a_level_grades": "A*B"}, ()),
    ("I'm ACCA qualified, A-levels in maths and economics", None, "inform", {}, ("a_level_grades",)),
    # Advanced Highers being taken leave the Highers held, and their grades are no A-levels'.
    (
        "Highers done last year (AABBB), now sitting Advanced Highers in physics",
        None,
        "inform",
        {"a_level_count": 0},
        ("a_level_grades", "a_level_subjects"),
    ),
    # A-levels of one's own stay held when an Access course is only planned.
    (
        "A-levels in biology and chemistry years ago, planning to start an Access course in September",
        None,
        "inform",
        {"a_level_count": 2},
        ("a_level_status",),
    ),
    # The programme asked about says how the facts told beside it are meant.
    (
        "is computing a science for the PTP? i'm taking computing, maths and physics",
        None,
        "ask_a_levels",
        {"a_level_count": 3, "a_level_status": "in_progress"},
        ("degree_subject", "programme"),
    ),
    # A class only supposed or missed is not had.
    (
        "predicted a 2:1 in maths but what happens if I end up with a 2:2?",
        None,
        "inform",
        {"degree_class": "upper_second", "degree_status": "predicted"},
        (),
    ),
    ("2:2 in geography, I missed a 2:1 by two marks", None, "inform", {"degree_class": "lower_second"}, ()),
    # A corrected class keeps its degree's subject.
    (
        "a 2:2 in chemistry - no sorry, it was a 2:1",
        None,
        "inform",
        {"degree_class": "upper_second", "degree_subject": "chemistry"},
        (),
    ),
    # Timing: an offer, a thesis handed in, Hiberno-English "after finishing".
    (
        "2:2 in physics, and I've accepted a place on an MSc in medical physics starting September 2027",
        None,
        "inform",
        {"higher_degree": "msc", "higher_degree_status": "planned"},
        (),
    ),
    (
        "2:2 in maths; submitted my PhD thesis in acoustics last month",
        None,
        "inform",
        {"higher_degree": "phd", "higher_degree_status": "in_progress"},
        (),
    ),
    (
        "I'm after finishing my A-levels in physics and chemistry",
        None,
        "inform",
        {"a_level_count": 2, "a_level_status": "held"},
        (),
    ),
    # A country said of something else is not where the degree is from.
    (
        "She got a first in physics at Durham. She's working in Canada now.",
        None,
        "inform",
        {"degree_class": "first"},
        ("degree_overseas",),
    ),
    ("I have a BEng (2:1) from a Hochschule in Bavaria", None, "inform", {"degree_overseas": True}, ()),
    # A form, text-speak lists, a shared grade, "can't afford a masters".
    ("Degree: none\nA-levels: 2", None, "inform", {"degree_class": "none", "a_level_count": 2}, ()),
    (
        "yr 13 doin physics n maths, both predicted Bs",
        None,
        "inform",
        {"a_level_count": 2, "a_level_status": "in_progress"},
        (),
    ),
    ("A-levels in art and drama (all grade A)", None, "inform", {"a_level_grades": "AA"}, ()),
    ("2:2 in civil eng, can't afford a masters", None, "inform", {"higher_degree": "none"}, ()),
    # Past years and places are no timing: "during my final year", "currently in the UK".
    (
        "got a 2:2 in physics in 2015, I was ill during my final year",
        None,
        "inform",
        {"degree_class": "lower_second", "degree_status": "held"},
        (),
    ),
    (
        "2:1 in chemistry from Accra, currently in the UK on a graduate visa",
        None,
        "inform",
        {"degree_class": "upper_second"},
        ("degree_status",),
    ),
    # A stage that names the qualification: "doing my A-levels in ...", "an A-level student".
    (
        "I'm doing my A-levels in physics, maths and chemistry",
        None,
        "inform",
        {"a_level_count": 3, "a_level_status": "in_progress"},
        ("degree_subject", "degree_status"),
    ),
    (
        "im an A-level student taking physics maths and chemistry",
        None,
        "inform",
        {"a_level_count": 3, "a_level_status": "in_progress"},
        ("degree_subject",),
    ),
    ("my son is doing his A levels", None, "inform", {"a_level_status": "in_progress"}, ()),
    # "an IB student": taking it now, not held.
    ("I'm an IB student in Dubai, HL physics", None, "inform", {"a_level_status": "in_progress"}, ()),
    # A class named as the requirement, beside the one had: "the 2.1", "only take firsts".
    (
        "2.2 in civil engeneering, no postgrad. is the 2.1 a hard line",
        None,
        "inform",
        {"degree_class": "lower_second", "degree_subject": "civil engineering"},
        (),
    ),
    (
        "on track for a 2:1 hopefully. do they only take firsts",
        None,
        "inform",
        {"degree_class": "upper_second", "degree_status": "predicted"},
        (),
    ),
    # Past school years are no timing: "at the end of year 12", "left yr 13".
    (
        "He finished his A levels this summer - A in Physics and B in Maths "
        "(dropped Chemistry at the end of year 12)",
        None,
        "inform",
        {"a_level_status": "held", "a_level_grades": "AB"},
        (),
    ),
    (
        "got a third back in 2015, I lost my dad during final year",
        None,
        "inform",
        {"degree_status": "held"},
        (),
    ),
    # A higher degree not turned into another; an HND topped up to a BEng is a BEng.
    (
        "a 2.2 in Biology and a PGDip in Clinical Engineering - "
        "never did the dissertation to turn it into the MSc",
        None,
        "inform",
        {"higher_degree": "pgdip"},
        (),
    ),
    (
        "HND first, then topped up to a BEng (Hons) and got a 2:1. Will they just see me as HND level?",
        None,
        "inform",
        {"degree_type": "bachelors"},
        (),
    ),
    # Timing: "year 2 of 3 of a part-time MSc", "gonna do ... A level after".
    (
        "2:2 in business, in year 2 of 3 of a part-time MSc in Clinical Engineering",
        None,
        "inform",
        {"higher_degree_status": "in_progress"},
        (),
    ),
    (
        "year 11, says hes gonna do physics chem and maths a level after",
        None,
        "inform",
        {"a_level_status": "planned"},
        (),
    ),
    # A subject wanted later is no A-level; A-levels asked about are not had.
    (
        "got A*AA in History, English Lit and Politics, now wants to do engineering instead. "
        "Is it possible without a science A level?",
        None,
        "inform",
        {"a_level_count": 3},
        (),
    ),
    (
        "IB student here, predicted 38. Could I apply with the IB or do they want A levels?",
        None,
        "inform",
        {"a_level_count": 0},
        (),
    ),
    # The course someone hopes to be considered for is not one they have.
    (
        "doing an Access to HE Diploma. Would unis even look at me for a healthcare science degree?",
        None,
        "inform",
        {"a_level_status": "in_progress"},
        ("degree_subject",),
    ),
    # A subject named after "MSc in" that ends like a subject's name.
    (
        "an MSc in Advanced Clinical Practice in 2021",
        None,
        "inform",
        {"higher_degree_subject": "advanced clinical practice"},
        (),
    ),
    # Year 13 with subjects graded one by one, and no qualification named: A-levels.
    (
        "left yr 13 this summer w physics B, chem C, psych A*",
        None,
        "inform",
        {"a_level_count": 3, "a_level_grades": "A*BC"},
        (),
    ),
    ("I'm in sixth form, thinking about engineering", None, "inform", {}, ("a_level_subjects",)),
    # A message that opens by asking about a subject, with a class and no other subject.
    (
        "Is chemistry close enough for the STP? 2:1 from Durham, graduated 2021",
        None,
        "inform",
        {"degree_subject": "chemistry"},
        (),
    ),
    ("Does physics count? I have a 2:1 in biology", None, "inform", {"degree_subject": "biology"}, ()),
    # Timing words about what was named before: "doing it this year", "finishing summer 2026, GCSEs ...".
    (
        "Access to HE Diploma (Science) - doing it this year as a mature student",
        None,
        "inform",
        {"a_level_status": "in_progress"},
        (),
    ),
    (
        "learner on a T Level in Health Science, finishing summer 2026, GCSEs 5 at grade 4+",
        None,
        "inform",
        {"a_level_status": "in_progress"},
        ("gcse_status",),
    ),
    # One A-level resat to better its grade leaves the A-levels held.
    (
        "I got a C in Biology and a D in Chemistry at A-level this summer "
        "and I'm resitting Chemistry in June",
        None,
        "inform",
        {"a_level_status": "held", "a_level_grades": "CD"},
        (),
    ),
    # What the first review of these readings found they must not take (each was read
    # right before them): a class accepted or secured is had; "converted to an MSc" is an
    # MSc; "is an HND the same as a BEng?" asks; a year of something else is no timing;
    # "it" reaches back only to what was just named; subjects asked about are not had.
    (
        "I had to accept a 2:2 because of mitigating circumstances",
        None,
        "inform",
        {"degree_class": "lower_second"},
        (),
    ),
    (
        "I secured the 2:1 in physics but they want a first",
        None,
        "inform",
        {"degree_class": "upper_second"},
        (),
    ),
    (
        "My son secured the first in Physics, do they accept a 2:1?",
        None,
        "inform",
        {"degree_class": "first"},
        (),
    ),
    (
        "I'm on course for the 2:1, do they need a first?",
        None,
        "inform",
        {"degree_class": "upper_second"},
        (),
    ),
    (
        "I didn't enjoy my job so I converted to an MSc in Clinical Engineering",
        None,
        "inform",
        {"higher_degree": "msc"},
        (),
    ),
    (
        "Is an HND the same as a BEng? I have an HND in Electrical Engineering",
        None,
        "inform",
        {"degree_type": "hnd"},
        (),
    ),
    (
        "I worked for year 1 of the pandemic as a lab tech, I have a 2:1",
        None,
        "inform",
        {},
        ("degree_status",),
    ),
    ("I'm in year 2 of my apprenticeship, I have a BTEC", None, "inform", {}, ("a_level_status",)),
    (
        "I have A-levels in Maths and Physics and want to apply to the PTP, doing it this year",
        None,
        "inform",
        {"a_level_count": 2},
        ("a_level_status",),
    ),
    ("I teach IB students and have an MSc in Chemistry", None, "inform", {}, ("higher_degree_status",)),
    ("Is maths needed? I have a 2:2", None, "inform", {}, ("degree_subject",)),
    ("Is genetics part of the STP? I have a 2:1", None, "inform", {}, ("degree_subject",)),
    (
        "I left after year 13 and got an apprenticeship, have A levels BBC",
        None,
        "inform",
        {},
        ("a_level_count",),
    ),
    (
        "I have a BSc in Microbiology and I was living in Ghana while I studied at the University of Ghana",
        None,
        "inform",
        {"degree_overseas": True},
        (),
    ),
    ("I have a Physics degree, I was based in Nigeria for it", None, "inform", {"degree_overseas": True}, ()),
    ("a 2:1 from Queen's University Belfast", None, "inform", {}, ("degree_overseas",)),
    ("I teach year 13 physics and have a 2:1 in physics", None, "inform", {}, ("degree_status",)),
    ("I'm a year 13 tutor with a 2:1 in physics", None, "inform", {}, ("degree_status",)),
    (
        "The STP application - doing it this year, I have a BSc in Physics",
        None,
        "inform",
        {},
        ("degree_status",),
    ),
    # A higher degree corrected to another ("well, strictly a PGCert"); the full one asked about.
    (
        "a 2:2 and a masters in clinical engineering - well, strictly a PGCert. Do I need the full MSc?",
        None,
        "inform",
        {"higher_degree": "pgcert"},
        (),
    ),
    # A UK student's running average is no overseas grade; an aggregate percentage still is.
    (
        "year 2 of a part-time BSc in Electronic Engineering with the Open University, averaging 71% so far",
        None,
        "inform",
        {"degree_status": "in_progress"},
        ("degree_overseas",),
    ),
    ("BSc physics with 68% aggregate", None, "inform", {"degree_overseas": True}, ()),
    # Where the person works is not where the degree is from.
    (
        "I have a 2:1 in Electrical Engineering and presently I am working with a power company in Lagos",
        None,
        "inform",
        {"degree_class": "upper_second"},
        ("degree_overseas",),
    ),
    # A requirement quoted is no class had; grades in brackets; an LLB; a formal denial.
    ("I read that you need a 1st or 2:1, I'm not sure about mine", None, "inform", {}, ("degree_class",)),
    ("A-levels in art, music and drama (B, B, C)", None, "inform", {"a_level_grades": "BBC"}, ()),
    ("LLB, 2:2, from Cardiff", None, "inform", {"degree_subject": "law", "degree_class": "lower_second"}, ()),
    ("I have not undertaken any postgraduate study", None, "inform", {"higher_degree": "none"}, ()),
    (
        "3 yrs of mech eng at Leeds, got a 2:2",
        None,
        "inform",
        {"degree_subject": "mechanical engineering"},
        (),
    ),
    # A review's findings: what the new readings must not take.
    ("A-levels: 1 more year, physics, chemistry and maths", None, "inform", {"a_level_count": 3}, ()),
    (
        "cant wait to finish my msc in medical physics, got a 2:2 in physics",
        None,
        "inform",
        {"higher_degree": "msc", "higher_degree_status": "in_progress"},
        (),
    ),
    (
        "i wont have my masters till september, 2:2 in physics",
        None,
        "inform",
        {"higher_degree": "msc", "higher_degree_status": "in_progress"},
        (),
    ),
    ("i cant believe i got a first in mechanical engineering", None, "inform", {"degree_class": "first"}, ()),
    (
        "I have a PhD in physics, my viva was in 2018, and a 2:2 BSc in chemistry",
        None,
        "inform",
        {"higher_degree": "phd"},
        ("degree_status", "higher_degree_status"),
    ),
    ("My degree is a 2:1 in physics. I studied in India", None, "inform", {"degree_overseas": True}, ()),
    (
        "Starting September I'll be working as a technician, I have a 2:1 in physics",
        None,
        "inform",
        {"degree_class": "upper_second", "degree_subject": "physics"},
        (),
    ),
    (
        "I did a placement year at Siemens, then graduated with a first in physics",
        None,
        "inform",
        {"degree_class": "first", "degree_status": "held"},
        (),
    ),
    ("can i apply for the STP i have a first in physics", None, "inform", {"degree_subject": "physics"}, ()),
    (
        "Year 12 student, GCSEs: seven 9s and two 8s, doing physics maths chem A-levels",
        None,
        "inform",
        {"gcse_grades": "met", "a_level_status": "in_progress"},
        ("gcse_status",),
    ),
    (
        "I'm thinking I could do biomedical engineering, what do I need?",
        None,
        "inform",
        {},
        ("degree_subject",),
    ),
    (
        "I studied physics and chemistry, both A levels, then did a 2:1 in biochemistry",
        None,
        "inform",
        {"a_level_count": 2},
        ("a_level_grades",),
    ),
    (
        "I have a masters in Stirling and a 2:1 in chemistry",
        None,
        "inform",
        {"higher_degree": "msc"},
        ("higher_degree_subject",),
    ),
    # A job left is no subject studied.
    ("I'm thinking about leaving teaching for engineering", None, "inform", {}, ("degree_subject",)),
    # Giving up, told after a "got" that times nothing.
    (
        "started an MRes in 2023 but got ill and withdrew",
        None,
        "inform",
        {"higher_degree": "mres", "higher_degree_status": "abandoned"},
        (),
    ),
]


@pytest.mark.parametrize("text, asked, intent, expected, absent", READINGS, ids=[r[0][:60] for r in READINGS])
def test_what_a_message_says(rules, entities_of, text, asked, intent, expected, absent):
    facts = understand(rules, text, entities_of(text), intent, asked).facts
    for slot, value in expected.items():
        assert facts.get(slot) == value, (slot, facts)
    for slot in absent:
        assert slot not in facts, (slot, facts)


# (message, question just asked, intent): answers the check cannot read
UNREADABLE = [
    ("I have a degree", "degree_class", "inform"),
    ("lol", "degree_class", "nlu_fallback"),
    ("she doesn't have one", "degree_subject", "deny"),
    ("yes", "higher_degree", "affirm"),
    ("not sure", "higher_degree", "inform"),
    ("whatever", "a_level_count", "inform"),
]


@pytest.mark.parametrize("text, asked, intent", UNREADABLE)
def test_an_answer_that_cannot_be_read_is_flagged(rules, entities_of, text, asked, intent):
    understood = understand(rules, text, entities_of(text), intent, asked)
    assert understood.unreadable and asked not in understood.facts


@pytest.mark.parametrize("text, intent", [("asdf ghjk", "affirm"), ("blorp", "deny"), ("hmm", "affirm")])
def test_a_guessed_yes_or_no_without_the_words_is_not_an_answer(rules, entities_of, text, intent):
    """The classifier may read keyboard mash as "yes": it must not become a fact."""
    understood = understand(rules, text, entities_of(text), intent, "gcse_grades")
    assert understood.unreadable and "gcse_grades" not in understood.facts


# read_message: where the conversation is decides how a message is read.
@pytest.mark.parametrize(
    "text, intent, asked, in_check, after_verdict, expected, unreadable",
    [
        # Sounds like a topic, but states facts: an answer in a check, and outside one.
        (
            "I'm doing an Access to HE diploma, not A-levels",
            "ask_a_level_alternatives",
            "a_level_count",
            True,
            False,
            {"a_level_alternatives": ["access_to_he"]},
            False,
        ),
        (
            "I have a 2:1 in physics",
            "ask_stp_requirements",
            None,
            False,
            False,
            {"degree_class": "upper_second", "degree_subject": "physics"},
            False,
        ),
        # A question on a topic gives no facts, in a check or not.
        ("is a BTEC ok instead of A-levels?", "ask_a_level_alternatives", None, False, False, {}, False),
        (
            "what counts as a higher degree?",
            "ask_higher_degree_definition",
            "higher_degree",
            True,
            False,
            {},
            False,
        ),
        # A word or two in a check is an attempt at an answer, even one that cannot be read.
        ("banana", "out_of_scope", "degree_class", True, False, {}, True),
        # A follow-up after a verdict changes a fact; with nothing before it, it gives none.
        ("and if I had a 2:1?", "follow_up", None, False, True, {"degree_class": "upper_second"}, False),
        ("and if I had a 2:1?", "follow_up", None, False, False, {}, False),
    ],
)
def test_where_the_conversation_is_decides_how_a_message_is_read(
    rules, entities_of, text, intent, asked, in_check, after_verdict, expected, unreadable
):
    understood = read_message(
        rules, text, entities_of(text), intent, asked, in_check=in_check, after_verdict=after_verdict
    )
    assert {k: v for k, v in understood.facts.items() if k in expected or not expected} == expected
    assert understood.unreadable == unreadable


def test_am_i_eligible_in_a_check_is_not_an_unreadable_answer(rules, entities_of):
    understood = understand(
        rules, "am I eligible?", entities_of("am I eligible?"), "check_eligibility", "degree_class"
    )
    assert not understood.unreadable


@pytest.mark.parametrize(
    "slot, text, intent, expected",
    [
        ("gcse_grades", "yes", "affirm", "met"),
        ("gcse_grades", "nope", "deny", "not_met"),
        ("gcse_grades", "Not sure", "inform", "unsure"),
        ("science_a_level", "yes", "affirm", "yes"),
        ("science_a_level", "Not sure", "deny", "unsure"),
        ("higher_degree", "no", "deny", "none"),
        ("higher_degree", "nothing else", "inform", "none"),
        ("a_level_count", "none", "deny", 0),
        ("degree_class", "2 1", "inform", "upper_second"),
        ("programme", "stp please", "inform", "STP"),
        ("degree_subject", "ocean acoustics", "nlu_fallback", "ocean acoustics"),
        ("degree_class", "whatever", "inform", None),
    ],
)
def test_answers_to_the_question_just_asked(rules, slot, text, intent, expected):
    assert answer_for_asked(rules, slot, text, intent) == expected


def test_a_subject_named_alone_in_a_correction_replaces_the_one_it_corrects(rules, entities_of):
    text = "oh wait sorry, I typed that wrong - it's chemistry, not physics. And I've got no masters"
    profile = {"programme": "STP", "degree_class": "upper_second", "degree_subject": "physics"}
    facts = understand(rules, text, entities_of(text), "inform", profile=profile).facts
    assert facts["degree_subject"] == "chemistry" and facts["higher_degree"] == "none"


def test_a_button_payload_without_offsets(rules):
    facts = understand(rules, "/inform", [{"entity": "degree_class", "value": "first"}], "inform").facts
    assert facts["degree_class"] == "first"


def test_facts_made_stale_by_a_correction_are_cleared():
    profile = {
        "higher_degree": "msc",
        "higher_degree_subject": "physics",
        "higher_degree_status": "in_progress",
        "higher_degree_ends": "in June",
    }
    assert apply_facts(profile, {"higher_degree": "none"}) == {
        "higher_degree": "none",
        "higher_degree_subject": None,
        "higher_degree_status": None,
        "higher_degree_ends": None,
    }
    changes = apply_facts(profile, {"higher_degree": "pgdip"})
    assert changes == {"higher_degree": "pgdip", "higher_degree_status": None, "higher_degree_ends": None}


@pytest.mark.parametrize(
    "text, question",
    [
        ("can I apply with a 2:2?", True),
        ("what about the PTP", True),
        ("is it paid", True),
        ("I'm doing an Access to HE diploma, not A-levels", False),
        ("predicted a first", False),
    ],
)
def test_questions_and_statements(text, question):
    assert is_question(text) is question


def test_no_more_of_something_else_is_not_no_higher_degree(rules):
    facts = facts_from_message(rules, "i don't have any more steak, please put that on my grocery list", [])
    assert "higher_degree" not in facts
    assert facts_from_message(rules, "I don't have any more degrees", []).get("higher_degree") == "none"
    assert (
        facts_from_message(rules, "I don't have any further qualifications", []).get("higher_degree")
        == "none"
    )
