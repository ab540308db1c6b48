"""The rule engine: a person's profile in, a verdict with its reasons out.

Pure Python, no Rasa import. `assess` returns the verdict (or the facts still
missing, next one first), the rules that decided it with their sources, and what
to do next. The thresholds and wording come from the rules file.

A "not eligible" needs a rule outcome the rules file marks decisive, and each
decisive outcome rests on a quoted source sentence; anything the sources leave
open makes at most a "possibly eligible", naming who decides.

Profile keys (all optional; values are canonical, read by `dialogue/`, and named in
`careers.vocabulary`): programme (STP/PTP), degree_class (NONE_HELD for no degree),
degree_type (a qualification id such as "bachelors", "hnd", "medical_degree"),
degree_overseas (bool), degree_subject, degree_status, higher_degree (NONE_HELD for none),
higher_degree_subject, higher_degree_status, higher_degree_ends (text), gcse_grades (MET,
NOT_MET, UNSURE, EQUIVALENT, or a lowest letter or number), a_level_count (int),
a_level_subjects (list), a_level_status, a_level_grades (text), a_level_alternatives (list
of qualification ids), science_a_level (YES/NO/UNSURE).

A status (`careers.vocabulary.STATUSES`) says where a qualification stands; with none it
is held. A qualification that is not held never counts as held: the rules file's
`statuses:` section names the rule and outcome for each status, and none of them passes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

from careers.rules_file import GCSE_LETTERS, OPEN_OUTCOMES, EntryRules, Source
from careers.vocabulary import (
    A_LEVEL_ALTERNATIVE,
    A_LEVEL_ALTERNATIVES,
    A_LEVEL_COUNT,
    A_LEVEL_GRADES,
    A_LEVEL_STATUS,
    A_LEVEL_SUBJECTS,
    A_LEVELS,
    ABANDONED,
    ANIMAL_PLANT_SCIENCE,
    COMMONLY_ACCEPTED,
    DEGREE,
    DEGREE_CLASS,
    DEGREE_OVERSEAS,
    DEGREE_STATUS,
    DEGREE_SUBJECT,
    DEGREE_TYPE,
    ELIGIBLE,
    EQUIVALENT,
    GCSE_GRADES,
    GCSES,
    HELD,
    HIGHER_DEGREE,
    HIGHER_DEGREE_ENDS,
    HIGHER_DEGREE_STATUS,
    HIGHER_DEGREE_SUBJECT,
    IN_PROGRESS,
    MEDICAL_SUBJECT,
    MET,
    NO,
    NON_HONOURS,
    NONE_HELD,
    NOT_DECIDED_SUBJECT,
    NOT_ELIGIBLE,
    NOT_HIGHER_DEGREE,
    NOT_MET,
    NOTE,
    OTHER_SCIENCES,
    OUTSIDE_SCIENCE,
    POSSIBLY_ELIGIBLE,
    PREDICTED,
    PROGRAMME,
    PTP,
    SCIENCE_A_LEVEL,
    STATUS_FACTS,
    STATUSES,
    STP,
    UNCLEAR,
    UNDECIDED,
    UNKNOWN_SUBJECT,
    UNSURE,
    YES,
    YES_NO_UNSURE,
)

PASS, POSSIBLE, FAIL = "pass", "possible", "fail"
VERDICT_FOR = {PASS: ELIGIBLE, POSSIBLE: POSSIBLY_ELIGIBLE, FAIL: NOT_ELIGIBLE}
# What a table row says when no source sentence settles the case.
NOT_DECIDED = "not decided by the sources"


# GCSE answers that leave "a good range at A-C" for the universities to judge.
GCSE_UNDECIDED = (UNSURE, EQUIVALENT)


@dataclass(frozen=True)
class Finding:
    """One rule's say on the profile: met, unclear, not_met or a note."""

    rule_id: str
    outcome: str  # met, unclear, not_met or note
    text: str
    source: Source
    key: str = ""  # the text key in the rules file ("not_met_class", ...)
    decisive: bool = False
    quote: Optional[str] = None

    @property
    def status(self) -> Optional[str]:
        """What this finding does to its route: pass, possible, fail, or None (a note)."""
        if self.outcome == NOTE:
            return None
        if self.outcome == UNCLEAR or not self.decisive:
            return POSSIBLE
        return PASS if self.outcome == MET else FAIL


@dataclass
class _Route:
    status: Optional[str] = None
    findings: List[Finding] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    next_steps: List[str] = field(default_factory=list)
    # The best this route can still reach while facts are missing.
    ceiling: str = PASS

    def decide(self, *findings: Finding, steps: Sequence[str] = ()) -> "_Route":
        """The route's status is its worst finding's: fail, else possible, else pass."""
        statuses = [f.status for f in findings if f.status]
        self.status = FAIL if FAIL in statuses else POSSIBLE if POSSIBLE in statuses else PASS
        self.findings.extend(findings)
        self.next_steps.extend(steps)
        return self

    def need(self, fact: str, ceiling: str = PASS) -> "_Route":
        self.missing.append(fact)
        self.ceiling = ceiling
        return self


@dataclass(frozen=True)
class Assessment:
    """The engine's answer. `verdict` is None while facts are missing."""

    programme: Optional[str]
    verdict: Optional[str]
    findings: Tuple[Finding, ...] = ()
    missing: Tuple[str, ...] = ()
    next_steps: Tuple[str, ...] = ()

    @property
    def reasons(self) -> List[str]:
        return [f.text for f in self.findings]

    @property
    def sources(self) -> List[str]:
        return list(dict.fromkeys(f.source.url for f in self.findings))

    @property
    def deciding_quotes(self) -> List[str]:
        """The source sentences that settle the verdict; none for "possibly eligible"."""
        if self.verdict == POSSIBLY_ELIGIBLE or self.verdict is None:
            return []
        wanted = PASS if self.verdict == ELIGIBLE else FAIL
        return list(
            dict.fromkeys(f.quote for f in self.findings if f.status == wanted and f.decisive and f.quote)
        )

    def as_payload(self) -> Dict[str, Any]:
        """The machine-readable form sent to websites in a `custom` message."""
        return {
            PROGRAMME: self.programme,
            "verdict": self.verdict,
            "reasons": self.reasons,
            "sources": self.sources,
            "rules": [f.rule_id for f in self.findings],
            "next_steps": list(self.next_steps),
        }


class _Context:
    """Formats rule texts for one profile."""

    def __init__(self, rules: EntryRules, profile: Mapping[str, Any]) -> None:
        self.rules = rules
        self.profile = profile

    def values(self) -> Dict[str, str]:
        p, rules = self.profile, self.rules
        higher = p.get(HIGHER_DEGREE)
        higher_label = (
            rules.qualification_label(higher)
            if higher and rules.qualification_group(higher)
            else "a higher degree"
        )
        degree_type = p.get(DEGREE_TYPE)
        qualification = (
            rules.qualification_label(degree_type)
            if degree_type and rules.qualification_group(degree_type)
            else "your qualification"
        )
        subjects = [s for s in p.get(A_LEVEL_SUBJECTS) or [] if s in rules.a_level_ask_university]
        alternatives = [
            rules.qualification_label(q)
            for q in p.get(A_LEVEL_ALTERNATIVES) or []
            if rules.qualification_group(q) == A_LEVEL_ALTERNATIVE
        ]
        count = a_level_count(rules, p)
        subject = _shown_subject(rules, p.get(DEGREE_SUBJECT), "your subject")
        return {
            DEGREE_CLASS: rules.class_label(p[DEGREE_CLASS]) if p.get(DEGREE_CLASS) else "your degree",
            "subject": subject,
            "subject_title": _capitalise(subject),
            HIGHER_DEGREE: higher_label,
            "higher_degree_title": _capitalise(higher_label),
            "higher_degree_short": higher_label.split(" ", 1)[-1],
            HIGHER_DEGREE_SUBJECT: _shown_subject(rules, p.get(HIGHER_DEGREE_SUBJECT), "its subject"),
            "qualification_title": _capitalise(qualification),
            A_LEVEL_COUNT: str(count) if count is None else _COUNT_WORDS.get(count, str(count)),
            A_LEVEL_SUBJECTS: " or ".join(subjects) or "your subject",
            "alternatives": join_words(alternatives) or "other qualifications",
            "higher_degree_ends": f" (you said it ends {p[HIGHER_DEGREE_ENDS]})"
            if p.get(HIGHER_DEGREE_ENDS)
            else "",
        }

    def finding(self, rule_id: str, key: str) -> Finding:
        """The rule's outcome `key` (MET, "not_met_class", NOTE, ...) for this profile."""
        rule = self.rules.rules[rule_id]
        outcome = NOT_MET if key.startswith(NOT_MET) else UNCLEAR if key in OPEN_OUTCOMES else key
        return Finding(
            rule_id=rule_id,
            outcome=outcome,
            text=rule.texts[key].format_map(self.values()),
            source=rule.source,
            key=key,
            decisive=rule.is_decisive(key),
            quote=rule.quotes.get(key),
        )

    def status(self, kind: str) -> str:
        """Where the person's qualification of this kind stands: held unless they said."""
        return str(self.profile.get(STATUS_FACTS[kind]) or HELD)

    def status_finding(self, kind: str) -> Finding:
        """The rules file's finding for a qualification of this kind that is not held."""
        rule_id, outcome = self.rules.statuses[kind][self.status(kind)]
        return self.finding(rule_id, outcome)

    def next_step(self, rule_id: str) -> List[str]:
        step = self.rules.rules[rule_id].texts.get("next_step")
        return [step.format_map(self.values())] if step else []


# A count as the texts write it ({a_level_count}): English words, not values.
_COUNT_WORDS = {0: "none", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def join_words(items: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _shown_subject(rules: EntryRules, subject: Any, otherwise: str) -> str:
    """A subject as it may be repeated back: only names the rules file knows, never
    a person's own words."""
    return str(subject) if rules.is_known_subject(subject) else otherwise


def assess(rules: EntryRules, profile: Mapping[str, Any]) -> Assessment:
    """Evaluate the profile against the rules for its programme."""
    profile = readable_profile(rules, profile)
    programme = profile.get(PROGRAMME)
    if programme not in (STP, PTP):
        return Assessment(programme=None, verdict=None, missing=(PROGRAMME,))
    ctx = _Context(rules, profile)
    if programme == STP:
        # Facts that decide both STP routes at once are checked first.
        gate = _stp_gatekeeping(ctx)
        routes = [gate] if gate else [_stp_degree_route(ctx), _stp_higher_degree_route(ctx)]
    else:
        routes = [_ptp_route(ctx)]
    return _combine(rules, programme, routes)


_TEXT_FACTS = (
    PROGRAMME,
    DEGREE_CLASS,
    DEGREE_TYPE,
    HIGHER_DEGREE,
    DEGREE_SUBJECT,
    HIGHER_DEGREE_SUBJECT,
    SCIENCE_A_LEVEL,
    HIGHER_DEGREE_ENDS,
    A_LEVEL_GRADES,
)
_YES_NO_FACTS = (DEGREE_OVERSEAS,)
_LIST_FACTS = (A_LEVEL_SUBJECTS, A_LEVEL_ALTERNATIVES)


# For each kind of qualification: the fact that says it is not had, and the facts about it
# that then no longer apply.
_NOT_HAD: Dict[str, Tuple[Tuple[str, Any], Tuple[str, ...]]] = {
    DEGREE: ((DEGREE_CLASS, NONE_HELD), (DEGREE_SUBJECT, DEGREE_TYPE, DEGREE_STATUS)),
    HIGHER_DEGREE: ((HIGHER_DEGREE, NONE_HELD), (HIGHER_DEGREE_SUBJECT, HIGHER_DEGREE_STATUS)),
    A_LEVELS: ((A_LEVEL_COUNT, 0), (A_LEVEL_SUBJECTS, A_LEVEL_STATUS, SCIENCE_A_LEVEL)),
}


def readable_profile(rules: EntryRules, profile: Any) -> Dict[str, Any]:
    """The profile's facts in the forms the engine reads (see the module docstring);
    a value in any other form is left out, as if not given, so the check asks for it
    rather than guessing: a degree class the rules file does not name, "no" for a
    yes/no fact (only True and False are answers), a count that is not a whole
    number, a list of anything but names. The actions pass only such values; this
    keeps any other caller from an exception or a wrong verdict."""
    if not isinstance(profile, Mapping):
        return {}
    readable: Dict[str, Any] = {}
    for fact in _TEXT_FACTS:
        value = profile.get(fact)
        if isinstance(value, str) and (fact != DEGREE_CLASS or value in dict(rules.degree_classes)):
            readable[fact] = value
    for fact in _YES_NO_FACTS:
        if isinstance(profile.get(fact), bool):
            readable[fact] = profile[fact]
    not_had = []
    for kind, fact in STATUS_FACTS.items():
        status = profile.get(fact)
        if status not in STATUSES:
            continue
        listed = set(rules.statuses[kind]) | {HELD}
        if status == PREDICTED and status not in listed and IN_PROGRESS in listed:
            status = IN_PROGRESS  # a forecast for something under way
        if status in listed:
            readable[fact] = status
        elif kind not in _NOT_HAD:
            # GCSEs planned or given up are no results either: never held, never decisive.
            readable[fact] = IN_PROGRESS
        else:
            # A status the rules file gives no rule for (a degree planned or abandoned):
            # never held, so the qualification is not had.
            not_had.append(kind)
    for fact in _LIST_FACTS:
        value = profile.get(fact)
        if isinstance(value, (list, tuple)):
            readable[fact] = [item for item in value if isinstance(item, str)]
    grades = profile.get(GCSE_GRADES)
    if isinstance(grades, (str, int)) and not isinstance(grades, bool):
        readable[GCSE_GRADES] = grades
    count = profile.get(A_LEVEL_COUNT)
    if isinstance(count, float) and count.is_integer():
        count = int(count)  # a Rasa float slot
    if isinstance(count, int) and not isinstance(count, bool) and count >= 0:
        readable[A_LEVEL_COUNT] = count
    for kind in not_had:
        for dropped in _NOT_HAD[kind][1]:
            readable.pop(dropped, None)
        readable[_NOT_HAD[kind][0][0]] = _NOT_HAD[kind][0][1]
    return readable


def _combine(rules: EntryRules, programme: str, routes: List[_Route]) -> Assessment:
    """Eligible if any route passes; otherwise ask, then the best of the rest."""
    passed = [r for r in routes if r.status == PASS]
    possible = [r for r in routes if r.status == POSSIBLE]
    # Only ask for what could still improve on the routes already decided.
    undecided = [r for r in routes if r.status is None and not (possible and r.ceiling == POSSIBLE)]
    if passed:
        # Keep the other routes' failures out: they would only confuse the verdict.
        chosen = passed[:1]
        status = PASS
    elif undecided:
        missing = list(dict.fromkeys(m for r in undecided for m in r.missing))
        return Assessment(programme=programme, verdict=None, missing=tuple(missing))
    elif possible:
        # The open question is the one to explain; the routes that failed add nothing.
        chosen = possible
        status = POSSIBLE
    else:
        chosen = routes
        status = FAIL
    findings = _unique(f for r in chosen for f in r.findings)
    verdict = VERDICT_FOR[status]
    steps = [s for r in routes for s in r.next_steps] if status != PASS else []
    steps.append(rules.next_steps[programme][verdict][0])
    return Assessment(
        programme=programme,
        verdict=verdict,
        findings=tuple(findings),
        next_steps=tuple(dict.fromkeys(steps)),
    )


def _unique(findings: Iterable[Finding]) -> List[Finding]:
    seen: Dict[Tuple[str, str], Finding] = {}
    for f in findings:
        seen.setdefault((f.rule_id, f.text), f)
    return list(seen.values())


# The text key of `stp_subject_relevance` for each subject category.
_RELEVANCE_KEY = {
    COMMONLY_ACCEPTED: MET,
    OTHER_SCIENCES: UNCLEAR,
    NOT_DECIDED_SUBJECT: UNDECIDED,
    UNKNOWN_SUBJECT: UNDECIDED,
    OUTSIDE_SCIENCE: NOT_MET,
}


def subject_relevance(rules: EntryRules, subject: str) -> Finding:
    """What the rules say about a first degree in `subject` for clinical engineering."""
    ctx = _Context(rules, {DEGREE_SUBJECT: subject})
    category = rules.subject_category(subject)
    if category == ANIMAL_PLANT_SCIENCE:
        return ctx.finding("stp_animal_plant_science", NOT_MET)
    if category == MEDICAL_SUBJECT:
        return ctx.finding("stp_medical_degree", NOT_MET)
    return ctx.finding("stp_subject_relevance", _RELEVANCE_KEY[category])


def _is_medical(rules: EntryRules, profile: Mapping[str, Any]) -> bool:
    subject = profile.get(DEGREE_SUBJECT)
    return profile.get(DEGREE_TYPE) == "medical_degree" or bool(
        subject and rules.subject_category(subject) == MEDICAL_SUBJECT
    )


def _stp_gatekeeping(ctx: _Context) -> Optional[_Route]:
    """What decides both STP routes at once (no degree, not an honours degree, no class)."""
    p, rules = ctx.profile, ctx.rules
    if p.get(DEGREE_CLASS) == NONE_HELD:
        return _Route().decide(ctx.finding("stp_no_degree", NOT_MET), steps=ctx.next_step("stp_no_degree"))
    if rules.qualification_group(p.get(DEGREE_TYPE) or "") == NON_HONOURS:
        return _Route().decide(
            ctx.finding("stp_honours_degree", NOT_MET),
            steps=ctx.next_step("stp_honours_degree"),
        )
    if not p.get(DEGREE_CLASS) and not _is_medical(rules, p) and not p.get(DEGREE_OVERSEAS):
        return _Route().need(DEGREE_CLASS)
    return None


def _overseas(ctx: _Context) -> List[Finding]:
    return [ctx.finding("stp_overseas_degree", UNCLEAR)] if ctx.profile.get(DEGREE_OVERSEAS) else []


def _stp_degree_route(ctx: _Context) -> _Route:
    """A 1st or 2:1 honours or integrated master's in a relevant science."""
    route, p, rules = _Route(), ctx.profile, ctx.rules
    if _is_medical(rules, p):
        return route.decide(ctx.finding("stp_medical_degree", NOT_MET))
    overseas = bool(p.get(DEGREE_OVERSEAS))
    minimum = rules.rules["stp_degree_class"].minimum_class
    assert minimum is not None, "load_rules requires 'minimum_class' for stp_degree_class"
    # A class from outside the UK is not read as a UK class: the School compares them.
    predicted = ctx.status(DEGREE) != HELD
    if not overseas and not rules.class_at_least(p[DEGREE_CLASS], minimum):
        rule = "stp_predicted_result" if predicted else "stp_degree_class"
        return route.decide(ctx.finding(rule, NOT_MET))
    subject = p.get(DEGREE_SUBJECT)
    if not subject:
        return route.need(DEGREE_SUBJECT, POSSIBLE if p.get(DEGREE_OVERSEAS) else PASS)
    relevance = subject_relevance(rules, subject)
    if relevance.status != PASS:
        steps = ctx.next_step("stp_overseas_degree") if p.get(DEGREE_OVERSEAS) else []
        return route.decide(relevance, *_overseas(ctx), steps=steps)
    findings = [relevance, *_overseas(ctx)]
    if not overseas and not predicted:
        findings.insert(0, ctx.finding("stp_degree_class", MET))
    if predicted:
        findings.insert(0, ctx.status_finding(DEGREE))
    if (
        rules.qualification_group(p.get(HIGHER_DEGREE) or "") != HIGHER_DEGREE
        or ctx.status(HIGHER_DEGREE) != HELD
    ):
        findings.append(ctx.finding("stp_research_experience", NOTE))
    steps = ctx.next_step("stp_overseas_degree") if p.get(DEGREE_OVERSEAS) else []
    return route.decide(*findings, steps=steps)


# The text key of `stp_higher_degree_route` for the higher degree's subject.
_HIGHER_RELEVANCE_KEY = {
    COMMONLY_ACCEPTED: MET,
    OTHER_SCIENCES: UNCLEAR,
    ANIMAL_PLANT_SCIENCE: UNCLEAR,
    NOT_DECIDED_SUBJECT: UNDECIDED,
    UNKNOWN_SUBJECT: UNDECIDED,
    MEDICAL_SUBJECT: UNDECIDED,
    OUTSIDE_SCIENCE: "not_met_subject",
}


def _stp_higher_degree_route(ctx: _Context) -> _Route:
    """A 2:2 or better in any subject plus a relevant higher degree."""
    route, p, rules = _Route(), ctx.profile, ctx.rules
    route_rule = "stp_higher_degree_route"
    medical = _is_medical(rules, p)
    if not medical and not p.get(DEGREE_OVERSEAS):
        route_class = rules.rules[route_rule].minimum_class
        assert route_class is not None, "load_rules requires 'minimum_class' for stp_higher_degree_route"
        if not rules.class_at_least(p[DEGREE_CLASS], route_class):
            return route.decide(ctx.finding(route_rule, "not_met_class"))
        good_class = rules.rules["stp_degree_class"].minimum_class
        assert good_class is not None, "load_rules requires 'minimum_class' for stp_degree_class"
        if ctx.status(DEGREE) != HELD and not rules.class_at_least(p[DEGREE_CLASS], good_class):
            return route.decide(ctx.finding("stp_predicted_result", NOT_MET))
    # After a medical degree, one from outside the UK or one not yet awarded this route
    # can only be open.
    ceiling = POSSIBLE if medical or p.get(DEGREE_OVERSEAS) or ctx.status(DEGREE) != HELD else PASS
    higher = p.get(HIGHER_DEGREE)
    if not higher:
        return route.need(HIGHER_DEGREE, ceiling)
    group = rules.qualification_group(higher)
    if group is not None and ctx.status(HIGHER_DEGREE) == ABANDONED:
        # Started, not finished: it opens nothing, whatever its subject.
        return route.decide(ctx.status_finding(HIGHER_DEGREE), steps=ctx.next_step(route_rule))
    if group != HIGHER_DEGREE:
        finding = (
            ctx.finding("stp_not_a_higher_degree", NOT_MET)
            if group == NOT_HIGHER_DEGREE
            else ctx.finding(route_rule, "not_met_none")
        )
        return route.decide(finding, steps=ctx.next_step(route_rule))
    subject = p.get(HIGHER_DEGREE_SUBJECT)
    if not subject:
        return route.need(HIGHER_DEGREE_SUBJECT, ceiling)
    key = _HIGHER_RELEVANCE_KEY[rules.subject_category(subject)]
    relevance = ctx.finding(route_rule, key)
    if relevance.status == FAIL:
        return route.decide(relevance, steps=ctx.next_step(route_rule))
    findings = [relevance]
    if medical:
        # A relevant higher degree after a medical degree: the sources do not say.
        findings = [ctx.finding("stp_medical_degree", UNCLEAR)]
    findings += _overseas(ctx)
    if ctx.status(DEGREE) != HELD and not medical and not p.get(DEGREE_OVERSEAS):
        # The first degree this route builds on is not awarded yet either.
        findings.insert(0, ctx.status_finding(DEGREE))
    if ctx.status(HIGHER_DEGREE) != HELD:
        # In progress or planned: it must be awarded before the programme starts.
        findings.append(ctx.status_finding(HIGHER_DEGREE))
    steps = ctx.next_step("stp_overseas_degree") if p.get(DEGREE_OVERSEAS) else []
    return route.decide(*findings, steps=steps)


def gcse_grade_meets(rules: EntryRules, grade: Any) -> Optional[bool]:
    """Whether a GCSE answer meets the requirement: True, False, or None when it is
    not a known answer. UNSURE and EQUIVALENT are known but undecided (see
    `gcse_status`)."""
    if grade in (MET, NOT_MET):
        return grade == MET
    text = str(grade).strip().upper()
    if text.isdigit():
        return int(text) >= rules.gcse_minimum_number
    if text in GCSE_LETTERS:
        return GCSE_LETTERS.index(text) <= GCSE_LETTERS.index(rules.gcse_minimum_letter)
    return None


def gcse_status(rules: EntryRules, grade: Any) -> Optional[str]:
    """MET, NOT_MET or UNCLEAR for a GCSE answer; None when it is not one."""
    if grade in GCSE_UNDECIDED:
        return UNCLEAR
    meets = gcse_grade_meets(rules, grade)
    return None if meets is None else MET if meets else NOT_MET


def a_level_count(rules: EntryRules, profile: Mapping[str, Any]) -> Optional[int]:
    """The number of A-levels given, or else the subjects named when they are enough.

    Naming fewer subjects than the minimum proves nothing (people name only some),
    so that case still asks.
    """
    if profile.get(A_LEVEL_COUNT) is not None:
        return int(profile[A_LEVEL_COUNT])
    named = len(profile.get(A_LEVEL_SUBJECTS) or [])
    minimum = rules.rules["ptp_a_levels"].minimum_count
    assert minimum is not None, "load_rules requires 'minimum_count' for ptp_a_levels"
    return named if named >= minimum else None


def science_a_level_status(rules: EntryRules, profile: Mapping[str, Any]) -> Optional[str]:
    """YES, NO or UNSURE, from the answer or else from the A-level subjects.

    NO is read from subjects only when every subject named is clearly outside
    science and they are all the person's A-levels."""
    answer = profile.get(SCIENCE_A_LEVEL)
    if answer in YES_NO_UNSURE:
        return answer
    subjects = profile.get(A_LEVEL_SUBJECTS) or []
    if not subjects:
        return None
    if any(s in rules.a_level_science for s in subjects):
        return YES
    if all(rules.subject_category(s) == OUTSIDE_SCIENCE for s in subjects):
        count = profile.get(A_LEVEL_COUNT)
        return NO if count is None or count <= len(subjects) else None
    return UNSURE


def _ptp_route(ctx: _Context) -> _Route:
    """GCSEs A-C, at least two A-levels, one of them a science."""
    p, rules = ctx.profile, ctx.rules
    findings: List[Finding] = []
    missing: List[str] = []
    steps: List[str] = []

    gcses = gcse_status(rules, p[GCSE_GRADES]) if p.get(GCSE_GRADES) else None
    if ctx.status(GCSES) != HELD:
        # GCSEs still being taken: predicted grades are no results ("predicted 6s").
        findings.append(ctx.status_finding(GCSES))
    elif gcses:
        findings.append(ctx.finding("ptp_gcses", gcses))
    else:
        missing.append(GCSE_GRADES)

    alternatives = bool(p.get(A_LEVEL_ALTERNATIVES))
    count = a_level_count(rules, p)
    minimum = rules.rules["ptp_a_levels"].minimum_count
    assert minimum is not None, "load_rules requires 'minimum_count' for ptp_a_levels"
    if count is None:
        missing.append(A_LEVEL_COUNT)
    elif count >= minimum:
        held = ctx.status(A_LEVELS) == HELD
        findings.append(ctx.finding("ptp_a_levels", MET) if held else ctx.status_finding(A_LEVELS))
        science = science_a_level_status(rules, p)
        if science is None:
            missing.append(SCIENCE_A_LEVEL)
        elif science == NO and alternatives:
            findings.append(ctx.finding("ptp_a_level_alternatives", UNCLEAR))
            steps += ctx.next_step("ptp_a_level_alternatives")
        else:
            key = {YES: MET, NO: NOT_MET, UNSURE: UNCLEAR}[science]
            findings.append(ctx.finding("ptp_science_a_level", key))
    elif alternatives:
        # Fewer A-levels, but other qualifications the universities may accept.
        findings.append(ctx.finding("ptp_a_level_alternatives", UNCLEAR))
        steps += ctx.next_step("ptp_a_level_alternatives")
    else:
        findings.append(ctx.finding("ptp_a_levels", NOT_MET))

    failed = [f for f in findings if f.status == FAIL]
    if failed:
        # A decisive shortfall ends the check: nothing else could make up for it.
        return _Route().decide(*failed)
    if missing:
        return _Route(missing=missing)
    findings.append(ctx.finding("ptp_university_requirements", NOTE))
    return _Route().decide(*findings, steps=steps)


def missing_facts(rules: EntryRules, profile: Mapping[str, Any]) -> List[str]:
    """The facts the check still needs, in the order to ask them."""
    return list(assess(rules, profile).missing)
