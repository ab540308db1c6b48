"""Qualifications and grades as people write them: degree classes ("2.1", "two-one",
"Second Class Upper"), qualification names ("MSc", "PG cert"), counts ("two", "3"), GCSE
answers read as the source words them (a good range at A-C), and A-level grade lists
("AAB", "A*AB"). Pure Python, no Rasa import.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, List, Optional, Sequence, Tuple

from careers.rules_file import GCSE_LETTERS, EntryRules
from careers.vocabulary import (
    EQUIVALENT,
    FIRST,
    LOWER_SECOND,
    MET,
    NONE_HELD,
    NOT_MET,
    THIRD,
    UNSURE,
    UPPER_SECOND,
)
from dialogue.denials import _NO_DEGREE, _UNSURE

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


# A-level grades in a row ("AAB", "A*AB", "BCC"), in capitals as people write them.
_A_LEVEL_GRADE_LIST = re.compile(
    r"(?<![\w*])((?:A\*|[A-E]){3,5}|A\*(?:A\*|[A-E]){1,4}|(?:A\*|[A-E])A\*)(?![\w*])"
    r"|(?<=\()((?:A\*|[A-E]){2})(?=\))"  # two grades in brackets: "physics and chemistry (BB)"
)


_GRADE_LIST_CONTEXT = re.compile(
    r"\b(predicted|got|achieved|get|getting|results?|grades?|sixth form|year 1[23]|yr 1[23]|ucas)\b", re.I
)


# A grade named after its subject: "Physics (A)", "Biology B", "physics, grade B",
# "Electronics A-level (A)".
_GRADE_AFTER_SUBJECT = re.compile(
    r"\s*(?:A[- ]?level\s*)?[(:\-–,]?\s*(?:grade\s+)?(A\*|[A-E])(?![\w*\-])(?!\s*levels?\b)\)?"
)

# A grade named just before its subject: "a B in A-level maths", "got an A* in maths".
_GRADE_BEFORE_SUBJECT = re.compile(
    r"\b(?:an?|got|with|grade)\s+(A\*|[A-E])\s+in\s+(?:A[- ]?level\s+|my\s+)?$"
)

# A grade before each subject in a list: "A in Physics and B in Maths". Capitals only, so
# that "a in" is never read as a grade.
_EACH_GRADE_BEFORE = re.compile(r"(?:^|[\s,(\-–:])(A\*|[A-E])\s+in\s+(?:A[- ]?level\s+|my\s+)?$")

_GRADE_ORDER = ("A*", "A", "B", "C", "D", "E")
_LETTER_GRADE = re.compile(r"A\*|[A-E]")

# A grade for each A-level, in brackets after the list: "(A, A, B)".
_BRACKETED_GRADES = re.compile(r"\(\s*(?:A\*|[A-E])(?:\s*(?:,|and|&)\s*(?:A\*|[A-E]))+\s*\)")
# One grade for every A-level named: "(all grade B)", "both Cs".
_SHARED_GRADE = re.compile(
    r"\b(?i:all|both)\s+(?i:at\s+)?(?i:grade\s+)?(A\*|[A-E])(?:'?s)?(?![\w*])(?![\s-]*(?i:levels?)\b)"
)


def best_first(grades: str) -> bool:
    """True when a run of letter grades is listed best first, as people list A-level
    grades ("A*AB", "BCC"); "ACCA" (an accountancy body) is not a list of grades."""
    ranks = [_GRADE_ORDER.index(g) for g in _LETTER_GRADE.findall(grades)]
    return all(a <= b for a, b in zip(ranks, ranks[1:], strict=False))


def grades_of_subjects(
    text: str, subjects: Sequence[Tuple[int, int]], how_many: int, count: Optional[int]
) -> Optional[str]:
    """The A-level grades a message gives subject by subject, listed best first, or None.
    `subjects` are where the A-level subjects are named, `how_many` how many different
    ones, `count` the number of A-levels said, if any."""
    # "Physics (A), Chemistry (B)", "Biology B, Chemistry C": a grade after each subject.
    grades = [g.group(1) for start, end in subjects for g in [_GRADE_AFTER_SUBJECT.match(text[end:])] if g]
    bracketed = _BRACKETED_GRADES.search(text)
    listed = _LETTER_GRADE.findall(bracketed.group(0)) if bracketed else []
    if len(listed) == how_many > len(grades):
        grades = listed  # "History, English Literature and French (A, A, B)"
    if len(subjects) >= 2 and len(grades) < 2:
        before_each = [_EACH_GRADE_BEFORE.search(text[max(0, start - 20) : start]) for start, _ in subjects]
        if sum(1 for m in before_each if m) >= 2:
            grades = [m.group(1) for m in before_each if m]  # "A in Physics and B in Maths"
    if len(grades) >= 2 or (grades and (len(grades) == how_many or count == 1)):
        # "one A-level (physics, grade B)"; listed best first, as people list them
        return "".join(sorted(grades, key=_GRADE_ORDER.index))
    shared = _SHARED_GRADE.search(text)
    if shared and how_many >= 2:
        return shared.group(1) * how_many  # "Art, Drama and Media Studies (all grade B)", "both Cs"
    if how_many == 1 and subjects:
        before = _GRADE_BEFORE_SUBJECT.search(text[: subjects[0][0]])
        if before:
            return before.group(1)  # "a B in A-level maths"
    return None


def canonical_degree_class(text: Any) -> Optional[str]:
    """'2.1', 'upper second', 'first class', 'upper_second' -> a degree-class id."""
    value = str(text or "").strip().lower()
    if value in {FIRST, UPPER_SECOND, LOWER_SECOND, THIRD, NONE_HELD}:
        return value
    if _NO_DEGREE.search(value) or value == "no degree":
        return NONE_HELD
    for class_id, pattern in _CLASS_PATTERNS:
        if re.search(pattern, value):
            return class_id
    return None


def canonical_qualification(text: Any, known: Iterable[str] = ()) -> Optional[str]:
    """'MSc', 'PG cert', 'integrated masters' -> a qualification id; NONE_HELD stays."""
    value = str(text or "").strip().lower()
    if value in set(known) or value == NONE_HELD:
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


# GCSE subjects, then the grade they share: "maths and English at C", "gcse maths and
# english grade 5".
_GCSE_SUBJECT = (
    r"(?:maths|math|mathematics|english(?: language| lang| literature| lit)?"
    r"|(?:double |combined |triple )?science|physics|chemistry|biology)"
)
_SUBJECTS_AT_GRADE = re.compile(
    rf"\b({_GCSE_SUBJECT}(?:\s*(?:,|and|&|\+)\s*{_GCSE_SUBJECT})*)\s*(?:[:(-]\s*)?(?:at|both|all)?\s*(?:grades?\s*)?"
    r"(A\*|[A-G]|[1-9])(?![\w*])",
    re.I,
)


# Every GCSE in a range of grades: "all my GCSEs were 7-9", "GCSEs: 9-6".
_ALL_IN_RANGE = re.compile(
    r"\b(?:all\s+(?:my\s+|his\s+|her\s+)?gcses?\s+(?:were|are|at|between)?|gcses?\s*:)\s*(?:grades?\s*)?"
    r"([1-9]|A\*|[A-G])\s*(?:-|to|–)\s*([1-9]|A\*|[A-G])(?![\w*])",
    re.I,
)


# A grade and the subjects it is for: "C in maths and English", "a 4 in english".
_GRADE_FOR_SUBJECTS = re.compile(
    r"(?<![\w*])(A\*|[A-G]|[1-9])'?s?\s+in\s+"
    r"((?:maths|math|english|science|double science|[a-z]+)(?:\s+(?:language|literature|lit))?"
    r"(?:\s*(?:,|\band\b|&)\s*(?:maths|math|english|science|double science|[a-z]+)"
    r"(?:\s+(?:language|literature|lit))?){0,4})",
    re.I,
)


# (count) GCSEs (range): "8 GCSEs (grades 9-5)", "7 GCSEs 4-7".
_COUNT_RANGE = re.compile(
    _NUMBER + r"\s+(?:gcses?|passes)\s*[(:,]?\s*(?:at\s+)?(?:grades?\s*)?"
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


_GRADE_AFTER_WORD = re.compile(r"(?<=[a-z] )((?:A\*|[A-G]){1,2})(?![\w*'])")
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
    """MET, NOT_MET or UNSURE for what a message says about someone's GCSEs,
    read as the source words it: a good range at A-C (grade 4 or above). One or
    two low grades among good ones are fine; fewer than five at A-C is left to the
    universities (the rules file's 'good_range' reading). None when it says nothing."""
    value = text or ""
    if _UNSURE.search(value):
        return UNSURE  # "not sure they count as a good range"
    if re.search(r"\b(national 5s?|nat ?5s?|n5s|standard grades?|o[- ]?levels?|igcses?)\b", value, re.I):
        return EQUIVALENT
    failed = bool(_GCSE_NOT_MET.search(value))
    if failed and not re.search(r"(?<![\w*])([4-9]|A\*|[A-C])(?![\w*])", value):
        return NOT_MET  # "I failed most of them", with no grade at A-C named
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
            return NOT_MET if how_many >= rules.gcse_good_range_count else UNSURE
        return MET if how_many >= rules.gcse_good_range_count else UNSURE
    listed = _SUBJECTS_AT_GRADE.search(value)
    if (
        listed
        and _grade_is_good(rules, listed.group(2)) is not None
        and not (_COUNT_GRADE.search(value) or _PLURAL_GRADE.search(value) or _COUNT_RANGE.search(value))
        and not re.search(_NUMBER + r"\s+(gcses?|passes)\b", value, re.I)
    ):
        # "maths and English at C": too few named to be a good range on their own.
        how_many = len(re.findall(_GCSE_SUBJECT, listed.group(1), re.I))
        if not _grade_is_good(rules, listed.group(2)):
            return NOT_MET if how_many >= rules.gcse_good_range_count else UNSURE
        return MET if how_many >= rules.gcse_good_range_count else UNSURE
    spread = _COUNT_RANGE.search(value)
    if spread:
        # "8 GCSEs (grades 9-5)", "7 GCSEs 4-7": how many, and the lowest grade among them.
        how_many = parse_count(spread.group(1)) or 0
        grades = [g for g in (spread.group(2), spread.group(3)) if _grade_is_good(rules, g) is not None]
        if grades:
            lowest_good = all(_grade_is_good(rules, g) for g in grades)
            return MET if lowest_good and how_many >= rules.gcse_good_range_count else UNSURE
    whole = _ALL_IN_RANGE.search(value)
    if whole and all(_grade_is_good(rules, g) is not None for g in whole.groups()):
        # "all my GCSEs were 7-9": every one in the range; a range reaching below C is
        # for the universities to judge.
        return MET if all(_grade_is_good(rules, g) for g in whole.groups()) else UNSURE
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
        covered.append(match.span())
    for match in _GRADE_AFTER_WORD.finditer(value):
        # "English C, Maths D, double science CC": a grade (or two) after each subject.
        if any(s <= match.start() < e for s, e in covered):
            continue
        explicit = True  # as good as counted: fewer than a good range's count stays open
        for letter in re.findall(r"A\*|[A-G]", match.group(1)):
            if _grade_is_good(rules, letter):
                good += 1
            else:
                low += 1
    for match in _GRADE_FOR_SUBJECTS.finditer(value):
        # "C in maths and English, and two Ds", "only got a 4 in english": a grade for
        # each subject named.
        if any(s <= match.start() < e for s, e in covered) or _grade_is_good(rules, match.group(1)) is None:
            continue
        if match.group(1).islower():
            continue  # "a in maths" is no grade
        subjects_named = len(re.split(r"\s*(?:,|\band\b|&)\s*", match.group(2).strip()))
        covered.append(match.span())
        if _grade_is_good(rules, match.group(1)):
            good += subjects_named
        else:
            low += subjects_named
    if failed:
        # "failed most, only got a 4 in english": some at A-C, fewer than a good range's
        # count, is for the universities to judge (good_range).
        return UNSURE if good else NOT_MET
    if _GCSE_MET.search(value) and not low:
        return MET
    if not good and not low:
        single = re.search(r"(?:grade\s*)([1-9]|[A-G])\b", value, re.I)
        if single:
            return MET if _grade_is_good(rules, single.group(1)) else NOT_MET
        return None
    if good > low:
        if explicit and good < rules.gcse_good_range_count:
            return UNSURE
        return MET
    if low > good:
        # Mostly below C: not a good range, unless some are at A-C, when fewer than a good
        # range's count is for the universities to judge (the rules file's good_range).
        return NOT_MET if not good else UNSURE
    return UNSURE
