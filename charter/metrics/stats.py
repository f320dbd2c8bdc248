"""Order statistics used by the metrics: the median and nearest-rank percentiles."""

from __future__ import annotations

import math
from collections.abc import Sequence


def median(values: Sequence[float]) -> float | None:
    """The median (mean of the two middle values for an even count); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    mid = len(ordered) // 2
    if len(ordered) % 2:
        return float(ordered[mid])
    return (ordered[mid - 1] + ordered[mid]) / 2


def percentile(values: Sequence[float], p: float) -> float | None:
    """Nearest-rank percentile (the smallest value with at least ``p`` % of values at or below it)."""
    if not values:
        return None
    if not 0 < p <= 100:
        raise ValueError("p must be in (0, 100]")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return float(ordered[rank - 1])
