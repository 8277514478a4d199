"""Summaries of timing samples: percentiles and medians, the way every part of the harness reports them."""

from __future__ import annotations

import statistics
from typing import Sequence


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of already sorted values."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def summary_us(samples_ns: Sequence[int]) -> dict[str, float]:
    """p50, p99 and mean of nanosecond samples, in microseconds."""
    ordered = sorted(samples_ns)
    return {"p50": round(percentile(ordered, 0.50) / 1000, 2), "p99": round(percentile(ordered, 0.99) / 1000, 2),
            "mean": round(statistics.fmean(ordered) / 1000, 2), "n": len(ordered)}


def median(values: Sequence[float]) -> float:
    return float(statistics.median(values))


def ratio(numerator: float, denominator: float) -> float:
    return round(numerator / denominator, 4) if denominator else float("nan")
