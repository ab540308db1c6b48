"""Yes, no, not sure, and denials: "no master's", "Masters? Haven't done one", "I don't
have a degree", "a PGDip instead of the MSc", "haven't got my A-level results yet" (no
denial). Pure Python, no Rasa import.
"""

from __future__ import annotations

import re

from dialogue.mentions import _clause_before, _Mention

_UNSURE = re.compile(
    r"\b(not sure|unsure|don'?t know|do not know|dunno|no idea|maybe|possibly|not certain"
    r"|can'?t remember|no clue|idk)\b",
    re.I,
)


# A word before a qualification that says the person does not have it.
_NEGATION_BEFORE = re.compile(
    r"(\b(no|not|never|without|nor|neither|none)\b|n't\b|\bnot got\b"
    r"|\b(haven|hasn|hadn|didn|don|doesn|isn|wasn|aren|weren)t\b)[\w' ]{0,24}$",
    re.I,
)


# Not denials: doubt, and a qualification not finished yet ("I haven't finished my MSc").
_NOT_A_NEGATION = re.compile(
    r"\b(not sure|no idea|don'?t know|not certain|dunno)\b"
    r"|n'?t (finished|completed)|\bnot (finished|completed)|\byet to\b"
    r"|\b(wait|oh|ah|um|erm|hmm),? no\b|\bno,? (wait|sorry)\b",  # "wait no, chem went up": a correction
    re.I,
)
# "I haven't got a degree yet": still to come, not none.
NOT_YET = re.compile(r"\b(yet|still (studying|at uni|doing)|final (year|yr)|in my \w+ year)\b", re.I)


# "a PGDip instead of the MSc": the MSc is replaced, not denied.
_REPLACED_BEFORE = re.compile(r"\b(instead of|rather than|in place of|not)\s+(the|my|an?|her|his)?\s*$", re.I)


# Only a first degree: "no other degree", "just my bachelor's", "no master's".
_NO_HIGHER = re.compile(
    r"\b(no|not any|without an?y?|never did an?y?|don'?t have an?y?|doesn'?t have an?y?"
    r"|haven'?t (got|done|completed|taken|studied|started|undertaken) an?y?"
    r"|hasn'?t (got|done|completed) an?y?"
    r"|(have|has) not (got|done|completed|taken|studied|started|undertaken) an?y?"
    r"|didn'?t do an?y?|no plans? (for|to do) an?y?|not planning (on doing |on |to do )?an?y?"
    r"|never (done|studied|started) an?y?|can'?t afford an?y?|cannot afford an?y?|couldn'?t afford an?y?)"
    r"\s+((other|further|higher|more)"
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
# A degree named as the course someone wants a place on, not one they have: "can I get
# onto the clinical engineering BSc?", "apply for a BSc in healthcare science".
_WANTED_COURSE = re.compile(
    r"\b(get(ting)?|go(ing)?|be accepted|accepted|a place|places?|enrol(l?ing)?|apply(ing)?|applications?"
    r"|look(ing)? at (me|him|her|them)|consider(ing)? (me|him|her|them))"
    # (not "apply for the STP with a first in ...": what they have comes after "with")
    r"\s+(on|onto|into|for|to|in)\s+(the|a|an)\s+"
    # (nor "apply for the STP i have a first in ...": a person and a verb start what they have)
    r"(?:(?!\b(?:with|from|having|as|since|because|i|i'm|im|ive|my|me|he|she|they|we|have|has|got|did|do)\b)"
    r"[\w\- ]){0,40}$",
    re.I,
)


_ASKED_ABOUT = re.compile(
    r"(\b(need|needs|needed|require[sd]?|have to (do|get|take)|worth (doing|getting|taking))"
    r"|^\W*(or\s+)?(does|do|is|would|will|should|could|can)\s+(i|he|she|they|we|you)?\s*(do|get|take|need)?)"
    r"\s*(an?|any|the|another|separate|a separate)?\s*(full|proper|whole|real|actual)?\s*$",
    re.I,
)


# A degree class asked about, not had: "do I need a first?", "you have to get a 2:1".
NEEDED_BEFORE = re.compile(
    r"\b(need|needs|needed|require[sd]?|(have|has) to (get|have)|must (get|have)"
    # "do they only take firsts", "unis want a 2:1" (not "I had to accept a 2:2")
    r"|(they|you|unis?|universities|it|the stp|the ptp|nhs|nshcs|they only|you only|only)\s+"
    r"(take|takes|accept|accepts|want|wants|ask for|asks for|look for|looking for))\s+(an?\s+)?"
    r"([\w:.]+\s+or\s+(an?\s+)?)?$",  # "I need a 1st or 2:1"
    re.I,
)
# A school qualification asked about as a requirement: "do they only want A levels?"
# (wider than NEEDED_BEFORE: a qualification, unlike a class, is rarely "accepted" by its holder).
_REQUIREMENT_BEFORE = re.compile(
    r"\b((only )?(want|wants|need|needs|require|requires|accept|accepts|take|takes|look at|ask for)"
    r"|(has|have|had|must) to be|must be"
    r"|instead of|rather than)\s+(the\s+)?$",
    re.I,
)
# "is the 2.1 a hard line": the class the sources ask for, named beside the one had.
REFERRED_BEFORE = re.compile(
    r"(?<!got )(?<!get )(?<!achieved )(?<!with )(?<!have )(?<!secured )(?<!awarded )(?<!earned )"
    r"(?<!for )(?<!- )(?<!: )\bthe\s*$",
    re.I,
)
# "what happens if I end up with a 2:2", "if I'd got the 2:1": a class supposed, not had.
SUPPOSED_BEFORE = re.compile(
    r"\b(if|unless|in case|suppose|supposing)\s+(i|he|she|they|we|you)\s*('d|had|would|were to|was to"
    r"|end(ed)? up|ends? up|gets?|only gets?|don'?t get|doesn'?t get|didn'?t get|drop(ped)?( down)?"
    r"|fall|fell|miss(ed)?|came out|come out)\b[^.;!?]{0,30}$",
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


# "I only got an AS in biology": an AS level, and no A-level.
_ONLY_AS_LEVEL = re.compile(r"\b(only|just)\b[\w' ]{0,14}\b(AS|AS[- ]levels?)\b(?![- ]?(and|&) ?A)")


_NO_DEGREE = re.compile(
    r"\b(no|not got an?y?|don'?t have an?y?|doesn'?t have an?y?|haven'?t got an?y?|hasn'?t got an?y?"
    r"|never (did|got|went to)|didn'?t (do|go to|get))\s+(a\s+)?(degree|uni|university)\b"
    r"|\bnot a graduate\b|\bnon[- ]graduate\b"
    r"|\b(degree|uni|university)\s*[:\-–?]+\s*(none|no+|nope|nah|n/?a|nil)\b",  # "Degree: no"
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
    r"\b(actually|sorry|i meant|correction|my mistake|rather|no wait|wait no|typed that wrong|mixed up"
    r"|got that wrong|oops|update|that'?s wrong|scratch that|make that|strictly( speaking)?|technically"
    r"|to be (exact|precise))\b",
    re.I,
)


def _negated(text: str, mention: _Mention) -> bool:
    """True when the words just before a mention deny it ("no master's", "I don't have a first")."""
    before = _clause_before(text, mention.start)
    return bool(_NEGATION_BEFORE.search(before)) and not _NOT_A_NEGATION.search(before[-25:])


def _replaced(text: str, mention: _Mention) -> bool:
    return bool(_REPLACED_BEFORE.search(_clause_before(text, mention.start)))


def says_yes(text: str) -> bool:
    """A yes in words (or from the Yes button), not only in the classifier's guess."""
    return (text or "").strip() == "/affirm" or (bool(_AFFIRMATION.search(text or "")) and not says_no(text))


def says_no(text: str) -> bool:
    """A no in words (or from the No button)."""
    return (text or "").strip() == "/deny" or bool(_DENIAL.search(text or ""))
