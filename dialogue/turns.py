"""One message in a conversation: what it says, given where the conversation is.

`understand` reads a message's facts in the light of the question just asked;
`read_message` adds where the conversation is (in a check, after a verdict); `take_turn`
is the layer's typed entry point for the actions: a `Turn` in (the message, its entities
and intent, the question just asked, the facts so far), a `TurnResult` out (the facts
changed and made stale, whether an answer could not be read, what was understood, and
what the check asks next). Pure Python, no Rasa import: tests reach it without a Tracker.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from careers.answers import describe_facts
from careers.engine import missing_facts, science_a_level_status
from careers.rules_file import EntryRules
from careers.vocabulary import (
    A_LEVEL_ALTERNATIVES,
    A_LEVEL_COUNT,
    A_LEVEL_SUBJECTS,
    AFFIRM_INTENT,
    CHECK_INTENT,
    DEGREE_CLASS,
    DEGREE_SUBJECT,
    DEGREE_TYPE,
    DENY_INTENT,
    FALLBACK_INTENT,
    FOLLOW_UP_INTENT,
    GCSE_GRADES,
    HIGHER_DEGREE,
    HIGHER_DEGREE_SUBJECT,
    INFORM_INTENT,
    MET,
    NO,
    NONE_HELD,
    NOT_COVERED_INTENT,
    NOT_HIGHER_DEGREE,
    NOT_MET,
    NOT_UNDERSTOOD,
    OUT_OF_SCOPE_INTENT,
    PROFILE_FACTS,
    PROGRAMME,
    PTP,
    SCIENCE_A_LEVEL,
    STP,
    UNSURE,
    YES,
)
from dialogue.denials import _NO_HIGHER, _UNSURE, NOT_YET, says_no, says_yes
from dialogue.facts import _NOT_A_DEGREE, apply_facts, facts_from_message
from dialogue.grades import (
    _COUNT_GRADE,
    canonical_degree_class,
    canonical_qualification,
    judge_gcses,
    parse_count,
)
from dialogue.subjects import _SUBJECT_SLOTS, clean_subject
from dialogue.whom import whom

# Intents whose messages can answer the question the check just asked. ("Am I
# eligible?" in the middle of a check gives facts if it has any, but is not an answer.)
ANSWER_INTENTS = frozenset({INFORM_INTENT, AFFIRM_INTENT, DENY_INTENT, FALLBACK_INTENT})


# Intents whose messages state facts about the person (not questions about rules).
FACT_INTENTS = frozenset({INFORM_INTENT, CHECK_INTENT, AFFIRM_INTENT, DENY_INTENT, FALLBACK_INTENT})


@dataclass
class Understanding:
    """What a message says: facts keyed by slot, and whether an answer to the
    question just asked could not be read."""

    facts: Dict[str, Any] = field(default_factory=dict)
    unreadable: bool = False


def answer_for_asked(rules: EntryRules, asked: str, text: str, intent: Optional[str]) -> Optional[Any]:
    """A value for the fact just asked for (`asked`), from a reply with no usable entity
    (asked for a subject, NONE_HELD: the person has no such degree)."""
    text = text or ""
    unsure = bool(_UNSURE.search(text))
    # A yes or no needs the words (or the button) for it: the classifier's guess alone
    # could turn "asdf" into a yes.
    deny = says_no(text)
    affirm = says_yes(text)
    if asked == SCIENCE_A_LEVEL:
        if unsure:
            return UNSURE
        return YES if affirm and not deny else NO if deny else None
    if asked == GCSE_GRADES:
        if unsure:
            return UNSURE
        judged = judge_gcses(rules, text)
        if judged:
            return judged
        return MET if affirm and not deny else NOT_MET if deny else None
    if unsure:
        return None
    if asked == HIGHER_DEGREE:
        if deny or _NO_HIGHER.search(text) or re.search(r"\bnothing (else|more|further)\b", text, re.I):
            return NONE_HELD
        qualification = canonical_qualification(text, rules.qualifications)
        if qualification and rules.qualification_group(qualification) in (HIGHER_DEGREE, NOT_HIGHER_DEGREE):
            return qualification
        return None  # a bare "yes" does not say which: the hint asks
    if asked == A_LEVEL_COUNT:
        if deny:
            return 0
        # "five at B and three at A" counts GCSEs at grades, not A-levels.
        return parse_count(_COUNT_GRADE.sub(" ", text))
    if asked == DEGREE_CLASS:
        if deny and not NOT_YET.search(text):
            return NONE_HELD  # ("not yet, I'm still in my final year" is no answer: the hint asks)
        return canonical_degree_class(text)
    if asked == PROGRAMME:
        return programme_from_answer(text)
    if asked in _SUBJECT_SLOTS:
        if deny:
            return NONE_HELD
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


# Stages of life that say which programme someone means.
_STAGE_PROGRAMMES = {"graduate": STP, "university": STP, "school": PTP}


def programme_implied_by(facts: Mapping[str, Any], stages: Iterable[str] = ()) -> Optional[str]:
    """A degree points to the graduate STP; school qualifications alone to the PTP. An HND,
    HNC or foundation degree alone points to neither: the person may mean either route."""
    degree_facts = facts.keys() & {DEGREE_CLASS, DEGREE_SUBJECT, HIGHER_DEGREE, DEGREE_TYPE}
    if facts.get(DEGREE_CLASS) == NONE_HELD:
        degree_facts -= {DEGREE_CLASS}  # no degree points to neither programme on its own
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
        # The programme asked about is no fact, but it says how the rest is meant: "need a
        # science A-level for the PTP? im doing maths, further maths and economics".
        asked_about = {str(e.get("value")).upper() for e in entities if e.get("entity") == PROGRAMME}
        if len(asked_about) == 1 and asked_about <= {STP, PTP}:
            programme = programme or next(iter(asked_about))
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
        value = answer_for_asked(rules, asked, text, intent)
        if value == NONE_HELD and asked == HIGHER_DEGREE_SUBJECT:
            # "she doesn't have one": no higher degree after all.
            facts[HIGHER_DEGREE] = NONE_HELD
        elif value == NONE_HELD and asked in _SUBJECT_SLOTS:
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


@dataclass(frozen=True)
class Turn:
    """One message of the person, and where the conversation is when it comes."""

    text: str
    entities: Tuple[Mapping[str, Any], ...] = ()
    intent: Optional[str] = None
    # The fact the check just asked for (its slot), None outside a check.
    asked: Optional[str] = None
    # The facts so far, as the engine reads them.
    facts: Mapping[str, Any] = field(default_factory=dict)
    in_check: bool = False
    # The assistant's last answer was a verdict; `had_verdict`: one was given at some point.
    after_verdict: bool = False
    had_verdict: bool = False


@dataclass(frozen=True)
class TurnResult:
    """What a turn changes and what comes next."""

    # Facts to set (None clears one), including those the new facts make stale.
    changes: Dict[str, Any]
    # A new check after a verdict, with no new facts: every fact and the verdict cleared.
    start_afresh: bool = False
    # An answer to the question asked that could not be read.
    unreadable: bool = False
    # Whom the message speaks of (dialogue.whom), when it says.
    about: Optional[str] = None
    # What `understood` and `ask_next` are worked out from, only when asked for: the
    # actions need neither on every message.
    rules: Optional[EntryRules] = field(default=None, repr=False)
    read: Mapping[str, Any] = field(default_factory=dict, repr=False)
    profile: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @property
    def understood(self) -> str:
        """What the message said, in a few words ("a 2:1 in physics (predicted)")."""
        return describe_facts(self.rules, self.read) if self.rules else ""

    @property
    def ask_next(self) -> Optional[str]:
        """The fact the check asks for next, None when it has what it needs for a verdict."""
        if self.rules is None:
            return None
        missing = missing_facts(self.rules, self.profile)
        return missing[0] if missing else None


def take_turn(rules: EntryRules, turn: Turn) -> TurnResult:
    """The facts a message gives, what they change in the profile, and what the check
    needs next: everything the actions turn into slot events."""
    if not (turn.text or "").strip():
        return TurnResult({})
    understanding = read_message(
        rules,
        turn.text,
        turn.entities,
        turn.intent,
        turn.asked,
        turn.facts,
        in_check=turn.in_check,
        after_verdict=turn.after_verdict,
    )
    facts = dict(understanding.facts)
    profile: Dict[str, Any] = dict(turn.facts)
    changes: Dict[str, Any] = {}
    start_afresh = (
        turn.intent == CHECK_INTENT and not turn.in_check and turn.had_verdict and set(facts) <= {PROGRAMME}
    )
    if start_afresh:
        changes = {fact: None for fact in PROFILE_FACTS if profile.get(fact) is not None}
        profile = {}
    if understanding.unreadable and turn.asked:
        facts[turn.asked] = NOT_UNDERSTOOD
    changes.update(apply_facts(profile, facts))
    after = {**profile, **changes}
    return TurnResult(
        changes=changes,
        start_afresh=start_afresh,
        unreadable=understanding.unreadable,
        about=whom(turn.text),
        rules=rules,
        read=understanding.facts,
        profile={k: v for k, v in after.items() if v is not None and v != NOT_UNDERSTOOD},
    )
