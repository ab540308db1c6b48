"""Whom a message speaks of: the person chatting, or someone they ask for.

Parents, teachers and careers advisers ask for someone else ("my son is in year 12,
could he do the PTP?"); the check's questions should then ask about "them", not
"you". The latest message that decides it wins; most messages decide nothing. Pure
Python, no Rasa import.
"""

from __future__ import annotations

import re
from typing import Optional

from careers.vocabulary import ONESELF, SOMEONE_ELSE

# People a message can ask for. "my friend" and "my partner" count: they are asked
# for as often as children are.
_RELATIONS = (
    r"son|daughter|child|children|kid|kids|boy|girl|teen|teenager|stepson|stepdaughter"
    r"|nephew|niece|grandson|granddaughter|grandchild|brother|sister|sibling|cousin"
    r"|husband|wife|partner|boyfriend|girlfriend|friend|mate|student|students|pupil|pupils"
    r"|learner|learners|mentee|client|tutee|apprentice"
)
_SOMEONE_ELSE = re.compile(
    rf"\b(?:my|our)\s+(?:\w+\s+)?(?:{_RELATIONS})\b"
    rf"|\b(?:a|one of my|one of our)\s+(?:{_RELATIONS})\s+of\s+(?:mine|ours)\b"
    # "asking for someone", not "is it for someone with a biology degree"
    r"|\b(?:asking (?:for|about)|on behalf of)\s+(?:someone|somebody)\b"
    r"|\b(?:for|about|asking for|on behalf of)\s+a (?:student|pupil|client|friend)\b"
    r"|\b(?:i'?m|i am)\s+(?:a|their|his|her)\s+(?:parent|mum|mom|dad|father|mother|teacher"
    r"|careers? (?:adviser|advisor|leader|teacher)|tutor)\b"
    r"|\b(?:he|she|they)\s+(?:has|have|had|is|are|was|were|got|gets|did|does|do|took|takes"
    r"|wants|studied|studies|is doing|is studying|'s|’s|'re|’re|'ve|’ve)\b"
    r"|\b(?:he|she)'?s\b"
    r"|\bcan (?:he|she|they)\b|\b(?:is|are|would|could|will) (?:he|she|they)\b",
    re.IGNORECASE,
)
_ONESELF = re.compile(
    r"\b(?:for|about)\s+(?:me|myself)\b|\bmy own\b"
    r"|\b(?:i|i'?m|i am|i'?ve|i have|i had|i got|i did|i study|i studied)\b(?!\s+(?:a|their|his|her)\s+"
    r"(?:parent|mum|mom|dad|father|mother|teacher|careers?|tutor))",
    re.IGNORECASE,
)
# "I" in what a parent says of themselves ("I think", "I'm asking", "I'm not sure")
# says nothing of whom the check is about.
_ASIDES = re.compile(
    r"\bi\s+(?:think|guess|believe|suppose|hope|wonder|was wondering|mean|don'?t know|dunno)\b"
    r"|\bi'?m\s+(?:asking|wondering|not sure|unsure|trying to (?:help|find out)|helping)\b"
    r"|\bi\s+(?:want|would like|need)\s+to\s+(?:know|find out|check|ask)\b",
    re.IGNORECASE,
)


def whom(text: str) -> Optional[str]:
    """SOMEONE_ELSE when the message asks for another person ("my daughter has a 2:1",
    "she's in year 12"), ONESELF when it speaks of the writer's own qualifications
    ("for me", "I have a 2:1") and of nobody else, None when it says neither."""
    if _SOMEONE_ELSE.search(text or ""):
        return SOMEONE_ELSE
    if _ONESELF.search(_ASIDES.sub(" ", text or "")):
        return ONESELF
    return None
