"""Small statistics over lists of timings: percentiles, medians of runs, ratios."""

from __future__ import annotations

import math
import statistics
from typing import Iterable, Optional, Sequence


def percentile(values: Sequence[float], share: float) -> Optional[float]:
    """The `share` (0 to 100) percentile, interpolating linearly between the two
    nearest ranks (as numpy's default does); None for no values."""
    if not values:
        return None
    if not 0 <= share <= 100:
        raise ValueError(f"a percentile is between 0 and 100, not {share}")
    ordered = sorted(values)
    position = (len(ordered) - 1) * share / 100
    below, above = math.floor(position), math.ceil(position)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)


def median(values: Iterable[Optional[float]]) -> Optional[float]:
    """The median of the values that were measured (None where a run had no figure)."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def ratio(numerator: Optional[float], denominator: Optional[float]) -> Optional[float]:
    """numerator / denominator, or None when either is missing or the denominator is 0."""
    if numerator is None or not denominator:
        return None
    return numerator / denominator
