"""Language helpers: turn what people write into the engine's canonical facts.

Pure Python, no Rasa import. The NLU pipeline gives entities with canonical
values ("upper_second", "msc", "mechanical engineering", "overseas"); these
helpers decide which of them are facts about the person's own qualifications
(or those of the person they ask for), and read free-text answers to the
question the check just asked.

`understand` is the one entry point: a message, its entities, its intent and the
question just asked in, the facts it states out (and whether an answer to that
question could not be read). Nothing the person typed is kept as a fact unless
it is a canonical value or a subject answer that looks like a subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from careers import timing
from careers.engine import science_a_level_status
from careers.rules_file import GCSE_LETTERS, EntryRules
from careers.timing import Span
from careers.vocabulary import (
    A_LEVEL_ALTERNATIVE,
    A_LEVEL_ALTERNATIVES,
    A_LEVEL_COUNT,
    A_LEVEL_GRADES,
    A_LEVEL_STATUS,
    A_LEVEL_SUBJECTS,
    ABANDONED,
    AFFIRM_INTENT,
    ANIMAL_PLANT_SCIENCE,
    CHECK_INTENT,
    COMMONLY_ACCEPTED,
    DEGREE_CLASS,
    DEGREE_OVERSEAS,
    DEGREE_STATUS,
    DEGREE_SUBJECT,
    DEGREE_TYPE,
    DENY_INTENT,
    FALLBACK_INTENT,
    FIRST,
    FOLLOW_UP_INTENT,
    GCSE_ALTERNATIVE,
    GCSE_GRADES,
    HIGHER_DEGREE,
    HIGHER_DEGREE_ENDS,
    HIGHER_DEGREE_STATUS,
    HIGHER_DEGREE_SUBJECT,
    IN_PROGRESS,
    INFORM_INTENT,
    LOWER_SECOND,
    NON_HONOURS,
    NOT_COVERED_INTENT,
    NOT_DECIDED_SUBJECT,
    NOT_HIGHER_DEGREE,
    OTHER_SCIENCES,
    OUT_OF_SCOPE_INTENT,
    OUTSIDE_SCIENCE,
    PLANNED,
    PREDICTED,
    PROGRAMME,
    PTP,
    SCIENCE_A_LEVEL,
    STP,
    THIRD,
    UNDERGRADUATE_HONOURS,
    UPPER_SECOND,
)

_CLASS_PATTERNS = [
    (FIRST, r"\b(first|1st|1:1)(\s*-?\s*class)?\b|\bfirsts\b"),
    (UPPER_SECOND, r"\b2\s*[:.\-/ ]?\s*(1|i)\b|\bupper\s*(second|2nd)\b|\btwo[ -]one\b"),
    (LOWER_SECOND, r"\b2\s*[:.\-/ ]?\s*(2|ii)\b|\blower\s*(second|2nd)\b|\btwo[ -]two\b"),
    (THIRD, r"\b(third|3rd)(\s*-?\s*class)?\b"),
]
_QUALIFICATION_PATTERNS = [
    ("integrated_masters", r"\bintegrated\s+master|\bm(eng|phys|sci|chem|math)\b"),
    ("pgdip", r"\bp(ost)?\s*-?\s*g(rad(uate)?)?\s*dip"),
    ("pgcert", r"\bp(ost)?\s*-?\s*g(rad(uate)?)?\s*cert|\bpgce\b"),
    ("mres", r"\bm\.?\s?res\b|\bresearch master"),
    ("mphil", r"\bm\.?\s?phil\b"),
    ("phd", r"\bph\.?\s?d\b|\bd\.?phil\b|\bdoctorate\b|\beng\.?d\b"),
    # ("a Mastercard", "master card" are payment cards)
    ("ma", r"^m\.?a\.?$"),
    ("msc", r"\bm\.?\s?sc\b|\bmasters?\b(?!\W*cards?\b)|\bmaster'?s\b|\bm\.?a\b"),
    ("medical_degree", r"\bmbbs\b|\bmb\s?ch\s?b\b|\bmedical degree\b"),
]
_NUMBER_WORDS = {
    "no": 0,
    "none": 0,
    "zero": 0,
    "one": 1,
    "a single": 1,
    "two": 2,
    "a couple": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
}
_NUMBER = r"(\d{1,2}|" + "|".join(w for w in _NUMBER_WORDS if " " not in w and w not in ("no", "none")) + ")"

_UNSURE = re.compile(
    r"\b(not sure|unsure|don'?t know|do not know|dunno|no idea|maybe|possibly|not certain"
    r"|can'?t remember|no clue|idk)\b",
    re.I,
)
# A word before a qualification that says the person does not have it.
_NEGATION_BEFORE = re.compile(
    r"(\b(no|not|never|without|nor|neither|none)\b|n't\b|\bnot got\b"
    r"|\b(haven|hasn|hadn|didn|don|doesn|isn|wasn|aren|weren)t\b)[\w' ]{0,18}$",
    re.I,
)
_NOT_A_NEGATION = re.compile(r"\b(not sure|no idea|don'?t know|not certain|dunno)\b", re.I)
# "a PGDip instead of the MSc": the MSc is replaced, not denied.
_REPLACED_BEFORE = re.compile(r"\b(instead of|rather than|in place of|not)\s+(the|my|an?|her|his)?\s*$", re.I)
# Only a first degree: "no other degree", "just my bachelor's", "no master's".
_NO_HIGHER = re.compile(
    r"\b(no|not any|without an?y?|never did an?y?|don'?t have an?y?|doesn'?t have an?y?"
    r"|haven'?t (got|done|completed|taken|studied|started) an?y?|hasn'?t (got|done|completed) an?y?"
    r"|didn'?t do an?y?|no plans? (for|to do) an?y?|not planning (on |to do )?an?y?"
    r"|never (done|studied|started) an?y?)\s+((other|further|higher|more)"
    # (of study, not "no more steak")
    r"(?=\s*($|[.,!?;)]|degrees?\b|qualifications?\b|stud(y|ies)\b|education\b|than\b|postgrad\w*))"
    r"|postgrad\w*|post-?graduate|master'?s?|second|grad(uate)? school)\b"
    r"|\b(just|only)\s+(my|the|a|an|her|his|one|the one)?\s*(bachelor'?s|undergrad\w*|first"
    r" degree|b\.?sc|b\.?a|b\.?eng|degree|one degree|honours degree)\b"
    r"|\bnothing postgrad\w*\b|\bundergrad(uate)? only\b"
    r"|\b(postgrad\w*|post-?graduate|master'?s?|msc|higher degree)\s*[:\-–?]+\s*"
    r"(none|no+|nope|nah|n/?a|nil)\b",
    re.I,
)
# A qualification asked about, not had: "do I need a masters", "does an integrated masters
# count?", "is an MSc worth doing", "should I do a PhD".
_ASKED_ABOUT = re.compile(
    r"(\b(need|needs|needed|require[sd]?|have to (do|get|take)|worth (doing|getting|taking))"
    r"|^\W*(does|do|is|would|will|should|could|can)\s+(i|he|she|they|we|you)?\s*(do|get|take|need)?)"
    r"\s*(an?|any|the|another|separate|a separate)?\s*$",
    re.I,
)
# "haven't got my A-level results yet": the results are awaited, the A-levels are not denied.
_RESULTS_AFTER = re.compile(r"(?:'s|s'|’s)?[ \t]*(results?|grades?|exams?|marks?)\b", re.I)
# "the MEng is my masters": the same degree named again, not another one.
_SAME_DEGREE_BEFORE = re.compile(r"\b(is|was|as|counts as) (my|his|her|their|the|a)\s*$", re.I)
# "Masters? Haven't done one.", "Postgrad: none", "MSc - no": denied after it is named.
_DENIED_AFTER = re.compile(
    r"\s*[?:\-–]+\s*(no+|none|nope|nah|n/?a|nil|never|not yet|i haven'?t|haven'?t|hasn'?t|didn'?t"
    r"|not done|not really)\b",
    re.I,
)
# A-level grades in a row ("AAB", "A*AB", "BCC"), in capitals as people write them.
_A_LEVEL_GRADE_LIST = re.compile(
    r"(?<![\w*])((?:A\*|[A-E]){3,5}|A\*(?:A\*|[A-E]){1,4}|(?:A\*|[A-E])A\*)(?![\w*])"
)
_GRADE_LIST_CONTEXT = re.compile(
    r"\b(predicted|got|achieved|get|getting|results?|grades?|sixth form|year 1[23]|yr 1[23]|ucas)\b", re.I
)
_GRADE_AFTER_SUBJECT = re.compile(r"\s*[(:\-–]?\s*(A\*|[A-E])(?![\w*\-])(?!\s*levels?\b)\)?")
# What joins the subjects of one list: "physics, maths and further maths".
_LIST_JOIN = re.compile(r"\s*(,|&|\+|/|and|,\s*and)?\s*(\([A-E]\*?\)\s*,?\s*(and\s*)?)?", re.I)
# "I only got an AS in biology": an AS level, and no A-level.
_ONLY_AS_LEVEL = re.compile(r"\b(only|just)\b[\w' ]{0,14}\b(AS|AS[- ]levels?)\b(?![- ]?(and|&) ?A)")
_NO_DEGREE = re.compile(
    r"\b(no|not got an?y?|don'?t have an?y?|doesn'?t have an?y?|haven'?t got an?y?|hasn'?t got an?y?"
    r"|never (did|got|went to)|didn'?t (do|go to|get))\s+(a\s+)?(degree|uni|university)\b"
    r"|\bnot a graduate\b|\bnon[- ]graduate\b",
    re.I,
)
_NO_A_LEVELS = re.compile(
    r"\b(no|not got an?y?|don'?t have an?y?|doesn'?t have an?y?|haven'?t got an?y?|hasn'?t got an?y?"
    r"|never (did|took)|didn'?t (do|take))\s+(a[- ]?levels?|alevels?)\b",
    re.I,
)
# A bare "no" (or "she doesn't have one") in answer to a question.
_DENIAL = re.compile(
    r"^\W*(no+|nope|nah|naw|none|nada|not really|not yet|not at all|never|neither|negative"
    r"|definitely not|i don'?t|i haven'?t|no+ (she|he|they|i) "
    r"(do(es)?n'?t|ha(s|ve)n'?t)|(she|he|they|i) (do(es)?n'?t|ha(s|ve)n'?t)( got)? (one|any)"
    r"|(she|he|they|i) (do(es)?n'?t|ha(s|ve)n'?t)|i do not|no i do not|negative)\b",
    re.I,
)
_AFFIRMATION = re.compile(
    r"^\W*(y+e+s+|yeah|yea|yep|yup|ya|yh|ye|aye|sure|correct|definitely|defo|absolutely"
    r"|of course|certainly|indeed|affirmative|100|i do|i have|i am|she does|he does|she has"
    r"|he has|she is|he is|they do|they have|i think so|that's right|thats right"
    r"|yes please|mhm|uh huh|yass?)\b",
    re.I,
)
_CORRECTION = re.compile(
    r"\b(actually|sorry|i meant|correction|my mistake|rather|no wait|typed that wrong|mixed up"
    r"|got that wrong|oops|update)\b",
    re.I,
)
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
    r"\b(studied|study|studying|studies|read|reading|did|doing|taking|take|took|majored in|(year|yr) of"
    r"|major in|degree in|graduate in|graduated in|qualified in|qualification in)\s+$",
    re.I,
)
_DEGREE_IN = re.compile(
    r"\b((my|her|his|their|the|first|undergrad\w*|bachelor'?s|bsc|ba|beng)\s+degree"
    r"|(my|her|his|their|the)\s+(undergrad\w*|bachelor'?s|first degree|bsc|ba|beng))\s+(is|was)?\s*in\s+$",
    re.I,
)
_STUDIED_AFTER = re.compile(r"^\s*(degree|graduate|grad|student|course|bsc|ba|beng|meng|hons)\b", re.I)

_NOT_STUDIED_BEFORE = re.compile(
    r"\b(teach|teaches|teaching|taught|teacher of|lecture in|lecturer in|tutor in|tutoring)\s+$", re.I
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
# Which qualification is worth more when someone names two of the same kind.
_HIGHER_RANK = ("phd", "mphil", "mres", "msc", "ma", "pgdip", "pgcert")
_SUBJECT_SLOTS = {DEGREE_SUBJECT: "degree", HIGHER_DEGREE_SUBJECT: HIGHER_DEGREE}
_SLOT_ROLES = {
    DEGREE_CLASS: "degree",
    DEGREE_SUBJECT: "degree",
    HIGHER_DEGREE: HIGHER_DEGREE,
    HIGHER_DEGREE_SUBJECT: HIGHER_DEGREE,
    SCIENCE_A_LEVEL: "a_level",
    A_LEVEL_COUNT: "a_level",
    GCSE_GRADES: "gcse",
}
# Intents whose messages can answer the question the check just asked. ("Am I
# eligible?" in the middle of a check gives facts if it has any, but is not an answer.)
ANSWER_INTENTS = frozenset({INFORM_INTENT, AFFIRM_INTENT, DENY_INTENT, FALLBACK_INTENT})
# Intents whose messages state facts about the person (not questions about rules).
FACT_INTENTS = frozenset({INFORM_INTENT, CHECK_INTENT, AFFIRM_INTENT, DENY_INTENT, FALLBACK_INTENT})


def canonical_degree_class(text: Any) -> Optional[str]:
    """'2.1', 'upper second', 'first class', 'upper_second' -> a degree-class id."""
    value = str(text or "").strip().lower()
    if value in {FIRST, UPPER_SECOND, LOWER_SECOND, THIRD, "none"}:
        return value
    if _NO_DEGREE.search(value) or value in ("no degree", "none"):
        return "none"
    for class_id, pattern in _CLASS_PATTERNS:
        if re.search(pattern, value):
            return class_id
    return None


def canonical_qualification(text: Any, known: Iterable[str] = ()) -> Optional[str]:
    """'MSc', 'PG cert', 'integrated masters', 'none' -> a qualification id."""
    value = str(text or "").strip().lower()
    if value in set(known) or value == "none":
        return value
    for qualification, pattern in _QUALIFICATION_PATTERNS:
        if re.search(pattern, value):
            return qualification
    return None


def parse_count(text: Any) -> Optional[int]:
    """'two', '3', 'no' -> a whole number; None when there is no number."""
    value = str(text if text is not None else "").strip().lower()
    digits = re.search(r"\b(\d{1,2})\b", value)
    if digits:
        return int(digits.group(1))
    for word, number in sorted(_NUMBER_WORDS.items(), key=lambda kv: -len(kv[0])):
        if re.search(rf"\b{word}\b", value):
            return number
    return None


def _grade_is_good(rules: EntryRules, grade: str) -> Optional[bool]:
    grade = grade.upper().rstrip("S'").rstrip("'")
    if grade.isdigit():
        return int(grade) >= rules.gcse_minimum_number
    if grade in GCSE_LETTERS:
        return GCSE_LETTERS.index(grade) <= GCSE_LETTERS.index(rules.gcse_minimum_letter)
    return None


_GCSE_MET = re.compile(
    r"\bgood range\b|\ball (passed|passes)\b|\bpassed (them )?all\b|\ball (at |grade )?[a-c4-9]\b"
    r"|\b(a\*?|9)\s*(-|to|–)\s*(c|4)\b|\b(4|c)\s*(-|to|–)\s*(9|a\*?)\b|\b(4|c) or (above|higher|better)\b"
    r"|\b(4|c)\+|\bgood gcses\b|\bdecent gcses\b|\bstrong gcses\b|\bplenty of gcses\b"
    r"|\bgood (spread|mix|set|selection) of gcses\b|\bgcses (are |were )?(fine|good|ok|okay|decent|solid)\b",
    re.I,
)
_GCSE_NOT_MET = re.compile(
    r"\bfailed (most|all|nearly all|almost all|them|my gcses|loads)\b|\bdidn'?t pass\b"
    r"|\bno (gcses|passes|good gcses)\b|\bnone (at|above|were)\b|\ball (below|under|fails?)\b"
    r"|\bmostly (fails|u'?s|ungraded)\b|\bnot (a )?good range\b|\bno good range\b"
    r"|\bdon'?t have (a )?good range\b|\bbarely passed any\b|\bonly passed (one|two|1|2)\b",
    re.I,
)
# (grade) in (subjects): "C in maths, English, science", "a 4 in maths and English".
_GRADE_IN_SUBJECTS = re.compile(r"(?<![\w*])(A\*|[A-G]|[1-9])'?s?\s+in\s+([^.;)!?]{1,80})")
# (count) GCSEs (range): "8 GCSEs (grades 9-5)", "7 GCSEs 4-7".
_COUNT_RANGE = re.compile(
    _NUMBER + r"\s+gcses?\s*[(:,]?\s*(?:at\s+)?(?:grades?\s*)?"
    r"(A\*|[A-G]|[1-9])\s*(?:-|to|–)\s*(A\*|[A-G]|[1-9])\b",
    re.I,
)
# (count) at (grade): "five at B", "5 Bs", "3 grade 7s", "two 4s".
_COUNT_GRADE = re.compile(
    r"(?<![\w.:/])" + _NUMBER + r"\s+(?:gcses?\s+|passes\s+)?(?:(?:at|of|x|with)\s+)?(?:grade\s*)?"
    r"(A\*|[A-G]|[1-9])(?:'?s)?(?![\w*:./])",
    re.I,
)
# grades with a quantifier: "mostly Bs", "all 4s", "a D", "one 3", "mainly 5s and 6s".
_QUANTIFIED_GRADE = re.compile(
    r"\b(mostly|mainly|most|all|largely|a|an|one|only one|single|couple of|a few|few|some)"
    r"\s+(?:grade\s*)?(A\*|[A-G]|[1-9])(?:'?s)?(?![\w*])",
    re.I,
)
_PLURAL_GRADE = re.compile(r"(?<![\w*])(A\*|[A-G]|[4-9]|[1-3])'?s(?![\w*])")
_WEIGHTS = {
    "mostly": 5,
    "mainly": 5,
    "most": 5,
    "largely": 5,
    "all": 8,
    "a": 1,
    "an": 1,
    "one": 1,
    "only one": 1,
    "single": 1,
    "couple of": 2,
    "a few": 2,
    "few": 2,
    "some": 2,
}


def judge_gcses(rules: EntryRules, text: str) -> Optional[str]:
    """'met', 'not_met' or 'unsure' for what a message says about someone's GCSEs,
    read as the source words it: a good range at A-C (grade 4 or above). One or
    two low grades among good ones are fine; fewer than five at A-C is left to the
    universities (the rules file's 'good_range' reading). None when it says nothing."""
    value = text or ""
    if _UNSURE.search(value):
        return "unsure"  # "not sure they count as a good range"
    if re.search(r"\b(national 5s?|nat ?5s?|n5s|standard grades?|o[- ]?levels?|igcses?)\b", value, re.I):
        return "equivalent"
    if _GCSE_NOT_MET.search(value):
        return "not_met"
    named = _GRADE_IN_SUBJECTS.search(value)
    if (
        named
        and _grade_is_good(rules, named.group(1)) is not None
        and len(re.split(r",|\band\b|&|\+", named.group(2))) >= 2
        and not (_COUNT_GRADE.search(value) or _PLURAL_GRADE.search(value) or _COUNT_RANGE.search(value))
    ):
        # "C in maths, English, science": a grade for the GCSEs named; fewer than a good
        # range's count is for the universities to judge.
        how_many = len([s for s in re.split(r",|\band\b|&|\+", named.group(2)) if s.strip()])
        if not _grade_is_good(rules, named.group(1)):
            return "not_met" if how_many >= rules.gcse_good_range_count else "unsure"
        return "met" if how_many >= rules.gcse_good_range_count else "unsure"
    spread = _COUNT_RANGE.search(value)
    if spread:
        # "8 GCSEs (grades 9-5)", "7 GCSEs 4-7": how many, and the lowest grade among them.
        how_many = parse_count(spread.group(1)) or 0
        grades = [g for g in (spread.group(2), spread.group(3)) if _grade_is_good(rules, g) is not None]
        if grades:
            lowest_good = all(_grade_is_good(rules, g) for g in grades)
            return "met" if lowest_good and how_many >= rules.gcse_good_range_count else "unsure"
    good = low = 0
    explicit = False
    covered: List[Tuple[int, int]] = []
    for match in _COUNT_GRADE.finditer(value):
        count = parse_count(match.group(1))
        is_good = _grade_is_good(rules, match.group(2))
        if (
            count is None
            or is_good is None
            or (match.group(2).islower() and not re.search(r"\b(at|grade)\b", match.group(0), re.I))
        ):
            continue
        explicit = True
        covered.append(match.span())
        if is_good:
            good += count
        else:
            low += count
    for match in _QUANTIFIED_GRADE.finditer(value):
        if any(s <= match.start() < e for s, e in covered):
            continue
        letter = match.group(2)
        if letter.islower() and not letter.isdigit():
            continue  # "a b" is not a grade B
        is_good = _grade_is_good(rules, letter)
        if is_good is None:
            continue
        covered.append(match.span())
        # IGNORECASE also matches "ſome" or "maınly", which .lower() leaves unlike
        # any key: such a word is no quantifier we know.
        weight = _WEIGHTS.get(match.group(1).lower())
        if weight is None:
            continue
        if is_good:
            good += weight
        else:
            low += weight
    for match in _PLURAL_GRADE.finditer(value):
        if any(s <= match.start() < e for s, e in covered):
            continue
        is_good = _grade_is_good(rules, match.group(1))
        if is_good is None:
            continue
        if is_good:
            good += 3
        else:
            low += 3
    if _GCSE_MET.search(value) and not low:
        return "met"
    if not good and not low:
        single = re.search(r"(?:grade\s*)([1-9]|[A-G])\b", value, re.I)
        if single:
            return "met" if _grade_is_good(rules, single.group(1)) else "not_met"
        return None
    if good > low:
        if explicit and good < rules.gcse_good_range_count:
            return "unsure"
        return "met"
    if low > good:
        return "not_met"
    return "unsure"


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


@dataclass(frozen=True)
class _Mention:
    kind: str  # entity name
    value: Any
    start: int
    end: int


@dataclass(frozen=True)
class _Anchor:
    """A qualification (or degree class) a subject, count or cue can belong to."""

    start: int
    end: int
    role: str  # degree, higher_degree, a_level, gcse, alternative


def _mentions(entities: Iterable[Mapping[str, Any]]) -> List[_Mention]:
    mentions = []
    for index, entity in enumerate(entities):
        start = entity.get("start")
        start = index * 1000 if start is None else int(start)
        end = entity.get("end")
        end = start if end is None else int(end)
        mentions.append(_Mention(entity.get("entity", ""), entity.get("value"), start, end))
    return sorted(mentions, key=lambda m: m.start)


def _negated(text: str, mention: _Mention) -> bool:
    """True when the words just before a mention deny it ("no master's", "I don't have a first")."""
    before = _clause_before(text, mention.start)
    return bool(_NEGATION_BEFORE.search(before)) and not _NOT_A_NEGATION.search(before[-25:])


def _replaced(text: str, mention: _Mention) -> bool:
    return bool(_REPLACED_BEFORE.search(_clause_before(text, mention.start)))


def _clause_before(text: str, position: int, width: int = 30) -> str:
    """The words just before `position`, back to the start of their clause."""
    before = text[max(0, position - width) : position]
    return re.split(r"[.;!?,]|\b(but|and|though|although|because)\b", before)[-1] or ""


@dataclass
class Understanding:
    """What a message says: facts keyed by slot, and whether an answer to the
    question just asked could not be read."""

    facts: Dict[str, Any] = field(default_factory=dict)
    unreadable: bool = False


def facts_from_message(
    rules: EntryRules,
    text: str,
    entities: Iterable[Mapping[str, Any]],
    requested_slot: Optional[str] = None,
    programme: Optional[str] = None,
    profile: Optional[Mapping[str, Any]] = None,
) -> Dict[str, Any]:
    """The profile facts a message states about the person's qualifications, keyed by slot.

    A subject, count or grade belongs to the qualification it is attached to ("2:2 in
    history and an MSc in medical physics", "physics A-level"); with none, to the question
    just asked; otherwise it is not taken as a fact ("the engineering side of hospitals").
    Qualifications that are denied ("no master's") or replaced ("a PGDip instead of the
    MSc") do not count.
    """
    text = text or ""
    mentions = _mentions(entities)
    facts: Dict[str, Any] = {}
    implied_subject: Optional[str] = None
    anchors: List[_Anchor] = []
    higher_seen: List[str] = []
    higher_denied = False
    classes: List[Tuple[_Mention, str]] = []
    singular: List[_Mention] = []
    corrected_from = _correction_point(text)

    programmes = {
        str(m.value).upper()
        for m in mentions
        if m.kind == PROGRAMME and str(m.value).upper() in (STP, PTP) and not _negated(text, m)
    }
    if len(programmes) == 1:
        facts[PROGRAMME] = programmes.pop()

    for m in mentions:
        if m.kind == DEGREE_CLASS:
            class_id = canonical_degree_class(m.value)
            # "First Division" is an Indian or Pakistani grade, not a UK first.
            overseas_grade = re.match(r"\s*division\b", text[m.end :], re.I) and class_id == FIRST
            if class_id and not _negated(text, m) and not overseas_grade:
                classes.append((m, class_id))
        elif m.kind == "qualification":
            qual = canonical_qualification(m.value, rules.qualifications)
            group = rules.qualification_group(qual or "")
            if _replaced(text, m):
                if qual == "a_level":
                    facts[A_LEVEL_COUNT] = 0  # "a T-level instead of A-levels"
                continue
            if _ASKED_ABOUT.search(_clause_before(text, m.start, 40)):
                continue  # "do I need a masters?", "does an integrated masters count?"
            if group == HIGHER_DEGREE and _SAME_DEGREE_BEFORE.search(text[max(0, m.start - 20) : m.start]):
                continue
            # "haven't got my A-level results yet" is no denial; "Masters? Haven't done one" is.
            negated = (_negated(text, m) and not _RESULTS_AFTER.match(text[m.end :])) or bool(
                _DENIED_AFTER.match(text[m.end :])
            )
            if group in (UNDERGRADUATE_HONOURS, NON_HONOURS, "medical"):
                if negated:
                    continue
                anchors.append(_Anchor(m.start, m.end, "degree"))
                facts[DEGREE_TYPE] = qual
                if group == "medical":
                    facts[DEGREE_SUBJECT] = "medicine"
                named = _SUBJECT_OF_DEGREE_NAME.get(text[m.start : m.end].lower().replace(".", ""))
                if re.match(r"\s*\(?(eng|engg)\b", text[m.end :], re.I):
                    named = "engineering"  # "BSc Eng"
                if named:
                    implied_subject = implied_subject or named  # unless a subject is named
            elif group in (HIGHER_DEGREE, NOT_HIGHER_DEGREE):
                if negated:
                    higher_denied = True
                    continue
                # Only a known qualification id has a group.
                assert qual is not None
                higher_seen.append(qual)
                anchors.append(_Anchor(m.start, m.end, HIGHER_DEGREE))
            elif qual in ("a_level", "gcse"):
                anchors.append(_Anchor(m.start, m.end, qual))
                if qual == "a_level" and negated:
                    facts[A_LEVEL_COUNT] = 0
                elif qual == "a_level" and re.fullmatch(r"a[- ]?level", text[m.start : m.end], re.I):
                    singular.append(m)  # "plus A-level Maths": one A-level
            elif group == A_LEVEL_ALTERNATIVE and not negated:
                anchors.append(_Anchor(m.start, m.end, "alternative"))
                facts.setdefault(A_LEVEL_ALTERNATIVES, [])
                if qual not in facts[A_LEVEL_ALTERNATIVES]:
                    facts[A_LEVEL_ALTERNATIVES].append(qual)
            elif group == GCSE_ALTERNATIVE and not negated:
                anchors.append(_Anchor(m.start, m.end, "gcse"))
                facts[GCSE_GRADES] = "equivalent"

    # "I graduated in physics", "a physics graduate": the degree is the anchor.
    for m in mentions:
        if m.kind == "stage" and m.value in ("graduate", "university") and not _negated(text, m):
            anchors.append(_Anchor(m.start, m.end, "degree"))

    # A class belongs to the first degree unless it is the result of a higher one
    # ("a first in my MSc"); after "actually", the corrected one counts.
    for m, class_id in classes:
        if _class_of_higher_degree(text, m, anchors):
            continue
        if (
            corrected_from is not None
            and m.start < corrected_from
            and any(c.start >= corrected_from for c, _ in classes)
        ):
            continue
        facts[DEGREE_CLASS] = class_id
        anchors.append(_Anchor(m.start, m.end, "degree"))
    if higher_seen:
        facts[HIGHER_DEGREE] = min(higher_seen, key=_HIGHER_RANK.index)
    elif higher_denied or _NO_HIGHER.search(text):
        facts[HIGHER_DEGREE] = "none"
    if _NO_DEGREE.search(text) and DEGREE_CLASS not in facts:
        facts[DEGREE_CLASS] = "none"
    if _NO_A_LEVELS.search(text) or _ONLY_AS_LEVEL.search(text):
        facts[A_LEVEL_COUNT] = 0
    grade_list = _A_LEVEL_GRADE_LIST.search(text)
    if grade_list and (any(a.role == "a_level" for a in anchors) or _GRADE_LIST_CONTEXT.search(text)):
        # "AAB in physics, maths and further maths", "predicted A*AB": A-level grades.
        facts[A_LEVEL_GRADES] = grade_list.group(1)
        anchors.append(_Anchor(grade_list.start(1), grade_list.end(1), "a_level"))
    anchors.sort(key=lambda a: a.start)

    a_level_subjects: List[str] = []
    subject_spans: List[Span] = []
    previous: Optional[Tuple[_Mention, Optional[str]]] = None
    denied = {
        str(m.value).strip().lower()
        for m in mentions
        if m.kind == "subject" and (_negated(text, m) or _replaced(text, m))
    }
    for m in mentions:
        if m.kind == "subject":
            subject = str(m.value).strip().lower()
            if subject in denied:
                continue  # "chemistry, not physics"
            role = _role_for(text, m, anchors, requested_slot, programme or facts.get(PROGRAMME))
            if role is None:
                role = _replaced_role(text, denied, profile or {})
            joined = bool(previous and _LIST_JOIN.fullmatch(text[previous[0].end : m.start]))
            if previous and previous[1] and joined:
                role = previous[1]  # "physics, maths and further maths": one list, one qualification
            joint = joined or bool(
                previous and re.fullmatch(r"\s*with\s*", text[previous[0].end : m.start], re.I)
            )
            previous = (m, role)
            if role in ("degree", HIGHER_DEGREE, "a_level"):
                subject_spans.append(Span(m.start, m.end, role, subject))  # "doing mech eng": timed too
            if role == "degree":
                # Joint honours ("maths and physics", "physics with astrophysics"): the
                # subject that counts most is the one to judge; otherwise the first named.
                current = facts.get(DEGREE_SUBJECT)
                if current is None or (
                    joint and _relevance_rank(rules, subject) < _relevance_rank(rules, current)
                ):
                    facts[DEGREE_SUBJECT] = subject
            elif role == HIGHER_DEGREE:
                current = facts.get(HIGHER_DEGREE_SUBJECT)
                if current is None or _relevance_rank(rules, subject) < _relevance_rank(rules, current):
                    facts[HIGHER_DEGREE_SUBJECT] = subject
            elif role == "a_level" and subject not in a_level_subjects:
                a_level_subjects.append(subject)
        elif m.kind == "count":
            if re.match(
                r"\s*((at|x|grade)\s*(grade\s*)?(A\*|[A-G]|[1-9])|(A\*|[A-G]|[1-9])'?s)\b", text[m.end :]
            ):
                continue  # "five at B": a number of GCSEs at a grade
            count = parse_count(m.value)
            role = _role_for(text, m, anchors, requested_slot, programme, prefer_next=True)
            if count is not None and role == "a_level":
                facts[A_LEVEL_COUNT] = count
    if implied_subject:
        facts.setdefault(DEGREE_SUBJECT, implied_subject)  # "an MPhys": physics
    occupation = _OCCUPATION.search(text)
    if occupation and DEGREE_SUBJECT not in facts and not _ALL_SCHOOL.search(text):
        # "I'm a chemical engineer": the branch of engineering the person works in.
        subject = f"{occupation.group('branch').lower()} engineering"
        if rules.subject_category(subject) != "unknown":
            facts[DEGREE_SUBJECT] = subject
    if (
        facts.get(A_LEVEL_ALTERNATIVES)
        and A_LEVEL_COUNT not in facts
        and not any(a.role == "a_level" for a in anchors)
    ):
        # "I'm taking Highers", or "a BTEC" in answer to "how many A-levels?": instead.
        facts[A_LEVEL_COUNT] = 0
    if a_level_subjects and facts.get(A_LEVEL_COUNT) == 0 and not _NO_A_LEVELS.search(text):
        del facts[A_LEVEL_COUNT]  # "didn't take it at A-level; my A-levels are maths, ..."
    if a_level_subjects:
        facts[A_LEVEL_SUBJECTS] = a_level_subjects
        if A_LEVEL_GRADES not in facts:
            # "Physics (A), Chemistry (B)", "Biology B, Chemistry C": a grade after each subject.
            grades = [
                g.group(1)
                for m in mentions
                if m.kind == "subject" and str(m.value).strip().lower() in a_level_subjects
                for g in [_GRADE_AFTER_SUBJECT.match(text[m.end :])]
                if g
            ]
            if len(grades) >= 2:
                facts[A_LEVEL_GRADES] = "".join(grades)
        if A_LEVEL_COUNT not in facts and len(a_level_subjects) >= 2 and _all_named(text):
            facts[A_LEVEL_COUNT] = len(a_level_subjects)
        elif A_LEVEL_COUNT not in facts and len(a_level_subjects) == 1 and singular and _all_named(text):
            facts[A_LEVEL_COUNT] = 1

    gcse_context = any(a.role == "gcse" for a in anchors) or requested_slot == GCSE_GRADES
    if gcse_context and facts.get(GCSE_GRADES) != "equivalent":
        judged = judge_gcses(rules, _gcse_part(text, anchors))
        if judged:
            facts[GCSE_GRADES] = judged

    _status_words(text, [Span(a.start, a.end, a.role) for a in anchors] + subject_spans, facts)
    _origin(text, mentions, anchors, facts, programme)
    return facts


# Degree names that say their subject: an MPhys is in physics.
_SUBJECT_OF_DEGREE_NAME = {
    "mphys": "physics",
    "meng": "engineering",
    "beng": "engineering",
    "mchem": "chemistry",
    "mmath": "mathematics",
    "mmathphys": "mathematical physics",
    "bachelor of engineering": "engineering",
}


def _replaced_role(text: str, denied: set, profile: Mapping[str, Any]) -> Optional[str]:
    """A subject named on its own in a correction takes the place of the one it
    corrects: "it's chemistry, not physics" after "a 2:1 in physics"."""
    for slot, role in ((DEGREE_SUBJECT, "degree"), (HIGHER_DEGREE_SUBJECT, HIGHER_DEGREE)):
        named = profile.get(slot)
        if isinstance(named, str) and named in denied:
            return role
    if _CORRECTION.search(text):
        filled = [
            role
            for slot, role in ((DEGREE_SUBJECT, "degree"), (HIGHER_DEGREE_SUBJECT, HIGHER_DEGREE))
            if profile.get(slot)
        ]
        if len(filled) == 1:
            return filled[0]
    return None


def _all_named(text: str) -> bool:
    """False when the subjects named may be only some of the A-levels ("including")."""
    return not re.search(r"\b(including|incl|inc|such as|e\.g|among|amongst|as well as)\b", text, re.I)


def _gcse_part(text: str, anchors: List[_Anchor]) -> str:
    """The part of a message about GCSEs, so that A-level grades are not read as GCSEs."""
    others = [a for a in anchors if a.role in ("a_level", "alternative", "degree", HIGHER_DEGREE)]
    gcse = [a for a in anchors if a.role == "gcse"]
    if not gcse or not others:
        return text
    start = max([a.end for a in others if a.end <= gcse[0].start] or [0])
    ends = [a.start for a in others if a.start >= gcse[-1].end]
    return text[start : min(ends) if ends else len(text)]


def _correction_point(text: str) -> Optional[int]:
    match = _CORRECTION.search(text or "")
    return match.end() if match else None


def _class_of_higher_degree(text: str, mention: _Mention, anchors: List[_Anchor]) -> bool:
    """'a first in my MSc': the class is the higher degree's result."""
    after = [a for a in anchors if a.start >= mention.end]
    if not after or after[0].role != HIGHER_DEGREE:
        return False
    between = text[mention.end : after[0].start]
    return bool(re.fullmatch(r"\s*(in|for|on|from|with)\s+(my|the|an?|her|his|their)?\s*", between, re.I))


def _status_words(text: str, spans: List[Span], facts: Dict[str, Any]) -> None:
    """'predicted a 2:1', 'finishing my MSc in December', 'thinking about a masters',
    'dropped out of my PhD', 'year 13 taking physics': where each qualification stands
    (careers.timing), as the status facts; a qualification with no such words is held."""
    found = timing.statuses(text, spans)
    gone = set(timing.dropped(text, spans))
    if gone and facts.get(A_LEVEL_SUBJECTS):
        # "dropped chemistry after AS": not one of the A-levels.
        kept = [s for s in facts[A_LEVEL_SUBJECTS] if s not in gone]
        if kept != facts[A_LEVEL_SUBJECTS]:
            if facts.get(A_LEVEL_COUNT) == len(facts[A_LEVEL_SUBJECTS]):
                facts[A_LEVEL_COUNT] = len(kept)
            facts[A_LEVEL_SUBJECTS] = kept
    if found.get("gcse") == IN_PROGRESS and facts.get(GCSE_GRADES) == "not_met":
        facts[GCSE_GRADES] = "unsure"  # a GCSE being resat: the universities will judge the result
    degree = found.get("degree")
    has_degree = (
        facts.get(DEGREE_CLASS) not in (None, "none") or DEGREE_SUBJECT in facts or DEGREE_TYPE in facts
    )
    if degree in (PREDICTED, IN_PROGRESS) and has_degree:
        has_class = facts.get(DEGREE_CLASS) not in (None, "none")
        facts[DEGREE_STATUS] = PREDICTED if has_class else IN_PROGRESS
    elif degree in (PLANNED, ABANDONED) and facts.get(DEGREE_CLASS) is None:
        # A degree not started or not finished is no degree (yet): nothing about it is held.
        for slot in (DEGREE_SUBJECT, DEGREE_TYPE, DEGREE_OVERSEAS):
            facts.pop(slot, None)
        if degree == ABANDONED:
            facts[DEGREE_CLASS] = "none"
    higher = found.get(HIGHER_DEGREE)
    if higher and facts.get(HIGHER_DEGREE) not in (None, "none"):
        status = IN_PROGRESS if higher == PREDICTED else higher
        facts[HIGHER_DEGREE_STATUS] = status
        if status == IN_PROGRESS:
            ends = [timing.ends_of(text, s) for s in spans if s.role == HIGHER_DEGREE]
            if any(ends):
                facts[HIGHER_DEGREE_ENDS] = next(e for e in ends if e)
    # A BTEC, Access course, T-level or Highers being taken are the same stage as A-levels.
    a_levels = found.get("a_level") or found.get("alternative")
    if a_levels in (PREDICTED, IN_PROGRESS, PLANNED):
        facts[A_LEVEL_STATUS] = PLANNED if a_levels == PLANNED else IN_PROGRESS


_DEGREE_WORDS = re.compile(r"\b(degree|uni|university|graduated|graduate|bachelor'?s|college)\b", re.I)


def _origin(
    text: str,
    mentions: List[_Mention],
    anchors: List[_Anchor],
    facts: Dict[str, Any],
    programme: Optional[str],
) -> None:
    """'a 2:1 from Nigeria', 'my degree is from a university in India': a first
    degree from outside the UK ("not the UK" is not an origin)."""
    origins = [m for m in mentions if m.kind == "origin" and not _negated(text, m)]
    degree = [a for a in anchors if a.role == "degree"]
    about_degree = (
        degree
        or facts.get(DEGREE_SUBJECT)
        or (
            _DEGREE_WORDS.search(text)
            and programme != PTP
            and not any(a.role in ("a_level", "gcse", "alternative") for a in anchors)
        )
    )
    if not origins or not about_degree:
        return
    if degree:
        target = degree[0]
        origin = min(origins, key=lambda m: min(abs(m.start - target.end), abs(target.start - m.end)))
        nearest_anchor = min(anchors, key=lambda a: min(abs(origin.start - a.end), abs(a.start - origin.end)))
        before = [a for a in anchors if a.end <= origin.start]
        # "Second class lower in Physics from University of Ghana, then MSc ...": a place
        # after "from" or "at" belongs to the qualification before it.
        from_before = (
            before
            and before[-1].role == "degree"
            and re.fullmatch(
                r"[^.;!?]{0,60}\b(from|at)\b[^.;!?]{0,30}", text[before[-1].end : origin.start], re.I
            )
        )
        if nearest_anchor.role != "degree" and not from_before:
            return
    else:
        origin = origins[0]
    facts[DEGREE_OVERSEAS] = origin.value == "overseas"


_RELEVANCE_ORDER = (
    COMMONLY_ACCEPTED,
    OTHER_SCIENCES,
    NOT_DECIDED_SUBJECT,
    "unknown",
    ANIMAL_PLANT_SCIENCE,
    OUTSIDE_SCIENCE,
    "medical",
)


def _relevance_rank(rules: EntryRules, subject: str) -> int:
    return _RELEVANCE_ORDER.index(rules.subject_category(subject))


def _role_for(
    text: str,
    mention: _Mention,
    anchors: List[_Anchor],
    requested_slot: Optional[str],
    programme: Optional[str],
    prefer_next: bool = False,
) -> Optional[str]:
    """Which qualification a subject or count belongs to, or None when it is not
    attached to any ("the engineering side of hospitals")."""
    before = [a for a in anchors if a.end <= mention.start]
    after = [a for a in anchors if a.start >= mention.end]
    if _NOT_STUDIED_BEFORE.search(text[max(0, mention.start - 25) : mention.start]):
        return None  # "I teach physics": a job, not what they studied
    if mention.kind == "subject" and _NOT_STUDIED_AFTER.match(text[mention.end :]):
        return None  # "lots of engineering modules", "the engineering side"
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
    if (
        before
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
        return "degree"  # "actually my degree is in physics"
    if requested_slot == HIGHER_DEGREE and mention.kind == "subject" and not says_yes(text):
        # "Do you have a higher degree?" "physics": the subject of the degree they have.
        return "degree"
    if requested_slot in _SLOT_ROLES:
        return _SLOT_ROLES[requested_slot]
    if mention.kind == "subject" and (
        _STUDIED_BEFORE.search(text[: mention.start]) or _STUDIED_AFTER.match(text[mention.end :])
    ):
        school = any(a.role in ("a_level", "gcse", "alternative") for a in anchors) or _SCHOOL_YEAR.search(
            text
        )
        return "a_level" if programme == PTP or school else "degree"
    if before:
        return before[-1].role
    return None


def _gap(text: str, start: int, end: int) -> int:
    return len(text[start:end])


def says_yes(text: str) -> bool:
    """A yes in words (or from the Yes button), not only in the classifier's guess."""
    return (text or "").strip() == "/affirm" or (bool(_AFFIRMATION.search(text or "")) and not says_no(text))


def says_no(text: str) -> bool:
    """A no in words (or from the No button)."""
    return (text or "").strip() == "/deny" or bool(_DENIAL.search(text or ""))


def answer_for_requested_slot(
    rules: EntryRules, requested_slot: str, text: str, intent: Optional[str]
) -> Optional[Any]:
    """A value for the slot just asked about, from a reply with no usable entity."""
    text = text or ""
    unsure = bool(_UNSURE.search(text))
    # A yes or no needs the words (or the button) for it: the classifier's guess alone
    # could turn "asdf" into a yes.
    deny = says_no(text)
    affirm = says_yes(text)
    if requested_slot == SCIENCE_A_LEVEL:
        if unsure:
            return "unsure"
        return "yes" if affirm and not deny else "no" if deny else None
    if requested_slot == GCSE_GRADES:
        if unsure:
            return "unsure"
        judged = judge_gcses(rules, text)
        if judged:
            return judged
        return "met" if affirm and not deny else "not_met" if deny else None
    if unsure:
        return None
    if requested_slot == HIGHER_DEGREE:
        if deny or _NO_HIGHER.search(text) or re.search(r"\bnothing (else|more|further)\b", text, re.I):
            return "none"
        qualification = canonical_qualification(text, rules.qualifications)
        if qualification and rules.qualification_group(qualification) in (HIGHER_DEGREE, NOT_HIGHER_DEGREE):
            return qualification
        return None  # a bare "yes" does not say which: the hint asks
    if requested_slot == A_LEVEL_COUNT:
        if deny:
            return 0
        # "five at B and three at A" counts GCSEs at grades, not A-levels.
        return parse_count(_COUNT_GRADE.sub(" ", text))
    if requested_slot == DEGREE_CLASS:
        if deny:
            return "none"
        return canonical_degree_class(text)
    if requested_slot == PROGRAMME:
        return programme_from_answer(text)
    if requested_slot in _SUBJECT_SLOTS:
        if deny:
            return "none"
        return clean_subject(text)
    return None


_GRADUATE = re.compile(
    r"\b(graduate|graduated|grad|degree|stp|scientist|postgrad\w*|bachelor'?s|finished uni"
    r"|at uni|university|masters?)\b",
    re.I,
)
_SCHOOL = re.compile(
    r"\b(ptp|practitioner|school|sixth form|6th form|college|year ?1[0-3]|yr ?1[0-3]|gcses?"
    r"|a[- ]?levels?|undergrad\w*|teen|16|17|18)\b",
    re.I,
)


def programme_from_answer(text: str) -> Optional[str]:
    """'the STP', 'I'm a graduate', 'still at school', 'undergraduate' -> STP or PTP."""
    upper = (text or "").upper()
    if STP in upper and PTP not in upper:
        return STP
    if PTP in upper and STP not in upper:
        return PTP
    school, graduate = _SCHOOL.search(text or ""), _GRADUATE.search(text or "")
    if school and not graduate:
        return PTP
    if graduate and not school:
        return STP
    return None


_NOT_A_DEGREE = ("hnd", "hnc", "foundation_degree")
# (a dot inside "B.Sc. (Physics)" is no sentence's end)
_FROM_PLACE = r"(?:[^.;!?]|\.(?=\S|\s*\())){0,60}\b(from|at)\b[^.;!?]{0,30}"
# Stages of life that say which programme someone means.
_STAGE_PROGRAMMES = {"graduate": STP, "university": STP, "school": PTP}


def programme_implied_by(facts: Mapping[str, Any], stages: Iterable[str] = ()) -> Optional[str]:
    """A degree points to the graduate STP; school qualifications alone to the PTP. An HND,
    HNC or foundation degree alone points to neither: the person may mean either route."""
    degree_facts = facts.keys() & {DEGREE_CLASS, DEGREE_SUBJECT, HIGHER_DEGREE, DEGREE_TYPE}
    if degree_facts and not (
        degree_facts <= {DEGREE_TYPE, DEGREE_SUBJECT} and facts.get(DEGREE_TYPE) in _NOT_A_DEGREE
    ):
        return STP
    if facts.keys() & {GCSE_GRADES, A_LEVEL_COUNT, A_LEVEL_SUBJECTS, A_LEVEL_ALTERNATIVES}:
        return PTP
    implied = {_STAGE_PROGRAMMES[s] for s in stages if s in _STAGE_PROGRAMMES}
    return implied.pop() if len(implied) == 1 else None


def understand(
    rules: EntryRules,
    text: str,
    entities: Iterable[Mapping[str, Any]],
    intent: Optional[str],
    asked: Optional[str] = None,
    programme: Optional[str] = None,
    profile: Optional[Mapping[str, Any]] = None,
) -> Understanding:
    """The facts a message gives, in the light of the question just asked (`asked`,
    a slot name, or None outside a check) and the programme being checked.

    Questions about the rules give no facts ("is a BTEC ok instead of A-levels?");
    statements and answers do. An answer to `asked` that cannot be read is flagged
    `unreadable`, so that the check can say so instead of guessing."""
    entities = list(entities)
    if intent not in FACT_INTENTS and asked is None:
        # A question outside a check gives the facts it tells about someone ("I have a 2:2
        # in physics, is that enough?"), not the ones it only asks about ("does a PGCert
        # count?").
        told = told_part(text)
        if not told.strip():
            return Understanding()
        entities = [e for e in entities if _inside(told, e)]
        text, intent = told, INFORM_INTENT
    programme = programme or (profile or {}).get(PROGRAMME)
    facts = facts_from_message(rules, text, entities, asked, programme, profile)
    stages = [str(e.get("value")) for e in entities if e.get("entity") == "stage"]
    answering = asked is not None and intent in ANSWER_INTENTS
    if intent not in FACT_INTENTS:
        # A question, but a bare answer ("clinical engineering") still answers the
        # question asked, whatever topic it sounds like.
        if asked in facts and _mostly_entities(text, entities):
            return Understanding({asked: facts[asked]})
        return Understanding()
    if not programme and PROGRAMME not in facts:
        implied = programme_implied_by(facts, stages)
        if implied:
            facts[PROGRAMME] = implied
    if answering and asked is not None and asked not in facts:
        value = answer_for_requested_slot(rules, asked, text, intent)
        if value == "none" and asked == HIGHER_DEGREE_SUBJECT:
            # "she doesn't have one": no higher degree after all.
            facts[HIGHER_DEGREE] = "none"
        elif value == "none" and asked in _SUBJECT_SLOTS:
            return Understanding(facts, unreadable=True)
        elif value is not None:
            facts[asked] = value
        elif not (facts.keys() - {PROGRAMME}):
            return Understanding(facts, unreadable=True)
    if facts.get(A_LEVEL_SUBJECTS) and SCIENCE_A_LEVEL not in facts:
        status = science_a_level_status(rules, facts)
        if status:
            facts[SCIENCE_A_LEVEL] = status
    return Understanding(facts)


_SUPPOSING = re.compile(r"(^|[,;:(]\s*|\s)(what if|if|suppose|supposing|imagine|assuming|say)\b", re.I)
# Where the question in a piece of a message starts: at its start, or after a comma.
_ASKING_STARTS = re.compile(
    r"(^\W*|[,:(]\s*)(?=(is|are|am|was|can|could|would|will|should|does|do|did|what|whats|what's|how"
    r"|which|where|when|who|why|any chance|tell me|eligible)\b)",
    re.I,
)
# Words that make a question about someone in particular: "can I...", "my son has...".
_PERSONAL = re.compile(
    r"\b(i|i'm|im|i've|ive|i'd|i'll|my|me|mine|we|our|he|she|his|her|him|he's|she's|hes|shes"
    r"|they|their|them|son|daughter|child|kid|student|pupil|client|learner|friend|mate|brother"
    r"|sister|wife|husband|partner|nephew|niece|stepson|stepdaughter|grandson|granddaughter)\b",
    re.I,
)


def told_part(text: str) -> str:
    """The message with the questions that tell nothing about anyone blanked out (the same
    length, so entity offsets still hold): "I got a 2:2. Does a PGCert count?" keeps the
    first sentence; "got a 2:1 in physics, is that ok?" keeps the part before the
    question; "can I apply with my 2:2?" is kept whole."""
    pieces = re.split(r"(?<=[.?!;\n])|(?<= [-–—] )", text or "")
    kept = []
    for piece in pieces:
        if "?" in piece:
            # "what if I had a 2:1?", "I have a 2:2, what if I do a masters?": supposed, not told.
            supposed = _SUPPOSING.search(piece)
            cut = supposed.start() if supposed else len(piece)
            if not _PERSONAL.search(piece[:cut]):
                start = _ASKING_STARTS.search(piece[:cut])
                cut = start.start() if start else cut
            piece = piece[:cut] + " " * (len(piece) - cut)
        kept.append(piece)
    return "".join(kept)


def _inside(told: str, entity: Mapping[str, Any]) -> bool:
    start, end = entity.get("start"), entity.get("end")
    if not isinstance(start, int) or not isinstance(end, int):
        return True
    return bool(told[start:end].strip())


_QUESTION_START = re.compile(
    r"^\W*(what|whats|what's|how|can|could|do|does|did|is|isn't|are|was|will|would|should"
    r"|which|where|when|who|why|am|any|shall|may|might|must|has|have|tell me)\b",
    re.I,
)


def is_question(text: str) -> bool:
    """A message that asks something rather than states something."""
    return "?" in (text or "") or bool(_QUESTION_START.match(text or ""))


def _mostly_entities(text: str, entities: List[Mapping[str, Any]]) -> bool:
    """True when the recognised entities make up most of a short message."""
    letters = sum(c.isalnum() for c in text or "")
    covered = sum(
        sum(c.isalnum() for c in (text or "")[e["start"] : e["end"]])
        for e in entities
        if isinstance(e.get("start"), int) and isinstance(e.get("end"), int)
    )
    return letters > 0 and covered / letters >= 0.6


def apply_facts(profile: Mapping[str, Any], facts: Mapping[str, Any]) -> Dict[str, Any]:
    """The slot changes that new facts make to a profile, including the facts they
    make stale: no higher degree has no subject, a different qualification is no
    longer 'in progress' unless the message says so."""
    changes = dict(facts)
    if facts.get(HIGHER_DEGREE) == "none":
        for slot in (HIGHER_DEGREE_SUBJECT, HIGHER_DEGREE_STATUS, HIGHER_DEGREE_ENDS):
            changes.setdefault(slot, None)
    elif HIGHER_DEGREE in facts and facts[HIGHER_DEGREE] != profile.get(HIGHER_DEGREE):
        changes.setdefault(HIGHER_DEGREE_STATUS, None)
        changes.setdefault(HIGHER_DEGREE_ENDS, None)
    if facts.get(DEGREE_CLASS) == "none":
        for slot in (DEGREE_SUBJECT, DEGREE_STATUS, DEGREE_TYPE, DEGREE_OVERSEAS):
            changes.setdefault(slot, None)
    if (
        DEGREE_CLASS in facts
        and facts.get(DEGREE_CLASS) != "none"
        and profile.get(DEGREE_TYPE) in ("ordinary_degree", "hnd", "hnc", "foundation_degree")
        and DEGREE_TYPE not in facts
    ):
        changes[DEGREE_TYPE] = None
    # Facts said again are kept (they still answer); clearing what is not there is noise.
    return {k: v for k, v in changes.items() if v is not None or profile.get(k) is not None}


# A statement this short in a check is an attempt at an answer, whatever it sounded like.
SHORT_ANSWER_WORDS = 3


def read_message(
    rules: EntryRules,
    text: str,
    entities: Iterable[Mapping[str, Any]],
    intent: Optional[str],
    asked: Optional[str] = None,
    profile: Optional[Mapping[str, Any]] = None,
    in_check: bool = False,
    after_verdict: bool = False,
) -> Understanding:
    """The facts of a message in a conversation: what `understand` reads, given where
    the conversation is (`in_check`, with the question `asked`; `after_verdict`).

    A follow-up in a check or after a verdict ("and if I had a 2:1?") changes a fact.
    A statement that sounds like a question on a topic ("I'm doing an Access to HE
    diploma, not A-levels") answers the check's question, or outside one tells us about
    the person: its facts are taken if it gives any. In a check, a word or two
    ("banana") is an attempt at an answer, even one that cannot be read."""
    entities = list(entities)
    if intent == FOLLOW_UP_INTENT and (in_check or after_verdict):
        intent = INFORM_INTENT
    understood = understand(rules, text, entities, intent, asked, profile=profile)
    sounded_like_a_question = set(rules.topics) | {NOT_COVERED_INTENT, FOLLOW_UP_INTENT, OUT_OF_SCOPE_INTENT}
    if intent in sounded_like_a_question and not is_question(text):
        as_answer = understand(rules, text, entities, INFORM_INTENT, asked, profile=profile)
        short = in_check and len(text.split()) <= SHORT_ANSWER_WORDS
        if (as_answer.facts and not as_answer.unreadable) or (short and as_answer.unreadable):
            return as_answer
    return understood
