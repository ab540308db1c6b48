"""The rule engine: a person's profile in, a verdict with its reasons out.

Pure Python, no Rasa import. `assess` returns the verdict (or the facts still
missing, next one first), the rules that decided it with their sources, and what
to do next. The thresholds and wording come from the rules file.

Profile keys (all optional; values are canonical, see `actions/language.py`):
programme ("STP"/"PTP"), degree_class, degree_subject, degree_predicted (bool),
higher_degree, higher_degree_subject, higher_degree_in_progress (bool),
gcse_grades ("met", "not_met", a letter or a number), a_level_count (int),
a_level_subjects (list), science_a_level ("yes"/"no"/"unsure").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Mapping, Optional, Tuple

from actions.rules_file import GCSE_LETTERS, EntryRules, Rule, Source

PASS, POSSIBLE, FAIL = "pass", "possible", "fail"
VERDICT_FOR = {PASS: "eligible", POSSIBLE: "possibly_eligible", FAIL: "not_eligible"}

# Facts the form may ask for, in the order they are best asked.
ASKABLE_FACTS = (
    "programme",
    "degree_class",
    "degree_subject",
    "higher_degree",
    "higher_degree_subject",
    "gcse_grades",
    "a_level_count",
    "science_a_level",
)


@dataclass(frozen=True)
class Finding:
    """One rule's say on the profile: met, unclear, not_met or a note."""

    rule_id: str
    outcome: str
    text: str
    source: Source


@dataclass
class _Route:
    status: Optional[str] = None
    findings: List[Finding] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    next_steps: List[str] = field(default_factory=list)

    def decide(self, status: str, *findings: Finding, steps: List[str] = ()) -> "_Route":
        self.status = status
        self.findings.extend(findings)
        self.next_steps.extend(steps)
        return self

    def need(self, fact: str) -> "_Route":
        self.missing.append(fact)
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

    def as_payload(self) -> Dict[str, Any]:
        """The machine-readable form sent to websites in a `custom` message."""
        return {
            "programme": self.programme,
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
        higher = p.get("higher_degree")
        higher_label = (
            rules.qualification_label(higher)
            if higher and rules.qualification_group(higher)
            else "a higher degree"
        )
        subjects = [
            s for s in p.get("a_level_subjects") or [] if s in rules.a_level_ask_university
        ]
        count = a_level_count(rules, p)
        return {
            "degree_class": rules.class_label(p["degree_class"])
            if p.get("degree_class")
            else "your degree",
            "subject": p.get("degree_subject") or "your subject",
            "subject_title": _capitalise(p.get("degree_subject") or "your subject"),
            "higher_degree": higher_label,
            "higher_degree_title": _capitalise(higher_label),
            "higher_degree_short": higher_label.split(" ", 1)[1],
            "higher_degree_subject": p.get("higher_degree_subject") or "its subject",
            "a_level_count": _COUNT_WORDS.get(count, str(count)),
            "a_level_subjects": " or ".join(subjects) or "your subject",
        }

    def finding(self, rule_id: str, outcome: str, text_key: Optional[str] = None) -> Finding:
        rule: Rule = self.rules.rules[rule_id]
        text = rule.texts[text_key or outcome].format_map(self.values())
        return Finding(rule_id, outcome, text, rule.source)

    def next_step(self, rule_id: str) -> List[str]:
        step = self.rules.rules[rule_id].texts.get("next_step")
        return [step] if step else []


_COUNT_WORDS = {0: "none", 1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six"}


def _capitalise(text: str) -> str:
    return text[:1].upper() + text[1:]


def assess(rules: EntryRules, profile: Mapping[str, Any]) -> Assessment:
    """Evaluate the profile against the rules for its programme."""
    programme = profile.get("programme")
    if programme not in ("STP", "PTP"):
        return Assessment(programme=None, verdict=None, missing=("programme",))
    ctx = _Context(rules, profile)
    if programme == "STP":
        # Facts that decide both STP routes at once are checked first.
        gate = _stp_gatekeeping(ctx)
        routes = [gate] if gate else [_stp_degree_route(ctx), _stp_higher_degree_route(ctx)]
    else:
        routes = [_ptp_route(ctx)]
    return _combine(rules, programme, routes)


def _combine(rules: EntryRules, programme: str, routes: List[_Route]) -> Assessment:
    """Eligible if any route passes; otherwise ask, then the best of the rest."""
    passed = [r for r in routes if r.status == PASS]
    undecided = [r for r in routes if r.status is None]
    if passed:
        # Keep the other routes' failures out: they would only confuse the verdict.
        chosen = passed[:1]
        status = PASS
    elif undecided:
        missing = list(dict.fromkeys(m for r in undecided for m in r.missing))
        return Assessment(programme=programme, verdict=None, missing=tuple(missing))
    else:
        chosen = routes
        status = POSSIBLE if any(r.status == POSSIBLE for r in routes) else FAIL
    findings = _unique(f for r in chosen for f in r.findings)
    verdict = VERDICT_FOR[status]
    steps = [s for r in chosen for s in r.next_steps] if status != PASS else []
    steps.append(rules.next_steps[programme][verdict][0])
    return Assessment(
        programme=programme,
        verdict=verdict,
        findings=tuple(findings),
        next_steps=tuple(dict.fromkeys(steps)),
    )


def _unique(findings) -> List[Finding]:
    seen: Dict[Tuple[str, str], Finding] = {}
    for f in findings:
        seen.setdefault((f.rule_id, f.text), f)
    return list(seen.values())


_STATUS_FOR_OUTCOME = {"met": PASS, "unclear": POSSIBLE, "not_met": FAIL}


def subject_relevance(rules: EntryRules, subject: str) -> Finding:
    """What the rules say about a first degree in `subject` for clinical engineering."""
    ctx = _Context(rules, {"degree_subject": subject})
    category = rules.subject_category(subject)
    if category == "commonly_accepted":
        return ctx.finding("stp_subject_relevance", "met")
    if category in ("other_sciences", "unknown"):
        return ctx.finding("stp_subject_relevance", "unclear")
    if category == "not_generally_accepted":
        return ctx.finding("stp_animal_plant_science", "not_met")
    if category == "medical":
        return ctx.finding("stp_medical_degree", "not_met")
    return ctx.finding("stp_subject_relevance", "not_met")


def _stp_gatekeeping(ctx: _Context) -> Optional[_Route]:
    """What decides both STP routes at once (no degree, a medical degree, no class)."""
    p = ctx.profile
    if p.get("degree_class") == "none":
        return _Route().decide(
            FAIL, ctx.finding("stp_no_degree", "not_met"), steps=ctx.next_step("stp_no_degree")
        )
    subject = p.get("degree_subject")
    if subject and ctx.rules.subject_category(subject) == "medical":
        return _Route().decide(FAIL, ctx.finding("stp_medical_degree", "not_met"))
    if not p.get("degree_class"):
        return _Route().need("degree_class")
    return None


def _stp_degree_route(ctx: _Context) -> _Route:
    """A 1st or 2:1 honours or integrated master's in a relevant science."""
    route, p, rules = _Route(), ctx.profile, ctx.rules
    minimum = rules.rules["stp_degree_class"].minimum_class
    if not rules.class_at_least(p["degree_class"], minimum):
        rule = "stp_predicted_result" if p.get("degree_predicted") else "stp_degree_class"
        return route.decide(FAIL, ctx.finding(rule, "not_met"))
    subject = p.get("degree_subject")
    if not subject:
        return route.need("degree_subject")
    relevance = subject_relevance(rules, subject)
    status = _STATUS_FOR_OUTCOME[relevance.outcome]
    if status != PASS:
        return route.decide(status, relevance)
    route.decide(PASS, ctx.finding("stp_degree_class", "met"), relevance)
    if p.get("degree_predicted"):
        route.findings.append(ctx.finding("stp_predicted_result", "met"))
    if rules.qualification_group(p.get("higher_degree") or "") != "higher_degree":
        route.findings.append(ctx.finding("stp_research_experience", "note"))
    return route


def _stp_higher_degree_route(ctx: _Context) -> _Route:
    """A 2:2 or better in any subject plus a relevant higher degree."""
    route, p, rules = _Route(), ctx.profile, ctx.rules
    route_rule = "stp_higher_degree_route"
    if not rules.class_at_least(p["degree_class"], rules.rules[route_rule].minimum_class):
        return route.decide(FAIL, ctx.finding(route_rule, "not_met", "not_met_class"))
    good_class = rules.rules["stp_degree_class"].minimum_class
    if p.get("degree_predicted") and not rules.class_at_least(p["degree_class"], good_class):
        return route.decide(FAIL, ctx.finding("stp_predicted_result", "not_met"))
    higher = p.get("higher_degree")
    if not higher:
        return route.need("higher_degree")
    group = rules.qualification_group(higher)
    if group != "higher_degree":
        finding = (
            ctx.finding("stp_not_a_higher_degree", "not_met")
            if group == "not_higher_degree"
            else ctx.finding(route_rule, "not_met", "not_met_none")
        )
        return route.decide(FAIL, finding, steps=ctx.next_step(route_rule))
    subject = p.get("higher_degree_subject")
    if not subject:
        return route.need("higher_degree_subject")
    # Relevance is judged as for a first degree; only the wording differs.
    status = _STATUS_FOR_OUTCOME[subject_relevance(rules, subject).outcome]
    if status == FAIL:
        return route.decide(
            FAIL,
            ctx.finding(route_rule, "not_met", "not_met_subject"),
            steps=ctx.next_step(route_rule),
        )
    route.decide(status, ctx.finding(route_rule, "met" if status == PASS else "unclear"))
    if p.get("higher_degree_in_progress"):
        route.findings.append(ctx.finding("stp_awarded_by_start", "met"))
    return route


def gcse_grade_meets(rules: EntryRules, grade: Any) -> Optional[bool]:
    """Whether a lowest GCSE grade (letter, number, 'met'/'not_met') is enough."""
    if grade in ("met", "not_met"):
        return grade == "met"
    text = str(grade).strip().upper()
    if text.isdigit():
        return int(text) >= rules.gcse_minimum_number
    if text in GCSE_LETTERS:
        return GCSE_LETTERS.index(text) <= GCSE_LETTERS.index(rules.gcse_minimum_letter)
    return None


def a_level_count(rules: EntryRules, profile: Mapping[str, Any]) -> Optional[int]:
    """The number of A-levels given, or else the subjects named when they are enough.

    Naming fewer subjects than the minimum proves nothing (people name only some),
    so that case still asks.
    """
    if profile.get("a_level_count") is not None:
        return int(profile["a_level_count"])
    named = len(profile.get("a_level_subjects") or [])
    return named if named >= rules.rules["ptp_a_levels"].minimum_count else None


def science_a_level_status(rules: EntryRules, profile: Mapping[str, Any]) -> Optional[str]:
    """'yes', 'no' or 'unsure', from the answer or else from the A-level subjects."""
    answer = profile.get("science_a_level")
    if answer in ("yes", "no", "unsure"):
        return answer
    subjects = profile.get("a_level_subjects") or []
    if any(s in rules.a_level_science for s in subjects):
        return "yes"
    if any(s in rules.a_level_ask_university for s in subjects):
        return "unsure"
    return None


def _ptp_route(ctx: _Context) -> _Route:
    """GCSEs A-C, at least two A-levels, one of them a science."""
    p, rules = ctx.profile, ctx.rules
    checks: List[Tuple[Optional[str], Optional[Finding], str, str]] = []

    grades_ok = gcse_grade_meets(rules, p["gcse_grades"]) if p.get("gcse_grades") else None
    checks.append(_check(ctx, "ptp_gcses", grades_ok, "gcse_grades"))

    count = a_level_count(rules, p)
    enough = None if count is None else count >= rules.rules["ptp_a_levels"].minimum_count
    checks.append(_check(ctx, "ptp_a_levels", enough, "a_level_count"))

    if count != 0:  # with no A-levels at all, a science among them is moot
        science = science_a_level_status(rules, p)
        outcome = {"yes": True, "no": False, "unsure": "unclear"}.get(science or "")
        checks.append(_check(ctx, "ptp_science_a_level", outcome, "science_a_level"))

    statuses = [status for status, _, _, _ in checks]
    if FAIL in statuses:
        failed = [c for c in checks if c[0] == FAIL]
        steps = [step for _, _, rule_id, _ in failed for step in ctx.next_step(rule_id)]
        return _Route().decide(FAIL, *[finding for _, finding, _, _ in failed], steps=steps)
    if None in statuses:
        return _Route(missing=[fact for status, _, _, fact in checks if status is None])
    return _Route().decide(
        POSSIBLE if POSSIBLE in statuses else PASS,
        *[finding for _, finding, _, _ in checks],
        ctx.finding("ptp_university_requirements", "note"),
    )


def _check(ctx: _Context, rule_id: str, ok: Any, fact: str):
    """(status, finding, rule id, fact) for one PTP requirement."""
    if ok is None:
        return (None, None, rule_id, fact)
    if ok == "unclear":
        return (POSSIBLE, ctx.finding(rule_id, "unclear"), rule_id, fact)
    if ok:
        return (PASS, ctx.finding(rule_id, "met"), rule_id, fact)
    return (FAIL, ctx.finding(rule_id, "not_met"), rule_id, fact)


def missing_facts(rules: EntryRules, profile: Mapping[str, Any]) -> List[str]:
    """The facts the check still needs, in the order to ask them."""
    return list(assess(rules, profile).missing)
