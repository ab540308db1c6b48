"""Where a qualification stands, read from the words around it (issue 26).

Pure Python, no Rasa import. People state facts with their timing: "I'm finishing my MSc
in December", "predicted a 2:1", "thinking about doing a masters", "dropped out of my
PhD", "year 13, taking physics and maths". `status_cues` finds those words;
`status_of` says which qualification in the message each one is about (the first after it
in its clause, or else the nearest before it), and `ends_of` reads when a qualification
still being studied ends, as the person said it.

The statuses are `careers.vocabulary.STATUSES`; a qualification with no cue is held.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from careers.vocabulary import ABANDONED, HELD, IN_PROGRESS, PLANNED, PREDICTED
from dialogue.mentions import A_LEVEL_ROLE


@dataclass(frozen=True)
class Span:
    """A qualification named in a message and the kind it is (its role, as in
    dialogue.mentions)."""

    start: int
    end: int
    role: str
    # The subject, when the span is a subject named for that kind ("dropped chemistry").
    subject: str = ""


# Each cue is a status and the words that say it. Order matters where cues overlap:
# the first to match a stretch of text wins ("haven't got my results yet" is not a denial).
_CUES: Tuple[Tuple[str, str], ...] = (
    (
        ABANDONED,
        r"dropped out|drop out|dropping out|(planning|plan|going|want(ing)?) to drop|will drop"
        r"|quit|gave up|give up|left (it|during|halfway)"
        r"|left after (the |my |her |his )?((first|second|third|1st|2nd|3rd|one|two|three|a|an|\d) "
        r"(years?|yrs?|terms?|semesters?|months?)|(year|yr) [1-4])\b"
        r"|left in (the |my |her |his )?(first|second|third|final|1st|2nd|3rd|middle)"
        r"|didn'?t (finish|complete)|did not (finish|complete)|never (finished|completed)"
        r"|withdrew|withdrawn|abandoned|failed to (finish|complete)|dropped(?!\s+(down\s+)?to\b)",
    ),
    (
        PLANNED,
        r"thinking (about|of)( doing| taking| starting)?|planning( on| to)?|plan(s)? to|intend(ing)? to"
        r"|going to (do|start|take|study)|gonna (do|start|take|study)|want(s|ed)? to (do|take|study|start)"
        r"|would like to (do|take|study)|hoping to (do|start|take|study)|considering( doing)?|weighing up"
        r"|about to (start|begin)|will (start|begin|be starting|be doing|be taking|do|take)"
        # an offer or a place on a course: "accepted an offer for an MSc", "a place on a masters"
        r"|((accepted|got|have|holding|hold) )?an? (offer|place) (for|on|to do|to study|at)"
        r"(?= (an?|the) ([\w'-]+ ){0,3}"
        r"(msc|masters?|master'?s|mres|mphil|phd|pgdip|pgcert|course|degree|bsc|beng)\b)"
        r"|(start|starting|begin|beginning)( (a|an|my|her|his|the))? [\w' ]{0,40}? (in|this|next) "
        r"(january|february|march|april|may|june|july|august|september|october|november|december"
        r"|autumn|spring|summer|winter|year|the autumn|the new year)"
        r"|starting sixth form|start sixth form"
        r"|(do|doing|take|taking) (a|an) [\w' ]{0,30}? next year",
    ),
    (
        PREDICTED,
        r"predicted|predict(s|ing)?|expect(ing|ed|s)?|on (track|course) for|on (track|course) to get"
        r"|aiming for|hoping for|should get|going to get|will (probably |likely )?get|tracking( at| a)?"
        r"|reckon (he|she|they|i)'?(ll| will) get|(he|she|they|i)'ll (probably |likely )?get|likely to get"
        r"|so far|on a (first|2[:.]?[12]|2i|2ii)"
        r"|looking like|looks like"
        r"|getting [\w:.\- ]{0,12} marks|sitting on|averaging|currently on (a|for)|heading for",
    ),
    (
        IN_PROGRESS,
        r"doing|currently(?! (working|employed|work|have|hold|has|got|a |an"
        r"|in (a |my |the )?(job|role|post)|in (the )?uk|in (london|england|scotland|wales|the country)"
        r"|living|based|on an? \w+ visa))"
        r"|studying|halfway|half way|part[- ]way|finishing|will finish|in progress"
        r"|working towards|enrolled|taking(?! a gap)|resitting|re-?taking"
        r"|still (at|in|studying|doing|waiting)"
        r"|in (my|her|his|their) (first|second|third|fourth|final|last|1st|2nd|3rd|4th) year"
        r"|(?<!bad )(?<!tough )(?<!rough )(?<!hard )(?<!during my )(?<!during the )(?<!during her )"
        r"(?<!during his )(?<!during )(?<!in my )(?<!in the )"
        r"final[- ]year(?! (project|module|exam|dissertation))"
        r"|final yr"
        r"|(just |have |has |'ve )?started|sits|sitting|sit (them|it|my|his|her)"
        r"|(first|second|third|fourth|1st|2nd|3rd|4th)[- ](year|yr)"
        r"(?! (marks|results|grades|exams|modules|project))"
        r"|(last|final) (year|yr) of|(in )?(year|yr) [1-6] of ([1-6]|(my|a|an|the|her|his|their) "
        r"([\w\-]+ ){0,2}(degree|course|msc|masters?|phd|bsc|ba|beng|meng|mres|t[- ]?level|btec|diploma"
        r"|access|ib|a[- ]?levels?))\b"
        r"|(?<!end of )(?<!left )(?<!after )(?<!finished )(?<!since )(?<!through )(?<!teach )(?<!teaches )"
        r"(?<!teaching )(year|yr) ?1[1-3]"
        r"(?!\s*(tutor|teacher|students|pupils|class|classes|form tutor|group))"
        r"|haven'?t (got|had|received) (my|the|her|his|their)? ?[\w\- ]{0,12}results"
        r"|results? (are |is )?(out|due|come out|won'?t be (out|confirmed))|won'?t be (confirmed|awarded)"
        r"|should finish|due to (finish|complete|graduate)|will (complete|graduate|have)|graduating"
        r"|in uni|in sixth form|rn|right now|finishes|ends in|doin"
        r"|(?<!teach ib )(?<=\bib )students?|(?<!teach btec )(?<=\bbtec )students?"  # "an IB student"
        r"|(i|we|she|he|they) finish (in|on|by|at|next)"
        r"|submitted (my|her|his|their|the)( \w+)? (thesis|dissertation)"
        r"|(thesis|dissertation) (is )?submitted"
        r"|viva (is |'s )?(booked|scheduled|coming up|due|next|soon|pending)"
        r"|(awaiting|waiting for|have|got) (my |a |the )?viva\b(?! (in|was) (19|20)\d\d)"
        r"|awaiting (my |her |his )?results"
        r"|(wait|need|have|has|want|got) to finish (my|her|his|their|the)"
        r"|won'?t (have|get|finish|complete|be done with) (my|her|his|their|the)"
        r"|waiting (for|on) (my |her |his )?results"
        r"|(on|doing|in) (my |a |the )?(placement|sandwich) year|(on|doing) (my |a )?year in industry"
        r"|(i|he|she|they)'ll (graduate|finish|complete)|(has|have)n'?t (finished|completed)"
        r"|not (finished|completed) (it )?yet|yet to (finish|complete|sit|graduate)",
    ),
    # Words that say a qualification is done, the weakest cue: any other about the same
    # qualification wins ("I got a 2:2 and I'm doing an MSc": the 2:2 is held, the MSc not).
    (
        HELD,
        r"graduated|i'?ve graduated|got|have got|'ve got|achieved|was awarded|were awarded|received"
        r"|(i'?m|i am|she'?s|he'?s|just) after (finishing|completing|doing|getting)"
        r"|finished|completed|passed|been awarded|(is|was) done",
    ),
)
_FORWARD_ONLY = re.compile(
    r"(currently|doing|taking|studying|working towards|enrolled|sitting|sits|sit |resitting|re-?taking"
    r"|(just |have |has |'ve )?started|in uni|in sixth form)",
    re.IGNORECASE,
)
_CUE_PATTERN = re.compile(
    "|".join(rf"(?P<c{i}>\b(?:{words})\b)" for i, (_, words) in enumerate(_CUES)), re.IGNORECASE
)
# A timing word about something already named: "doing it this year", "sitting them in May".
_BACK_REFERENCE = re.compile(r"\s+(it|them|this|that|those|these)\b", re.I)
_CLAUSE_BREAK = re.compile(r"[.;!?\n]|\s[-–—]\s|\b(but|and then|although|though|whereas|however)\b", re.I)

# When something still being studied ends: "in December 2026", "next summer", "by June".
_MONTHS = (
    r"january|february|march|april|may|june|july|august|september|october|november|december"
    r"|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
)
_WHEN = (
    rf"(?:(?:in|by|before|until|around|this|next|early|late|end of|the end of)\s+)*"
    rf"(?:(?:{_MONTHS}|summer|autumn|spring|winter|the summer|the autumn|the start)\b"
    rf"(?:\s+(?:of\s+)?(?:20\d\d|'?\d\d)\b)?|20\d\d\b|next year\b|this year\b)"
)
_TIME_NEXT = re.compile(rf"\s*{_WHEN}\s*[,;.]", re.IGNORECASE)
_ENDS = re.compile(
    rf"\b(?:finish(?:es|ing)?|end(?:s|ing)?|complet(?:e|es|ing)|graduat(?:e|es|ing)|done"
    rf"|awarded|confirmed|submit(?:ting)?|hand(?:ing)? in|due)\b[\w' ]{{0,45}}?\b(?P<when>{_WHEN})",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Cue:
    status: str
    start: int
    end: int
    # A word that takes its qualification after it ("currently doing an MSc", "thinking
    # about a masters") never reaches back to one named before ("a 2:2, and I'm currently
    # applying").
    forward_only: bool = False
    # A word that points back with "it" or "them" reaches only the qualification named
    # just before it ("Access to HE Diploma - doing it this year").
    short_reach: bool = False


def status_cues(text: str) -> List[Cue]:
    """The timing words of a message, each with the status it says."""
    cues = []
    for match in _CUE_PATTERN.finditer(text or ""):
        index = next(int(name[1:]) for name, value in match.groupdict().items() if value)
        status = _CUES[index][0]
        forward = status == PLANNED or bool(_FORWARD_ONLY.match(match.group(0)))
        short = False
        if forward and status != PLANNED and _BACK_REFERENCE.match(text[match.end() :]):
            forward, short = False, True  # "Access to HE Diploma - doing it this year"
        cues.append(Cue(status, match.start(), match.end(), forward, short))
    return cues


def cue_target(text: str, cue: Cue, spans: Sequence[Span], cues: Sequence[Cue] = ()) -> Optional[Span]:
    """The qualification a timing word is about: the first after it in its clause (within a
    few words), else the nearest before it in its clause; never one another timing word
    stands nearer to, between them ("want to do the PTP, doing 3 A-levels": the A-levels
    are being done, not wanted)."""
    ordered = sorted(spans, key=lambda s: s.start)
    # A "done" word that times nothing of its own ("my mum got ill") stands in no one's way.
    others = [
        c for c in cues if c != cue and (c.status != HELD or any(0 <= s.start - c.end <= 20 for s in ordered))
    ]

    def blocked(start: int, end: int) -> bool:
        return any(start <= c.start and c.end <= end for c in others)

    # "haven't got my A-level results": the qualification is named inside the words.
    inside = [s for s in ordered if s.start >= cue.start and s.end <= cue.end]
    if inside:
        return inside[0]
    # ("doing it this year": what "it" stands for was named before, never after)
    following = None if cue.short_reach else next((s for s in ordered if s.start >= cue.end), None)
    between_after = text[cue.end : following.start] if following else ""
    after_ok = (
        following is not None
        and len(between_after) <= 45
        and not _CLAUSE_BREAK.search(between_after)
        and not blocked(cue.end, following.start)
    )
    before = [s for s in ordered if s.end <= cue.start]
    # Giving up comes later in the telling ("started an MSc in 2024 but my mum got ill and I
    # dropped out in the January"): it reaches further back, within the sentence.
    reach = 100 if cue.status == ABANDONED else 15 if cue.short_reach else 40
    between_before = text[before[-1].end : cue.start] if before else ""
    # ("I started a PhD but dropped out": past a "but", not past a sentence's end.)
    before_ok = (
        not cue.forward_only
        and bool(before)
        and len(between_before) <= reach
        and not re.search(r"[;!?\n]|\.(?!\d)", between_before)  # (not the dot in "8.6/10")
        and not blocked(before[-1].end, cue.start)
    )
    if following is not None and len(between_after) <= 45 and blocked(cue.end, following.start):
        return None  # "currently doing an MSc": the nearer word speaks for both
    if after_ok and before_ok and "," in between_after and "," not in between_before:
        # "his chemistry degree in second year, he's got A-levels": the year is the degree's.
        return before[-1]
    if after_ok and before_ok and _TIME_NEXT.match(between_after):
        # "a T Level in Health Science, finishing summer 2026, GCSEs 5 at grade 4": the
        # words end in a time, so they are about what came before.
        return before[-1]
    if after_ok:
        return following
    if before_ok:
        return before[-1]
    return None


def statuses(text: str, spans: Iterable[Span], cues: Optional[Sequence[Cue]] = None) -> Dict[str, str]:
    """The status of each kind of qualification the message times (role -> status).

    The strongest word about a kind wins: abandoned over planned over predicted over in
    progress ("I started an MSc but dropped out"; "doing my final year, predicted a 2:1")."""
    spans = list(spans)
    rank = {ABANDONED: 0, PLANNED: 1, PREDICTED: 2, IN_PROGRESS: 3, HELD: 4}
    found: Dict[str, str] = {}
    cues = status_cues(text) if cues is None else cues
    for cue in cues:
        target = cue_target(text, cue, spans, cues)
        if target is None:
            continue
        if target.subject and target.role == A_LEVEL_ROLE and cue.status == ABANDONED:
            continue  # one A-level subject dropped, not them all (see `dropped`)
        current = found.get(target.role)
        if current is None or rank[cue.status] < rank[current]:
            found[target.role] = cue.status
    return found


def dropped(text: str, spans: Iterable[Span], cues: Optional[Sequence[Cue]] = None) -> List[str]:
    """A-level subjects the message says were dropped, named right after the word that says
    so ("dropped chemistry after AS", "planning to drop the chem")."""
    found = []
    for cue in status_cues(text) if cues is None else cues:
        if cue.status != ABANDONED:
            continue
        for span in spans:
            between = text[cue.end : span.start]
            if (
                span.subject
                and span.role == A_LEVEL_ROLE
                and span.start >= cue.end
                and re.fullmatch(r"\s*(the|my|her|his|out of)?\s*", between, re.I)
            ):
                found.append(span.subject)
    return found


def ends_of(text: str, span: Span) -> Optional[str]:
    """When the qualification at `span` ends, in the person's words ("in December 2026"),
    if the same clause says so."""
    clause_start = max((m.end() for m in _CLAUSE_BREAK.finditer(text[: span.start])), default=0)
    rest = text[span.end :]
    following = _CLAUSE_BREAK.search(rest)
    clause = text[clause_start : span.end + (following.start() if following else len(rest))]
    match = _ENDS.search(clause)
    if not match:
        return None
    return " ".join(match.group("when").split())
