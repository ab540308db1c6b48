"""What a message names, where: the entities the NLU pipeline found (`Mention`s) and the
qualifications other words can belong to (`Anchor`s). Pure Python, no Rasa import.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Iterable, List, Mapping


@dataclass(frozen=True)
class _Mention:
    kind: str  # entity name
    value: Any
    start: int
    end: int


# The kind of qualification something named in a message belongs to: the role of an
# anchor, of a subject and of a span timed (dialogue.timing). careers.vocabulary's
# HIGHER_DEGREE is one too.
DEGREE_ROLE = "degree"
A_LEVEL_ROLE = "a_level"
GCSE_ROLE = "gcse"
ALTERNATIVE_ROLE = "alternative"  # in place of A-levels: a BTEC, Highers, an Access course
FURTHER_ROLE = "further"  # Advanced Highers after Highers held: not in place of them


@dataclass(frozen=True)
class _Anchor:
    """A qualification (or degree class) a subject, count or cue can belong to."""

    start: int
    end: int
    role: str  # one of the roles above


def _mentions(entities: Iterable[Mapping[str, Any]]) -> List[_Mention]:
    mentions = []
    for index, entity in enumerate(entities):
        start = entity.get("start")
        start = index * 1000 if start is None else int(start)
        end = entity.get("end")
        end = start if end is None else int(end)
        mentions.append(_Mention(entity.get("entity", ""), entity.get("value"), start, end))
    return sorted(mentions, key=lambda m: m.start)


def _clause_before(text: str, position: int, width: int = 30) -> str:
    """The words just before `position`, back to the start of their clause."""
    before = text[max(0, position - width) : position]
    return re.split(r"[.;!?,]|\b(but|and|though|although|because)\b", before)[-1] or ""


def _gap(text: str, start: int, end: int) -> int:
    return len(text[start:end])
