"""Subjects: which qualification a subject named in a message belongs to ("a 2:2 in
history and an MSc in medical physics", "physics, maths and further maths A-levels"), and
a free-text subject answer as a subject name. Pure Python, no Rasa import.
"""

from __future__ import annotations

import re
from typing import Any, List, Mapping, Optional

from careers.rules_file import EntryRules
from careers.vocabulary import (
    A_LEVEL_COUNT,
    ANIMAL_PLANT_SCIENCE,
    COMMONLY_ACCEPTED,
    DEGREE_CLASS,
    DEGREE_SUBJECT,
    GCSE_GRADES,
    HIGHER_DEGREE,
    HIGHER_DEGREE_SUBJECT,
    MEDICAL_SUBJECT,
    NON_HONOURS,
    NOT_DECIDED_SUBJECT,
    NOT_HIGHER_DEGREE,
    OTHER_SCIENCES,
    OUTSIDE_SCIENCE,
    PTP,
    SCIENCE_A_LEVEL,
    UNDERGRADUATE_HONOURS,
    UNKNOWN_SUBJECT,
)
from dialogue.denials import _CORRECTION, _WANTED_COURSE, says_yes
from dialogue.grades import canonical_degree_class, canonical_qualification
from dialogue.mentions import (
    A_LEVEL_ROLE,
    ALTERNATIVE_ROLE,
    DEGREE_ROLE,
    GCSE_ROLE,
    _Anchor,
    _clause_before,
    _gap,
    _Mention,
)

# What joins the subjects of one list: "physics, maths and further maths".
_LIST_JOIN = re.compile(r"\s*(,|&|\+|/|and|n|an'|,\s*and)?\s*(\([A-E]\*?\)\s*,?\s*(and\s*)?)?", re.I)


_SUBJECT_NOISE = re.compile(
    r"^(it'?s|it is|it was|i did|i studied|i study|i'm doing|doing|in|a|an|the|my|his|her|their|"
    r"degree|bsc|ba|beng|msc|subject|(\w+ )?degree in|studied|was in|she did|he did|they did|"
    r"she studied|he studied|hons|honours)\s+",
    re.IGNORECASE,
)


# Words that show a free-text answer is not the name of a subject.
_NOT_A_SUBJECT = re.compile(
    r"\b(i|i'm|im|me|my|she|he|they|her|his|their|it|you|no|not|none|don'?t|doesn'?t|haven'?t"
    r"|hasn'?t|didn'?t|yes|yeah|ok|okay|why|what|how|when|who|where|which|can|could|would"
    r"|should|sure|know|maybe|thanks|thank|help|stop|cancel|lol|idk|dunno|one|any)\b",
    re.I,
)


# Words before a subject that show it is what someone studied.
_STUDIED_BEFORE = re.compile(
    r"\b(studied|study|studying|studies|read|reading|did|doing|doin|taking|take|took|majored in"
    r"|switched to|changed to|transferred to|swapped to|moved to"
    r"|(years?|yrs?) of|major in|degree in|graduate in|graduated in|qualified in|qualification in"
    r"|(1st|2nd|3rd|4th|first|second|third|fourth|final|last) (year|yr))\s+$",
    re.I,
)


# Words before a subject that show it is hoped for, not studied: "want to study clinical
# engineering", "hoping to do biomedical engineering at uni".
_ASPIRATION_BEFORE = re.compile(
    r"\b(want(s|ed|ing)? to|wanna|hope to|hoping to|would like to|'d like to|plan(s|ning)? to|going to"
    r"|dream of|interested in)\s+"
    r"(study|studying|do|doing|read|pursue|pursuing|get into|go into|work in)?\s*$",
    re.I,
)


_DEGREE_IN = re.compile(
    r"\b((my|her|his|their|the|first|undergrad\w*|bachelor'?s|bsc|ba|beng)\s+degree"
    r"|(my|her|his|their|the)\s+(undergrad\w*|bachelor'?s|first degree|bsc|ba|beng))\s+(is|was)?\s*in\s+$",
    re.I,
)


_DEGREE_AFTER = re.compile(r"^\s*(degree|graduate|grad|undergrad\w*|bsc|ba|beng|meng|hons)\b", re.I)
_STUDIED_AFTER = re.compile(r"^\s*(degree|graduate|grad|student|course|bsc|ba|beng|meng|hons)\b", re.I)


_NOT_STUDIED_BEFORE = re.compile(
    r"\b(teach|teaches|teaching|taught|teacher of|lecture in|lecturer in|tutor in|tutoring"
    r"|leav(e|ing)|left|quit(ting)?|work(ing|ed)? in|career in|jobs? in)"
    r"(\s+(clinical|hospital|general|the))?\s+$",
    re.I,
)


_NOT_STUDIED_AFTER = re.compile(
    r"\s+(modules?|units?|placements?|side|department|firms?|company|companies|industry|sector|jobs?"
    r"|roles?|work|background|experience|apprenticeships?|society|club)\b",
    re.I,
)


_OCCUPATION = re.compile(
    r"(^\W*|\b(i'?m|i am|am|he'?s|she'?s|is|as|work as|working as)\s+(an?|a qualified|a chartered)\s+)"
    r"(?P<branch>\w+)\s+engineer\b",
    re.I,
)


_ALL_SCHOOL = re.compile(r"\ba[- ]?levels?\b|\bgcses?\b|\bbtec\b", re.I)


_SCHOOL_YEAR = re.compile(r"\b(year|yr) ?1[0-3]\b|\bsixth[- ]form\b|\b6th form\b", re.I)


_SUBJECT_SLOTS = {DEGREE_SUBJECT: DEGREE_ROLE, HIGHER_DEGREE_SUBJECT: HIGHER_DEGREE}


_SLOT_ROLES = {
    DEGREE_CLASS: DEGREE_ROLE,
    DEGREE_SUBJECT: DEGREE_ROLE,
    HIGHER_DEGREE: HIGHER_DEGREE,
    HIGHER_DEGREE_SUBJECT: HIGHER_DEGREE,
    SCIENCE_A_LEVEL: A_LEVEL_ROLE,
    A_LEVEL_COUNT: A_LEVEL_ROLE,
    GCSE_GRADES: GCSE_ROLE,
}


def clean_subject(text: Any) -> Optional[str]:
    """A free-text subject answer as a lower-case subject name, or None when it does
    not look like the name of a subject ("she doesn't have one", "why?")."""
    value = re.sub(r"[^\w&'\- ]", " ", str(text or "")).strip().lower()
    value = re.sub(r"\s+", " ", value)
    previous = None
    while previous != value:
        previous, value = value, _SUBJECT_NOISE.sub("", value).strip()
    if not value or len(value) > 40 or len(value.split()) > 5:
        return None
    if _NOT_A_SUBJECT.search(value) or not re.search(r"[a-z]{3}", value):
        return None
    if canonical_degree_class(value) or re.search(r"\d", value):
        return None
    return value


# Degree names that say their subject: an MPhys is in physics.
_SUBJECT_OF_DEGREE_NAME = {
    "mphys": "physics",
    "meng": "engineering",
    "beng": "engineering",
    "mchem": "chemistry",
    "mmath": "mathematics",
    "mmathphys": "mathematical physics",
    "bachelor of engineering": "engineering",
    "llb": "law",
}


def _replaced_role(text: str, denied: set, profile: Mapping[str, Any]) -> Optional[str]:
    """A subject named on its own in a correction takes the place of the one it
    corrects: "it's chemistry, not physics" after "a 2:1 in physics"."""
    for slot, role in _SUBJECT_SLOTS.items():
        named = profile.get(slot)
        if isinstance(named, str) and named in denied:
            return role
    if _CORRECTION.search(text):
        filled = [role for slot, role in _SUBJECT_SLOTS.items() if profile.get(slot)]
        if len(filled) == 1:
            return filled[0]
    return None


def _all_named(text: str) -> bool:
    """False when the subjects named may be only some of the A-levels ("including")."""
    return not re.search(r"\b(including|incl|inc|such as|e\.g|among|amongst|as well as)\b", text, re.I)


_RELEVANCE_ORDER = (
    COMMONLY_ACCEPTED,
    OTHER_SCIENCES,
    NOT_DECIDED_SUBJECT,
    UNKNOWN_SUBJECT,
    ANIMAL_PLANT_SCIENCE,
    OUTSIDE_SCIENCE,
    MEDICAL_SUBJECT,
)


def _relevance_rank(rules: EntryRules, subject: str) -> int:
    return _RELEVANCE_ORDER.index(rules.subject_category(subject))


def _role_for(
    text: str,
    mention: _Mention,
    anchors: List[_Anchor],
    asked: Optional[str],
    programme: Optional[str],
    prefer_next: bool = False,
) -> Optional[str]:
    """Which qualification a subject or count belongs to (its role), or None when it is
    not attached to any ("the engineering side of hospitals"); `asked` is the fact the
    check just asked for."""
    before = [a for a in anchors if a.end <= mention.start]
    after = [a for a in anchors if a.start >= mention.end]
    if mention.kind == "subject" and _WANTED_COURSE.search(_clause_before(text, mention.start, 60)):
        return None  # "get onto a PTP degree in clinical engineering": the course wanted
    if _NOT_STUDIED_BEFORE.search(text[max(0, mention.start - 25) : mention.start]):
        return None  # "I teach physics": a job, not what they studied
    if mention.kind == "subject" and _NOT_STUDIED_AFTER.match(text[mention.end :]):
        return None  # "lots of engineering modules", "the engineering side"
    if mention.kind == "subject" and _DEGREE_AFTER.match(text[mention.end :]):
        if _WANTED_COURSE.search(_clause_before(text, mention.start, 60)):
            return None  # "get onto the clinical engineering BSc": the course wanted
        return DEGREE_ROLE  # "his chemistry degree", "a physics graduate", even beside A-levels
    if prefer_next and after and after[0].start - mention.end <= 12:
        return after[0].role
    # "physics degree", "chemistry and maths A-levels", "a physics graduate"
    if (
        after
        and re.fullmatch(r"[\s\w&,]{0,30}", text[mention.end : after[0].start])
        and (
            not before
            or _gap(text, before[-1].end, mention.start) > 25
            or re.search(r"[.;!?]|\b(and|but)\b", text[before[-1].end : mention.start])
        )
        and (_STUDIED_AFTER.match(text[mention.end :]) or after[0].start - mention.end <= 25)
    ):
        return after[0].role
    new_clause = bool(
        before
        and re.search(r"\b(and|but|then|now)\b", text[before[-1].end : mention.start], re.I)
        and _STUDIED_BEFORE.search(text[: mention.start])
    )  # "predicted 5s in her GCSEs and wants to take chemistry": a new qualification
    if (
        before
        and not new_clause
        and _gap(text, before[-1].end, mention.start) <= 40
        and not re.search(r"[.;!?]", text[before[-1].end : mention.start])
    ):
        return before[-1].role
    if (
        after
        and after[0].start - mention.end <= 25
        and not re.search(r"[.;!?]", text[mention.end : after[0].start])
    ):
        return after[0].role
    if mention.kind == "subject" and _DEGREE_IN.search(text[: mention.start]):
        return DEGREE_ROLE  # "actually my degree is in physics"
    if asked == HIGHER_DEGREE and mention.kind == "subject" and not says_yes(text):
        # "Do you have a higher degree?" "physics": the subject of the degree they have.
        return DEGREE_ROLE
    if asked in _SLOT_ROLES:
        return _SLOT_ROLES[asked]
    if mention.kind == "subject" and _ASPIRATION_BEFORE.search(
        text[max(0, mention.start - 40) : mention.start]
    ):
        if any(
            a.role == A_LEVEL_ROLE
            and a.start > mention.end
            and not re.search(r"[.;!?]", text[mention.end : a.start])
            for a in anchors
        ):
            return A_LEVEL_ROLE  # "planning to do physics, maths and product design for A-level"
        # "want to study clinical engineering", "A*AA in History ... has decided he wants to
        # do engineering instead": hoped for, not studied
        return None
    if mention.kind == "subject" and (
        _STUDIED_BEFORE.search(text[: mention.start]) or _STUDIED_AFTER.match(text[mention.end :])
    ):
        school = any(
            a.role in (A_LEVEL_ROLE, GCSE_ROLE, ALTERNATIVE_ROLE) for a in anchors
        ) or _SCHOOL_YEAR.search(text)
        return A_LEVEL_ROLE if programme == PTP or school else DEGREE_ROLE
    between = text[before[-1].end : mention.start] if before else ""
    if before and (not re.search(r"[.!?]\s", between) or re.fullmatch(r"\.\s*", between)):
        return before[-1].role  # (not a later sentence's "doing HVAC design since I graduated")
    previous_sentence = re.split(r"[.!?]\s", text[: mention.start].rstrip(" .!?"))[-1]
    if (
        mention.kind == "subject"
        and re.search(r"[.!?]\s*$", text[: mention.start])
        and re.match(r"\s*([.!?]|$)", text[mention.end :])
        and re.search(r"\b(degree|graduated|bachelor'?s|undergrad)\b", previous_sentence, re.I)
        and not any(a.role not in (DEGREE_ROLE, HIGHER_DEGREE) for a in before)
    ):
        return DEGREE_ROLE  # "Got my degree from Birmingham. Physics.": a sentence of its own
    return None


# The words after "<qualification> in": "an MSc in Medical Device Technology", "a 2:2 in
# chemical eng", up to where the subject's name plainly ends.
_NAMED_IN = re.compile(
    r"\s*(?:\(?hons\)?\s*)?\bin\s+(?P<phrase>[a-z][a-z&'\- ]*?)"
    r"(?=\s*(?:[,.;:!?()\n/]|$|\b(?:from|at|with|and|but|which|that|since|after|before|awarded|completed"
    r"|finished|finishing|graduat\w*|in|last|this|next|back|so|because|cos|where|while|ending|ends|due"
    r"|or|to|for|is|was|on|by|i|i'm|im|he|she|they|it|then|now|years?|ago|about|hons|afterwards?|later"
    r"|too|also|as well|already|recently|instead|first|full[- ]time|part[- ]time|online|via|through)\b))",
    re.IGNORECASE,
)
# Words that do not name a subject after "in": "an MSc in progress", "a 2:1 in the UK".
_NOT_A_SUBJECT_NAME = re.compile(
    r"^(the|a|an|my|his|her|their|our|your|this|that|progress|total|time|full|person|general|particular"
    r"|fact|addition|hand|case|order|part|mind|place|future|practice|uni|university|college|school"
    r"|january|february|march|april|may|june|july|august|september|sept|october|november|december"
    r"|summer|autumn|spring|winter|year|years|something|anything|same|one|any|some|both|either|it)\b",
    re.IGNORECASE,
)
# How the names of subjects end ("biomechanics", "metrology", "rehabilitation engineering",
# "physics education"), so that a place ("an MSc in Leeds") is not taken for one.
_SUBJECT_HEAD = re.compile(
    r"(ics|ogy|istry|ing|ence|ences|ure|tion|ment|sound|studies|technology|technologies|design"
    r"|systems|devices|physics|medicine|science|sciences|engg|eng|practice|care|health|management)$",
    re.IGNORECASE,
)
# One word ending "-ing" is more often a place ("Reading", "Stirling", "Ealing") than a
# subject, unless it is one of these.
_PLACE_LIKE = re.compile(
    r"(?!(engineering|computing|nursing|accounting|marketing|banking|teaching|surveying|programming"
    r"|manufacturing|publishing|plumbing|welding)$)[a-z]+ing",
    re.IGNORECASE,
)
_DEGREE_GROUPS = (UNDERGRADUATE_HONOURS, NON_HONOURS, HIGHER_DEGREE, NOT_HIGHER_DEGREE)


def _subject_name(phrase: str) -> str:
    name = re.sub(r"\s+", " ", phrase.strip().lower())
    return re.sub(r"\s(eng|engg|engin)\.?$", " engineering", name)  # "chemical eng"


def with_named_subjects(rules: EntryRules, text: str, mentions: List[_Mention]) -> List[_Mention]:
    """The message's mentions, with the subjects of degrees named after "in" that the
    entity patterns do not know ("a PhD in biomechanics") or know only in part ("an MSc in
    Medical Device Engineering" is not just "engineering")."""
    added: List[_Mention] = []
    replaced: List[_Mention] = []
    for m in mentions:
        if m.kind == "qualification":
            qual = canonical_qualification(m.value, rules.qualifications)
            if rules.qualification_group(qual or "") not in _DEGREE_GROUPS:
                continue
        elif m.kind != DEGREE_CLASS:
            continue
        named = _NAMED_IN.match(text[m.end :])
        if not named:
            continue
        start, end = m.end + named.start("phrase"), m.end + named.end("phrase")
        phrase = text[start:end]
        words = phrase.split()
        if not 1 <= len(words) <= 4 or _NOT_A_SUBJECT_NAME.match(phrase) or not clean_subject(phrase):
            continue
        inside = [o for o in mentions if o.start >= start and o.end <= end]
        if any(o.kind != "subject" for o in inside) or any(o.start == start and o.end == end for o in inside):
            continue  # an origin, a class, or a subject the patterns already read whole
        if len(inside) > 1 or not _SUBJECT_HEAD.search(phrase) or _PLACE_LIKE.fullmatch(phrase.strip()):
            continue  # "in Leeds", "in physics yesterday": no subject's name
        replaced.extend(inside)
        added.append(_Mention("subject", _subject_name(phrase), start, end))
    if not added:
        return mentions
    return sorted([m for m in mentions if m not in replaced] + added, key=lambda m: m.start)
