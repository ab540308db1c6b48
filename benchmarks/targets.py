"""The figures `make bench` holds our assistant to, in one place. Each is either a
ratio of our figure to the reference bot's in the same run, or a limit on our own
figure; the report shows each as met or missed, and by how much."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict, List, Mapping, Optional

from benchmarks.shapes import OUR_SHAPES
from benchmarks.stats import ratio

RATIO, OURS = "ours / reference", "ours"
AT_MOST, AT_LEAST = "max", "min"


@dataclass(frozen=True)
class Target:
    figure: str  # a key of the per-bot figures (see measure.py)
    scope: str  # RATIO: ours over the reference's; OURS: our figure alone
    limit: float
    direction: str  # AT_MOST or AT_LEAST
    says: str  # the target in words, for the report
    unit: str = "×"  # how the compared value and the limit are shown


def _per_shape() -> List[Target]:
    targets = []
    for shape in OUR_SHAPES:
        targets.append(
            Target(
                f"{shape.key}_reply_p50_ms",
                RATIO,
                0.25,
                AT_MOST,
                f"{shape.title}: one-user reply p50 at most 0.25× the reference's",
            )
        )
        targets.append(
            Target(
                f"{shape.key}_growth",
                OURS,
                1.2,
                AT_MOST,
                f"{shape.title}: the last turns' replies at most 1.2× the first turns'",
            )
        )
    return targets


TARGETS: List[Target] = [
    *_per_shape(),
    Target(
        "c32_throughput",
        RATIO,
        4.0,
        AT_LEAST,
        "throughput at 32 conversations (mixed) at least 4× the reference's",
    ),
    Target("c32_errors", OURS, 0, AT_MOST, "no errors at 32 conversations", unit=" errors"),
    Target("c8_p95_ms", OURS, 500, AT_MOST, "p95 under 500 ms at 8 conversations", unit=" ms"),
    Target("socket1_over_rest", OURS, 1.2, AT_MOST, "socket.io reply p50 within 1.2× REST's, 1 conversation"),
    Target("socket32_over_rest", OURS, 1.2, AT_MOST, "socket.io reply p50 within 1.2× REST's, 32 at once"),
    Target(
        "slack32_ack_p95_ms",
        OURS,
        100,
        AT_MOST,
        "Slack events acknowledged within 100 ms at p95, 32 at once",
        unit=" ms",
    ),
    Target(
        "teams32_ack_p95_ms",
        OURS,
        100,
        AT_MOST,
        "Teams activities acknowledged within 100 ms at p95, 32 at once",
        unit=" ms",
    ),
    Target("rasa_peak_mb", RATIO, 0.6, AT_MOST, "peak Rasa server memory at most 0.6× the reference's"),
    Target("cold_start_s", RATIO, 0.5, AT_MOST, "cold start at most 0.5× the reference's"),
    Target("train_scratch_s", OURS, 180, AT_MOST, "training from scratch under 3 minutes", unit=" s"),
    Target("train_nochange_s", OURS, 15, AT_MOST, "no-change retrain under 15 seconds", unit=" s"),
    Target("engine_us", OURS, 1000, AT_MOST, "rule engine under 1 ms per verdict", unit=" µs"),
]


def compared_value(target: Target, ours: Mapping[str, Any], reference: Mapping[str, Any]) -> Optional[float]:
    """The value the target limits: our figure, or its ratio to the reference's."""
    mine = ours.get(target.figure)
    if target.scope == OURS:
        return mine
    return ratio(mine, reference.get(target.figure))


def number(value: float) -> str:
    """A figure with as many digits as are worth reading: 1,234 / 56.7 / 8.90."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.1f}" if abs(value) >= 10 else f"{value:.2f}"


def _shown(value: float, unit: str) -> str:
    if unit == "×":
        return f"{value:.2f}×"
    if unit == " errors":
        return f"{value:.0f} errors"
    return number(value) + unit


def verdict(target: Target, value: Optional[float]) -> Dict[str, Any]:
    """Met or missed, and by how much: {"met": bool or None, "value", "says"}."""
    if value is None:
        return {"met": None, "value": None, "says": "not measured"}
    met = value <= target.limit if target.direction == AT_MOST else value >= target.limit
    limit = _shown(target.limit, target.unit)
    bound = "≤" if target.direction == AT_MOST else "≥"
    if met:
        within = f"{_shown(value, target.unit)} {bound} {limit}" if target.limit else f"no{target.unit}"
        return {"met": True, "value": value, "says": f"met ({within})"}
    says = f"missed: {_shown(value, target.unit)}"
    if target.limit:
        off = abs(value - target.limit) / target.limit
        says += f", {off:.0%} {'over' if target.direction == AT_MOST else 'under'} {limit}"
    return {"met": False, "value": value, "says": says}


def evaluate(ours: Mapping[str, Any], reference: Mapping[str, Any]) -> List[Dict[str, Any]]:
    """Every target with its compared value and verdict, in the order of TARGETS."""
    return [
        {
            "figure": t.figure,
            "target": t.says,
            "scope": t.scope,
            **verdict(t, compared_value(t, ours, reference)),
        }
        for t in TARGETS
    ]
