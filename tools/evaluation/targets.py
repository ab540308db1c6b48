"""The figures CI holds the assistant to, in one place: `make eval` checks them and
the NLU report prints them beside the measured figures."""

from __future__ import annotations

from typing import Dict, Tuple

# On the old held-out set (`tests/nlu_heldout.yml`), NLU alone: each a minimum.
NLU_TARGETS: Dict[str, float] = {
    "intent_accuracy": 0.95,
    "intent_macro_f1": 0.93,
    "entity_f1": 0.95,
    "out_of_scope_recall": 0.90,
}

# On the realistic sets, the whole assistant: (target, "min" or "max").
REALISTIC_TARGETS: Dict[str, Tuple[float, str]] = {
    "intent_accuracy": (0.95, "min"),
    "wrong_topic_rate": (0.02, "max"),
    "not_covered_recall": (0.95, "min"),
    "out_of_scope_recall": (0.95, "min"),
    "verdict_accuracy": (1.0, "min"),
}

# `make crossval` fails below this intent accuracy.
CROSSVAL_MIN_INTENT_ACCURACY = 0.90
