"""Language helpers: turn what people write into the engine's canonical facts.

Pure Python, no Rasa import. The NLU pipeline already gives canonical entity
values ("upper_second", "msc", "mechanical engineering"); these helpers cover
free-text answers, button payloads, and working out which degree a subject or
a "predicted" belongs to in a message with several facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, List, Mapping, Optional

from actions.rules_file import GCSE_LETTERS, EntryRules

_CLASS_PATTERNS = [
    ("first", r"\b(first|1st|1:1)(\s*-?\s*class)?\b|\bfirsts\b"),
    ("upper_second", r"\b2\s*[:.\-/ ]?\s*(1|i)\b|\bupper\s*(second|2nd)\b|\btwo[ -]one\b"),
    ("lower_second", r"\b2\s*[:.\-/ ]?\s*(2|ii)\b|\blower\s*(second|2nd)\b|\btwo[ -]two\b"),
    ("third", r"\b(third|3rd)(\s*-?\s*class)?\b"),
    ("none", r"\bno degree\b|\bnot got a degree\b|\bhaven'?t got a degree\b|\bno\b"),
]
_QUALIFICATION_PATTERNS = [
    ("integrated_masters", r"\bintegrated\s+master|\bm(eng|phys|sci|chem|math)\b"),
    ("pgdip", r"\bp(ost)?\s*-?\s*g(rad(uate)?)?\s*dip"),
    ("pgcert", r"\bp(ost)?\s*-?\s*g(rad(uate)?)?\s*cert|\bpgce\b"),
    ("mres", r"\bm\.?\s?res\b|\bresearch master"),
    ("mphil", r"\bm\.?\s?phil\b"),
    ("phd", r"\bph\.?\s?d\b|\bd\.?phil\b|\bdoctorate\b|\beng\.?d\b"),
    ("msc", r"\bm\.?\s?sc\b|\bmasters?\b|\bmaster'?s\b|\bm\.?a\b"),
    ("medical_degree", r"\bmbbs\b|\bmb\s?ch\s?b\b|\bmedical degree\b"),
    ("none", r"\bnone\b|\bno\b|\bnope\b|\bneither\b|\bnot\b"),
]
_NUMBER_WORDS = {
    "no": 0, "none": 0, "zero": 0, "one": 1, "a single": 1, "two": 2, "a couple": 2,
    "three": 3, "four": 4, "five": 5, "six": 6,
}
_PREDICTED = re.compile(
    r"\b(predicted|expect(ing|ed)?|on track|final year|graduat(e|ing) (this|next)"
    r"|still (at uni|at university|studying|waiting)|due to (finish|graduate)"
    r"|going to get|should get|will get|hoping for)\b",
    re.IGNORECASE,
)
_IN_PROGRESS = re.compile(
    r"\b(doing|studying|currently|halfway|finishing|will finish|in progress|started"
    r"|starting|part[- ]time|working towards|predicted|expect(ing|ed)?)\b",
    re.IGNORECASE,
)
_UNSURE = re.compile(r"\b(not sure|unsure|don'?t know|no idea|maybe|possibly)\b", re.I)
_SUBJECT_NOISE = re.compile(
    r"^(it'?s|it is|it was|i did|i studied|i study|i'm doing|doing|in|a|an|the|my|"
    r"degree|bsc|ba|beng|msc|subject|(\w+ )?degree in|studied|was in)\s+",
    re.IGNORECASE,
)

# Which qualification is worth more when someone names two of the same kind.
_HIGHER_RANK = ("phd", "mphil", "mres", "msc", "ma", "pgdip", "pgcert")
_SUBJECT_SLOTS = {"degree_subject", "higher_degree_subject"}


def canonical_degree_class(text: Any) -> Optional[str]:
    """'2.1', 'upper second', 'first class', 'upper_second' -> a degree-class id."""
    value = str(text or "").strip().lower()
    if value in {"first", "upper_second", "lower_second", "third", "none"}:
        return value
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


def lowest_gcse_grade(text: Any) -> Optional[str]:
    """The lowest grade in 'grade 4s', '9-4', 'A*-C', 'mostly Bs' ('4', 'C', 'B')."""
    value = str(text or "").strip()
    numbers = [int(n) for n in re.findall(r"(?<![\d.:])([1-9])(?![\d.:])", value)]
    if numbers:
        return str(min(numbers))
    # Capitals only, so that the article "a" is not read as grade A.
    letters = re.findall(r"(?<![A-Za-z])(A\*|[A-G]|U)(?:'?s)?(?![A-Za-z])", value)
    letters = [l for l in letters if l in GCSE_LETTERS]
    if letters:
        return max(letters, key=GCSE_LETTERS.index)
    return None


def clean_subject(text: Any) -> Optional[str]:
    """A free-text subject answer as a lower-case subject name, or None if empty."""
    value = re.sub(r"[^\w&'\- ]", " ", str(text or "")).strip().lower()
    value = re.sub(r"\s+", " ", value)
    previous = None
    while previous != value:
        previous, value = value, _SUBJECT_NOISE.sub("", value).strip()
    if not value or len(value) > 60:
        return None
    return value


@dataclass(frozen=True)
class _Mention:
    kind: str  # entity name
    value: Any
    start: int
    end: int


def _mentions(entities: Iterable[Mapping[str, Any]]) -> List[_Mention]:
    mentions = []
    for index, entity in enumerate(entities):
        start = entity.get("start")
        start = index * 1000 if start is None else int(start)
        end = entity.get("end")
        end = start if end is None else int(end)
        mentions.append(_Mention(entity.get("entity", ""), entity.get("value"), start, end))
    return sorted(mentions, key=lambda m: m.start)


def facts_from_message(
    rules: EntryRules,
    text: str,
    entities: Iterable[Mapping[str, Any]],
    requested_slot: Optional[str] = None,
    programme: Optional[str] = None,
) -> Dict[str, Any]:
    """The profile facts a message states, keyed by slot name.

    A subject belongs to the nearest degree mentioned before it ("2:2 in history
    and an MSc in medical physics"); with no degree before it, to the next one;
    with none at all, to the slot the assistant just asked for.
    """
    mentions = _mentions(entities)
    facts: Dict[str, Any] = {}
    anchors: List[tuple] = []  # (position, role)
    higher_seen: List[str] = []

    for m in mentions:
        if m.kind == "programme" and str(m.value).upper() in ("STP", "PTP"):
            facts["programme"] = str(m.value).upper()
        elif m.kind == "degree_class":
            class_id = canonical_degree_class(m.value)
            if class_id:
                facts["degree_class"] = class_id
                anchors.append((m.start, m.end, "degree"))
        elif m.kind == "qualification":
            qual = canonical_qualification(m.value, rules.qualifications)
            group = rules.qualification_group(qual or "")
            if group in ("undergraduate_honours", "medical"):
                anchors.append((m.start, m.end, "degree"))
                if group == "medical":
                    facts["degree_subject"] = "medicine"
            elif group in ("higher_degree", "not_higher_degree"):
                higher_seen.append(qual)
                anchors.append((m.start, m.end, "higher_degree"))
            elif qual in ("a_level", "gcse"):
                anchors.append((m.start, m.end, qual))

    if higher_seen:
        facts["higher_degree"] = min(higher_seen, key=_HIGHER_RANK.index)

    a_level_subjects: List[str] = []
    for m in mentions:
        if m.kind == "subject":
            subject = str(m.value).strip().lower()
            role = _role_for(m, anchors, requested_slot, programme)
            if role == "degree":
                # Joint honours: the subject that counts most is the one to judge.
                current = facts.get("degree_subject")
                if current is None or _relevance_rank(rules, subject) < _relevance_rank(
                    rules, current
                ):
                    facts["degree_subject"] = subject
            elif role == "higher_degree":
                facts["higher_degree_subject"] = subject
            elif role == "a_level":
                a_level_subjects.append(subject)
        elif m.kind == "count":
            count = parse_count(m.value)
            role = _role_for(m, anchors, requested_slot, programme, prefer_next=True)
            if count is not None and (role == "a_level" or requested_slot == "a_level_count"):
                facts["a_level_count"] = count
        elif m.kind == "grade":
            role = _role_for(m, anchors, requested_slot, programme)
            grade = lowest_gcse_grade(m.value)
            if grade and (role == "gcse" or requested_slot == "gcse_grades"):
                facts["gcse_grades"] = grade
    if a_level_subjects:
        facts["a_level_subjects"] = a_level_subjects

    status_word = _PREDICTED.search(text or "")
    if status_word and anchors:
        role = _nearest(status_word.start(), anchors)
        if role == "degree":
            facts["degree_predicted"] = True
    progress_word = _IN_PROGRESS.search(text or "")
    if progress_word and "higher_degree" in facts:
        if _nearest(progress_word.start(), anchors) == "higher_degree":
            facts["higher_degree_in_progress"] = True
    return facts


_RELEVANCE_ORDER = (
    "commonly_accepted", "other_sciences", "unknown", "not_generally_accepted",
    "not_science", "medical",
)


def _relevance_rank(rules: EntryRules, subject: str) -> int:
    return _RELEVANCE_ORDER.index(rules.subject_category(subject))


def _nearest(position: int, anchors: List[tuple]) -> Optional[str]:
    def distance(anchor: tuple) -> int:
        start, end, _ = anchor
        return 0 if start <= position <= end else min(abs(position - start), abs(position - end))

    return min(anchors, key=distance)[2] if anchors else None


def _role_for(
    mention: _Mention,
    anchors: List[tuple],
    requested_slot: Optional[str],
    programme: Optional[str],
    prefer_next: bool = False,
) -> Optional[str]:
    """Which qualification a subject, count or grade belongs to."""
    before = [a for a in anchors if a[1] <= mention.start]
    after = [a for a in anchors if a[0] >= mention.end]
    if prefer_next and after and after[0][0] - mention.end <= 12:
        return after[0][2]
    if before:
        return before[-1][2]
    if after:
        return after[0][2]
    slot_roles = {
        "degree_subject": "degree",
        "higher_degree_subject": "higher_degree",
        "science_a_level": "a_level",
        "a_level_count": "a_level",
        "gcse_grades": "gcse",
    }
    if requested_slot in slot_roles:
        return slot_roles[requested_slot]
    if mention.kind == "subject":
        return "a_level" if programme == "PTP" else "degree"
    return None


def answer_for_requested_slot(
    rules: EntryRules, requested_slot: str, text: str, intent: Optional[str]
) -> Optional[Any]:
    """A value for the slot just asked about, from a reply with no usable entity."""
    if requested_slot == "science_a_level" and _UNSURE.search(text or ""):
        return "unsure"
    if intent == "affirm":
        return {"gcse_grades": "met", "science_a_level": "yes"}.get(requested_slot)
    if intent == "deny":
        return {
            "gcse_grades": "not_met",
            "science_a_level": "no",
            "higher_degree": "none",
            "a_level_count": 0,
        }.get(requested_slot)
    if requested_slot == "degree_class":
        return canonical_degree_class(text)
    if requested_slot == "higher_degree":
        return canonical_qualification(text, rules.qualifications)
    if requested_slot == "a_level_count":
        return parse_count(text)
    if requested_slot == "gcse_grades":
        return lowest_gcse_grade(text)
    if requested_slot == "programme":
        upper = (text or "").upper()
        return "STP" if "STP" in upper else "PTP" if "PTP" in upper else None
    if requested_slot in _SUBJECT_SLOTS:
        return clean_subject(text)
    return None
