"""The shapes of conversation `make bench` times, each beside the reference bot in the
same run, and the figures of one shape: the reply p50 and p95, and growth, the median
reply of the last turns over that of the first turns.

The reference (the bot `rasa init` makes) cannot run an eligibility check, so each of
our long shapes is set beside the reference's own ten-message conversation gone round
for as many turns, and our short conversations beside its first three messages as
conversations of their own."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Sequence, Tuple

from benchmarks.load import Exchange
from benchmarks.stats import median, percentile, ratio

# Growth compares the median reply of the first and of the last turns of a shape: at
# least this many replies each, in whole rounds of the shape's messages, so that both
# medians are over the same messages.
GROWTH_WINDOW = 20


@dataclass(frozen=True)
class Shape:
    key: str  # the prefix of its figures
    title: str
    messages: Tuple[str, ...]  # one round; a long shape goes round them
    rounds: int  # rounds in a run (the full benchmark); the smoke run does fewer
    separate: bool = False  # each round a conversation of its own (else one conversation)

    def turns(self, rounds: int) -> int:
        return len(self.messages) * rounds


def rounds_for(turns: int, messages: Sequence[str]) -> int:
    """Whole rounds of `messages` reaching at least `turns` turns."""
    return math.ceil(turns / len(messages))


# A check driven to its verdict, the verdict explained, two questions, goodbye.
CHECK_COMPLETED = (
    "hi",
    "what is the STP?",
    "can I apply for the STP?",
    "2:2",
    "MSc",
    "medical physics",
    "why?",
    "what skills do I need?",
    "what GCSEs do I need for the PTP?",
    "thanks, bye",
)
# A check begun, then questions asked instead of answers (issue 27's conversation).
CHECK_INTERRUPTED = (
    "hi",
    "what do I need to get into clinical engineering?",
    "can I apply for the STP with a 2:2?",
    "what skills do I need?",
    "do I need A levels?",
    "thanks",
    "does a PGCert count as a higher degree?",
)
# A verdict, then the facts corrected one way and back again, each giving a new one.
CORRECTIONS = (
    "can I apply for the STP?",
    "2:2",
    "MSc",
    "medical physics",
    "actually it was a 2:1, not a 2:2",
    "sorry, I got that wrong, it's a 2:2",
    "no wait, I don't have a masters",
    "why?",
)
SHORT = ("hi", "what is the STP?", "thanks, bye")

TURNS = 200  # each long shape runs at least this many turns
SHORT_CONVERSATIONS = 70

OUR_SHAPES: List[Shape] = [
    Shape("completed", "a check completed", CHECK_COMPLETED, rounds_for(TURNS, CHECK_COMPLETED)),
    Shape(
        "interrupted",
        "a check begun and interrupted by questions",
        CHECK_INTERRUPTED,
        rounds_for(TURNS, CHECK_INTERRUPTED),
    ),
    Shape("corrections", "corrections after a verdict", CORRECTIONS, rounds_for(TURNS, CORRECTIONS)),
    Shape("short", "many short conversations of 3 turns", SHORT, SHORT_CONVERSATIONS, separate=True),
]
# The shape whose conversations `make bench` also sends many at once, over REST,
# socket.io, Slack and Teams: the mixed one.
MIXED = "interrupted"


def reference_shapes(conversation: Sequence[str]) -> Dict[str, Shape]:
    """The reference's shapes, by the key of ours each is set beside."""
    long = Shape("long", "its conversation gone round", tuple(conversation), rounds_for(TURNS, conversation))
    short = Shape(
        "short", "its first three messages", tuple(conversation[:3]), SHORT_CONVERSATIONS, separate=True
    )
    return {shape.key: (short if shape.separate else long) for shape in OUR_SHAPES}


def shape_figures(exchanges: Sequence[Exchange], round_length: int) -> Dict[str, object]:
    """p50, p95, the first and last turns' medians and their ratio, for replies in the
    order they were sent (whole rounds of `round_length` messages)."""
    ms = [e.seconds * 1000 for e in exchanges]
    answered = [m for m, e in zip(ms, exchanges, strict=True) if not e.error]
    window = round_length * math.ceil(GROWTH_WINDOW / round_length)
    window = min(window, len(ms) - len(ms) % round_length or len(ms))
    first = median(m for m, e in zip(ms[:window], exchanges[:window], strict=True) if not e.error)
    last_from = len(ms) - window
    last = median(m for m, e in zip(ms[last_from:], exchanges[last_from:], strict=True) if not e.error)
    return {
        "turns": len(ms),
        "reply_p50_ms": percentile(answered, 50),
        "reply_p95_ms": percentile(answered, 95),
        "first_ms": first,
        "last_ms": last,
        "growth": ratio(last, first),
        "errors": len(ms) - len(answered),
    }
