"""Load and validate the entry rules file (`entry_rules.yml`).

Pure Python, no Rasa import. A malformed file raises `RulesFileError` naming the
file, the line and what is wrong, so a typo stops start-up instead of a chat.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import AbstractSet, Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple

import yaml

from careers.vocabulary import (
    A_LEVELS,
    ABANDONED,
    DEGREE,
    DEGREE_CLASS_IDS,
    ENTITY_LABELS,
    GCSES,
    HIGHER_DEGREE,
    IN_PROGRESS,
    MET,
    NOT_MET,
    NOTE,
    PLACEHOLDERS,
    PLANNED,
    PREDICTED,
    PROGRAMMES,
    QUALIFICATION_GROUPS,
    SUBJECT_CATEGORIES,
    UNCLEAR,
    UNDECIDED,
    UNKNOWN_SUBJECT,
    VERDICTS,
)

DEFAULT_PATH = Path(__file__).with_name("entry_rules.yml")

# The rule engine relies on these rules and on these texts within each.
EXPECTED_RULE_TEXTS: Dict[str, FrozenSet[str]] = {
    "stp_degree_class": frozenset({MET, NOT_MET}),
    "stp_honours_degree": frozenset({NOT_MET, "next_step"}),
    "stp_overseas_degree": frozenset({UNCLEAR, "next_step"}),
    "stp_subject_relevance": frozenset({MET, UNCLEAR, UNDECIDED, NOT_MET}),
    "stp_animal_plant_science": frozenset({NOT_MET}),
    "stp_medical_degree": frozenset({NOT_MET, UNCLEAR}),
    "stp_higher_degree_route": frozenset(
        {MET, UNCLEAR, UNDECIDED, "not_met_class", "not_met_none", "not_met_subject"} | {"not_met_abandoned"}
    ),
    "stp_not_a_higher_degree": frozenset({NOT_MET}),
    "stp_no_degree": frozenset({NOT_MET}),
    "stp_predicted_result": frozenset({UNCLEAR, NOT_MET}),
    "stp_awarded_by_start": frozenset({"unclear_in_progress", "unclear_planned"}),
    "stp_research_experience": frozenset({NOTE}),
    "ptp_gcses": frozenset({MET, UNCLEAR, NOT_MET, "unclear_in_progress"}),
    "ptp_a_levels": frozenset({MET, NOT_MET, "unclear_in_progress", "unclear_planned"}),
    "ptp_a_level_alternatives": frozenset({UNCLEAR, "next_step"}),
    "ptp_science_a_level": frozenset({MET, UNCLEAR, NOT_MET}),
    "ptp_university_requirements": frozenset({NOTE}),
}
# The outcomes a rule can have (careers.vocabulary's, and the cases worded apart); `decisive`
# lists some of them.
OUTCOME_KEYS = frozenset(
    {MET, UNCLEAR, UNDECIDED, NOT_MET, "not_met_class", "not_met_none"}
    | {"not_met_subject", "not_met_abandoned", "unclear_in_progress", "unclear_planned", NOTE}
)
# Outcomes that leave the case open: never decisive.
OPEN_OUTCOMES = frozenset({UNCLEAR, UNDECIDED, "unclear_in_progress", "unclear_planned"})
# The statuses each kind of qualification must have a rule for (the rules file's `statuses:`).
REQUIRED_STATUSES: Dict[str, FrozenSet[str]] = {
    DEGREE: frozenset({PREDICTED, IN_PROGRESS}),
    HIGHER_DEGREE: frozenset({IN_PROGRESS, PLANNED, ABANDONED}),
    A_LEVELS: frozenset({IN_PROGRESS, PLANNED}),
    GCSES: frozenset({PREDICTED, IN_PROGRESS}),
}
TEXT_KEYS = OUTCOME_KEYS | {"next_step"}
PARAM_KEYS = frozenset({"minimum_class", "minimum_count", "links"})
GCSE_LETTERS = ("A*", "A", "B", "C", "D", "E", "F", "G", "U")


class RulesFileError(ValueError):
    """The rules file is malformed; the message names the file, line and problem."""


@dataclass(frozen=True)
class Source:
    key: str
    title: str
    url: str
    # The file under `sources/` holding a copy of the page, when there is one.
    copy: Optional[str] = None
    # For pages added after the seed page: the date (or recruitment year) the page showed,
    # and when the project last checked its facts against it.
    page_date: Optional[str] = None
    last_reviewed: Optional[dt.date] = None


@dataclass(frozen=True)
class Reading:
    """The project's own interpretation of a source, listed for review."""

    key: str
    text: str
    source: Source


@dataclass(frozen=True)
class Rule:
    id: str
    programme: str
    source: Source
    texts: Mapping[str, str]
    minimum_class: Optional[str] = None
    minimum_count: Optional[int] = None
    links: Tuple[Source, ...] = ()
    # The source sentence each outcome rests on (outcome -> quote).
    quotes: Mapping[str, str] = field(default_factory=dict)
    # The outcomes that settle the matter; any other outcome is at most "possibly".
    decisive: FrozenSet[str] = frozenset()
    readings: Tuple[str, ...] = ()

    def is_decisive(self, outcome: str) -> bool:
        return outcome in self.decisive


@dataclass(frozen=True)
class Topic:
    intent: str
    title: str
    text: str
    sources: Tuple[Source, ...]
    # Words a question must contain for this answer to answer it (dialogue/questions.py).
    asked_by: Tuple[str, ...] = ()
    # What it answers besides its intent, for the evaluation's labels ("registration").
    answers: Tuple[str, ...] = ()


@dataclass(frozen=True)
class ConceptAnswer:
    """An answer chosen by what a question names (`keywords`), with no intent of its own:
    the National School's applicant facts (section `applying`)."""

    key: str
    title: str
    text: str
    keywords: Tuple[str, ...]
    sources: Tuple[Source, ...]
    # What else it answers, for the evaluation's labels ("reapply").
    answers: Tuple[str, ...] = ()


@dataclass(frozen=True)
class NotCovered:
    """A question on the career that the sources do not answer, and where to read."""

    key: str
    title: str
    text: str
    keywords: Tuple[str, ...]
    read: Tuple[Source, ...]
    # Said before an answer that does not cover every word of the question (the general
    # entry's `partly`: dialogue.questions.unanswered).
    partly: str = ""


@dataclass(frozen=True)
class EntryRules:
    """Everything in the rules file, checked and ready for the engine."""

    path: Path
    last_reviewed: dt.date
    sources: Mapping[str, Source]
    programmes: Mapping[str, Tuple[str, Source]]
    degree_classes: Tuple[Tuple[str, str], ...]
    qualifications: Mapping[str, Tuple[str, str]]
    subjects: Mapping[str, str]
    subject_sources: Mapping[str, Source]
    a_level_science: FrozenSet[str]
    a_level_ask_university: FrozenSet[str]
    gcse_minimum_letter: str
    gcse_minimum_number: int
    rules: Mapping[str, Rule]
    next_steps: Mapping[str, Mapping[str, Tuple[str, Source]]]
    topics: Mapping[str, Topic]
    deciders: Mapping[str, Tuple[str, Source]] = field(default_factory=dict)
    readings: Mapping[str, Reading] = field(default_factory=dict)
    # Where each reading is relied on ("rule 'stp_degree_class'", "subjects 'medical'").
    reading_uses: Mapping[str, Tuple[str, ...]] = field(default_factory=dict)
    not_covered: Mapping[str, NotCovered] = field(default_factory=dict)
    applying: Mapping[str, ConceptAnswer] = field(default_factory=dict)
    # kind of qualification -> status -> the rule and outcome that decide it (`statuses:`).
    statuses: Mapping[str, Mapping[str, Tuple[str, str]]] = field(default_factory=dict)
    gcse_good_range_count: int = 5
    _class_rank: Mapping[str, int] = field(default_factory=dict, repr=False)

    def class_label(self, class_id: str) -> str:
        return dict(self.degree_classes)[class_id]

    def class_at_least(self, class_id: str, minimum: str) -> bool:
        """True when `class_id` is as good as `minimum` or better."""
        return self._class_rank[class_id] <= self._class_rank[minimum]

    def subject_category(self, subject: str) -> str:
        """The relevance category of a subject, or UNKNOWN_SUBJECT when not listed.

        A branch of engineering or physics the file does not list ("medical device
        engineering") is in the category of engineering or physics (reading
        subject_branches), unless its first word says it is something else."""
        name = " ".join(subject.strip().lower().split())
        if name in self.subjects:
            return self.subjects[name]
        words = name.split()
        if len(words) > 1 and words[-1] in _BRANCHED and not set(words[:-1]) & _NOT_BRANCHES:
            return self.subjects.get(words[-1], UNKNOWN_SUBJECT)
        return UNKNOWN_SUBJECT

    def is_known_subject(self, subject: Any) -> bool:
        """True for a subject the rules file names (safe to repeat back to people)."""
        name = str(subject or "").strip().lower()
        return name in self.subjects or name in self.a_level_science | self.a_level_ask_university

    def qualification_group(self, qualification: str) -> Optional[str]:
        entry = self.qualifications.get(qualification)
        return entry[0] if entry else None

    def qualification_label(self, qualification: str) -> str:
        return self.qualifications[qualification][1]

    def qualifications_in(self, group: str) -> List[str]:
        return [q for q, (g, _) in self.qualifications.items() if g == group]


# Subjects whose named branches count as them (reading subject_branches), and words that
# make "... engineering" another subject: genetic engineering is biology.
_BRANCHED = frozenset({"engineering", "physics"})
_NOT_BRANCHES = frozenset(
    {"genetic", "social", "financial", "sales", "prompt", "business", "tissue", "no", "not"}
)


class _LineLoader(yaml.SafeLoader):
    """A YAML loader that remembers the line of every mapping key."""


def _construct_mapping(loader: _LineLoader, node: yaml.MappingNode) -> "_Lined":
    mapping = _Lined()
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if key in mapping:
            raise RulesFileError(f"line {key_node.start_mark.line + 1}: duplicate key '{key}'")
        mapping[key] = loader.construct_object(value_node, deep=True)
        mapping.lines[key] = key_node.start_mark.line + 1
    mapping.line = node.start_mark.line + 1
    return mapping


class _Lined(dict):
    """A dict that knows the line of each key (for error messages)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: Dict[Any, int] = {}
        self.line = 0


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Checker:
    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, line: int, problem: str) -> RulesFileError:
        return RulesFileError(f"{self.path}:{line}: {problem}")

    def mapping(self, parent: _Lined, key: str) -> _Lined:
        value = self.require(parent, key)
        if not isinstance(value, _Lined):
            raise self.fail(parent.lines[key], f"'{key}' must be a mapping")
        return value

    def require(self, parent: _Lined, key: str) -> Any:
        if key not in parent:
            raise self.fail(parent.line, f"missing '{key}'")
        return parent[key]

    def text(self, parent: _Lined, key: str) -> str:
        value = self.require(parent, key)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(parent.lines[key], f"'{key}' must be non-empty text")
        return " ".join(value.split())

    def names(self, parent: _Lined, key: str) -> List[str]:
        value = self.require(parent, key)
        if not isinstance(value, list) or not value:
            raise self.fail(parent.lines[key], f"'{key}' must be a non-empty list")
        for item in value:
            if not isinstance(item, str) or item != item.strip().lower() or not item:
                raise self.fail(
                    parent.lines[key],
                    f"'{key}' entries must be lower-case text, not {item!r}",
                )
        return value

    def placeholders_ok(self, line: int, text: str) -> None:
        try:
            fields = {f for _, f, _, _ in string.Formatter().parse(text) if f}
        except ValueError as error:
            raise self.fail(line, f"bad braces in text: {error}") from None
        unknown = fields - PLACEHOLDERS
        if unknown:
            raise self.fail(
                line,
                f"unknown placeholder(s) {sorted(unknown)}; allowed: {sorted(PLACEHOLDERS)}",
            )


@lru_cache(maxsize=1)
def default_rules() -> EntryRules:
    """The rules from the file beside this module, loaded once per process."""
    return load_rules(DEFAULT_PATH)


def read_with_lines(path: Path) -> "_Lined":
    """The file's YAML, unchecked, each mapping knowing the line of each key
    (`.lines`) and its own line (`.line`). Raises `RulesFileError` with file:line."""
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_LineLoader)
    except RulesFileError as error:
        raise RulesFileError(f"{path}:{str(error)[len('line ') :]}") from None
    except yaml.YAMLError as error:
        raise RulesFileError(f"{path}: not valid YAML: {error}") from None
    except OSError as error:
        raise RulesFileError(f"{path}: cannot read: {error}") from None
    if not isinstance(raw, _Lined):
        raise RulesFileError(f"{path}:1: the file must be a mapping of sections")
    return raw


def load_rules(path: Optional[Path] = None) -> EntryRules:
    """Read, validate and return the entry rules; raise `RulesFileError` if bad."""
    path = Path(path or DEFAULT_PATH)
    raw = read_with_lines(path)
    check = _Checker(path)

    reviewed = check.require(raw, "last_reviewed")
    if not isinstance(reviewed, dt.date):
        raise check.fail(raw.lines["last_reviewed"], "'last_reviewed' must be YYYY-MM-DD")

    sources = _load_sources(check, check.mapping(raw, "sources"))

    def source_ref(parent: _Lined, key: str = "source") -> Source:
        name = check.require(parent, key)
        if name not in sources:
            raise check.fail(parent.lines[key], f"unknown source '{name}'")
        return sources[name]

    readings = {
        key: Reading(key, check.text(entry, "text"), source_ref(entry))
        for key, entry in _entries(check, check.mapping(raw, "readings"))
    }
    uses: Dict[str, List[str]] = {key: [] for key in readings}

    def reading_refs(parent: _Lined, user: str) -> Tuple[str, ...]:
        refs = parent.get("reading", [])
        refs = [refs] if isinstance(refs, str) else refs
        for ref in refs:
            if ref not in readings:
                raise check.fail(parent.lines["reading"], f"unknown reading '{ref}'")
            uses[ref].append(user)
        return tuple(refs)

    programmes: Dict[str, Tuple[str, Source]] = {}
    programme_section = check.mapping(raw, "programmes")
    deciders: Dict[str, Tuple[str, Source]] = {}
    decider_section = check.mapping(raw, "deciders")
    for programme in PROGRAMMES:
        entry = check.mapping(programme_section, programme)
        programmes[programme] = (check.text(entry, "name"), source_ref(entry))
        decider = check.mapping(decider_section, programme)
        deciders[programme] = (check.text(decider, "name"), source_ref(decider, "link"))

    degree_classes = _load_degree_classes(check, raw)
    class_ids = {c for c, _ in degree_classes}

    qualifications: Dict[str, Tuple[str, str]] = {}
    quals = check.mapping(raw, "qualifications")
    for group in QUALIFICATION_GROUPS:
        entries = check.mapping(quals, group)
        for qual in entries:
            if qual in qualifications:
                raise check.fail(entries.lines[qual], f"qualification '{qual}' is in two groups")
            qualifications[qual] = (group, check.text(entries, qual))

    subjects: Dict[str, str] = {}
    subject_sources: Dict[str, Source] = {}
    subject_section = check.mapping(raw, "subjects")
    for category in SUBJECT_CATEGORIES:
        entry = check.mapping(subject_section, category)
        subject_sources[category] = source_ref(entry)
        reading_refs(entry, f"subjects '{category}'")
        for name in check.names(entry, "names"):
            if name in subjects:
                raise check.fail(
                    entry.lines["names"],
                    f"subject '{name}' is in both '{subjects[name]}' and '{category}'",
                )
            subjects[name] = category

    a_levels = check.mapping(raw, "a_level_subjects")
    reading_refs(a_levels, "a_level_subjects")
    science = frozenset(check.names(a_levels, "science"))
    ask_university = frozenset(check.names(a_levels, "ask_university"))

    gcse = check.mapping(raw, "gcse_grades")
    reading_refs(gcse, "gcse_grades")
    letter = check.require(gcse, "minimum_letter")
    number = check.require(gcse, "minimum_number")
    good_range = check.require(gcse, "good_range_count")
    if letter not in GCSE_LETTERS:
        raise check.fail(gcse.lines["minimum_letter"], f"unknown GCSE grade {letter!r}")
    if not isinstance(number, int) or not 1 <= number <= 9:
        raise check.fail(gcse.lines["minimum_number"], "must be a whole number 1-9")
    if not isinstance(good_range, int) or not 1 <= good_range <= 15:
        raise check.fail(gcse.lines["good_range_count"], "must be a whole number 1-15")

    rules = _load_rules(check, check.mapping(raw, "rules"), source_ref, sources, class_ids, reading_refs)

    statuses = _load_statuses(check, check.mapping(raw, "statuses"), rules)

    next_steps: Dict[str, Dict[str, Tuple[str, Source]]] = {}
    steps = check.mapping(raw, "next_steps")
    for programme in PROGRAMMES:
        entry = check.mapping(steps, programme)
        next_steps[programme] = {}
        for verdict in VERDICTS:
            step = check.mapping(entry, verdict)
            next_steps[programme][verdict] = (
                check.text(step, "text"),
                source_ref(step, "link"),
            )

    topics: Dict[str, Topic] = {}
    for intent, entry in _entries(check, check.mapping(raw, "topics")):
        topics[intent] = Topic(
            intent,
            check.text(entry, "title"),
            check.text(entry, "text"),
            _source_list(check, entry, "sources", sources),
            _asked_by(check, entry),
            _keywords(check, entry, "answers") if "answers" in entry else (),
        )

    applying: Dict[str, ConceptAnswer] = {}
    for key, entry in _entries(check, raw.get("applying") or _Lined()):
        applying[key] = ConceptAnswer(
            key,
            check.text(entry, "title"),
            check.text(entry, "text"),
            _keywords(check, entry, "keywords"),
            _source_list(check, entry, "sources", sources),
            _keywords(check, entry, "answers") if "answers" in entry else (),
        )

    not_covered: Dict[str, NotCovered] = {}
    for key, entry in _entries(check, check.mapping(raw, "not_covered")):
        if key in applying:
            raise check.fail(raw["not_covered"].lines[key], f"'{key}' is answered under 'applying'")
        not_covered[key] = NotCovered(
            key,
            check.text(entry, "title"),
            check.text(entry, "text"),
            _keywords(check, entry, "keywords", allow_empty=True),
            _source_list(check, entry, "read", sources),
            check.text(entry, "partly") if key == NOT_COVERED_GENERAL else "",
        )
    if NOT_COVERED_GENERAL not in not_covered:
        raise check.fail(raw.lines["not_covered"], f"'not_covered' needs '{NOT_COVERED_GENERAL}'")

    for key, used_by in uses.items():
        if not used_by:
            raise check.fail(raw["readings"].lines[key], f"reading '{key}' is used by nothing")

    return EntryRules(
        path=path,
        last_reviewed=reviewed,
        sources=sources,
        programmes=programmes,
        degree_classes=degree_classes,
        qualifications=qualifications,
        subjects=subjects,
        subject_sources=subject_sources,
        a_level_science=science,
        a_level_ask_university=ask_university,
        gcse_minimum_letter=letter,
        gcse_minimum_number=number,
        rules=rules,
        next_steps=next_steps,
        topics=topics,
        deciders=deciders,
        readings=readings,
        reading_uses={key: tuple(used) for key, used in uses.items()},
        not_covered=not_covered,
        applying=applying,
        statuses=statuses,
        gcse_good_range_count=good_range,
        _class_rank={c: i for i, (c, _) in enumerate(degree_classes)},
    )


# The not-covered topic for a question that matches no other's keywords.
NOT_COVERED_GENERAL = "general"


def _entries(check: "_Checker", section: "_Lined") -> List[Tuple[str, "_Lined"]]:
    return [(key, check.mapping(section, key)) for key in section]


def _asked_by(check: "_Checker", entry: "_Lined") -> Tuple[str, ...]:
    """A topic's `asked_by`: words, and "@label" for an entity of that label named."""
    words = _keywords(check, entry, "asked_by")
    for word in words:
        if word.startswith("@") and word[1:] not in ENTITY_LABELS:
            raise check.fail(entry.lines["asked_by"], f"unknown entity '{word}' in 'asked_by'")
    return words


def _keywords(check: "_Checker", entry: "_Lined", key: str, allow_empty: bool = False) -> Tuple[str, ...]:
    """A list of lower-case words or phrases (`keywords`, `asked_by`, `answers`)."""
    words = check.require(entry, key)
    if (
        not isinstance(words, list)
        or not (words or allow_empty)
        or not all(isinstance(k, str) and k == k.strip().lower() and k for k in words)
    ):
        raise check.fail(entry.lines[key], f"'{key}' must be a list of lower-case words")
    return tuple(words)


def _source_list(
    check: "_Checker", entry: "_Lined", key: str, sources: Mapping[str, Source]
) -> Tuple[Source, ...]:
    refs = check.require(entry, key)
    if not isinstance(refs, list) or not refs:
        raise check.fail(entry.lines[key], f"'{key}' must be a non-empty list")
    for ref in refs:
        if ref not in sources:
            raise check.fail(entry.lines[key], f"unknown source '{ref}'")
    return tuple(sources[r] for r in refs)


def is_web_address(value: Any) -> bool:
    """An http(s) URL with something after the scheme and no spaces."""
    return (
        isinstance(value, str)
        and value.startswith(("http://", "https://"))
        and len(value) > len("https://x")
        and " " not in value
    )


def _load_sources(check: _Checker, section: _Lined) -> Dict[str, Source]:
    sources = {}
    for key in section:
        entry = check.mapping(section, key)
        url = check.text(entry, "url")
        if not is_web_address(url):
            raise check.fail(entry.lines["url"], f"source '{key}' has no valid URL")
        copy = check.text(entry, "copy") if "copy" in entry else None
        reviewed = entry.get("last_reviewed")
        if reviewed is not None and not isinstance(reviewed, dt.date):
            raise check.fail(entry.lines["last_reviewed"], "'last_reviewed' must be YYYY-MM-DD")
        page_date = check.text(entry, "page_date") if "page_date" in entry else None
        sources[key] = Source(key, check.text(entry, "title"), url, copy, page_date, reviewed)
    return sources


def _load_statuses(
    check: _Checker, section: _Lined, rules: Mapping[str, Rule]
) -> Dict[str, Dict[str, Tuple[str, str]]]:
    """`statuses:` kind -> status -> {rule, outcome}: every status the engine needs, each
    naming a rule that has the outcome's text."""
    statuses: Dict[str, Dict[str, Tuple[str, str]]] = {}
    for kind in section:
        if kind not in REQUIRED_STATUSES:
            raise check.fail(
                section.lines[kind], f"unknown kind '{kind}'; known: {sorted(REQUIRED_STATUSES)}"
            )
    for kind, needed in REQUIRED_STATUSES.items():
        entries = check.mapping(section, kind)
        statuses[kind] = {}
        for status in entries:
            if status not in needed:
                raise check.fail(
                    entries.lines[status], f"'{kind}' has no status '{status}'; expected {sorted(needed)}"
                )
        for status in sorted(needed):
            entry = check.mapping(entries, status)
            rule_id, outcome = check.require(entry, "rule"), check.require(entry, "outcome")
            if rule_id not in rules:
                raise check.fail(entries.lines[status], f"unknown rule '{rule_id}'")
            if outcome not in rules[rule_id].texts or outcome not in OUTCOME_KEYS:
                raise check.fail(entries.lines[status], f"rule '{rule_id}' has no outcome '{outcome}'")
            statuses[kind][status] = (rule_id, outcome)
    return statuses


def _load_degree_classes(check: _Checker, raw: _Lined) -> Tuple[Tuple[str, str], ...]:
    entries = check.require(raw, "degree_classes")
    line = raw.lines["degree_classes"]
    if not isinstance(entries, list) or not all(isinstance(e, _Lined) for e in entries):
        raise check.fail(line, "'degree_classes' must be a list of {id, label}")
    classes = tuple((check.text(e, "id"), check.text(e, "label")) for e in entries)
    if tuple(c for c, _ in classes) != DEGREE_CLASS_IDS:
        raise check.fail(line, f"'degree_classes' ids must be, in order: {DEGREE_CLASS_IDS}")
    return classes


def _load_quotes(check: _Checker, entry: _Lined, rule_id: str, texts: Mapping[str, str]) -> Dict[str, str]:
    """`quote:` is one sentence for every outcome, or a mapping outcome -> sentence."""
    if "quote" not in entry:
        return {}
    value = entry["quote"]
    line = entry.lines["quote"]
    if isinstance(value, str) and value.strip():
        return {outcome: " ".join(value.split()) for outcome in texts if outcome in OUTCOME_KEYS}
    if isinstance(value, dict) and value:
        for outcome, quote in value.items():
            if outcome not in texts:
                raise check.fail(line, f"rule '{rule_id}' quotes outcome '{outcome}', which it does not have")
            if not isinstance(quote, str) or not quote.strip():
                raise check.fail(line, f"the quote for '{outcome}' must be non-empty text")
        return {outcome: " ".join(quote.split()) for outcome, quote in value.items()}
    raise check.fail(line, "'quote' must be a sentence or a mapping of outcome to sentence")


def _load_rules(
    check: _Checker,
    section: _Lined,
    source_ref: Callable[[_Lined], Source],
    sources: Mapping[str, Source],
    class_ids: AbstractSet[str],
    reading_refs: Callable[[_Lined, str], Tuple[str, ...]],
) -> Dict[str, Rule]:
    rules: Dict[str, Rule] = {}
    for rule_id in section:
        entry = check.mapping(section, rule_id)
        programme = check.require(entry, "programme")
        if programme not in PROGRAMMES:
            raise check.fail(entry.lines["programme"], f"programme must be one of {PROGRAMMES}")
        texts: Dict[str, str] = {}
        for key in entry:
            if key in TEXT_KEYS:
                texts[key] = check.text(entry, key)
                check.placeholders_ok(entry.lines[key], texts[key])
            elif key not in PARAM_KEYS | {"programme", "source", "quote", "decisive", "reading"}:
                raise check.fail(entry.lines[key], f"unknown field '{key}' in rule '{rule_id}'")
        quotes = _load_quotes(check, entry, rule_id, texts)
        decisive = entry.get("decisive", [])
        if not isinstance(decisive, list):
            raise check.fail(entry.lines["decisive"], "'decisive' must be a list of outcomes")
        for outcome in decisive:
            if outcome not in texts or outcome not in OUTCOME_KEYS - {NOTE}:
                raise check.fail(
                    entry.lines["decisive"],
                    f"rule '{rule_id}' has no outcome '{outcome}' to be decisive",
                )
            if outcome in OPEN_OUTCOMES:
                raise check.fail(
                    entry.lines["decisive"], f"'{outcome}' leaves the case open; it cannot be decisive"
                )
            if outcome not in quotes:
                raise check.fail(
                    entry.lines["decisive"],
                    f"rule '{rule_id}': a decisive outcome ('{outcome}') needs the source sentence "
                    "it rests on, in 'quote'",
                )
        minimum_class = entry.get("minimum_class")
        if minimum_class is not None and minimum_class not in class_ids:
            raise check.fail(entry.lines["minimum_class"], f"unknown degree class '{minimum_class}'")
        minimum_count = entry.get("minimum_count")
        if minimum_count is not None and (not isinstance(minimum_count, int) or minimum_count < 0):
            raise check.fail(entry.lines["minimum_count"], "must be a whole number")
        links = entry.get("links", [])
        for link in links:
            if link not in sources:
                raise check.fail(entry.lines["links"], f"unknown source '{link}'")
        rules[rule_id] = Rule(
            id=rule_id,
            programme=programme,
            source=source_ref(entry),
            texts=texts,
            minimum_class=minimum_class,
            minimum_count=minimum_count,
            links=tuple(sources[link] for link in links),
            quotes=quotes,
            decisive=frozenset(decisive),
            readings=reading_refs(entry, f"rule '{rule_id}'"),
        )
    for rule_id, needed in EXPECTED_RULE_TEXTS.items():
        if rule_id not in rules:
            raise check.fail(section.line, f"missing rule '{rule_id}'")
        absent = needed - set(rules[rule_id].texts)
        if absent:
            raise check.fail(section.lines[rule_id], f"rule '{rule_id}' needs text(s) {sorted(absent)}")
    for rule_id in ("stp_degree_class", "stp_higher_degree_route"):
        if rules[rule_id].minimum_class is None:
            raise check.fail(section.lines[rule_id], f"rule '{rule_id}' needs 'minimum_class'")
    if rules["ptp_a_levels"].minimum_count is None:
        raise check.fail(section.lines["ptp_a_levels"], "rule 'ptp_a_levels' needs 'minimum_count'")
    return rules
