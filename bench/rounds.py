"""Interleaved rounds: the order of each round, and a figure's median and range over the rounds.

The machine's speed drifts within minutes, so the paths are not measured one after the other:
each round visits every path once, and each round starts one path later than the one before
(round 1: a b c, round 2: b c a, round 3: c a b), so no path is always first or always last. A
figure is then the median of its rounds, with the lowest and the highest as its range.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


def rotation(names: Sequence[str], round_index: int) -> list[str]:
    """The order of round ``round_index`` (0-based): ``names`` rotated left by that many."""
    if not names:
        return []
    shift = round_index % len(names)
    return [*names[shift:], *names[:shift]]


@dataclass(frozen=True, slots=True)
class Spread:
    """A figure over the rounds: the median, the lowest and highest value, how many rounds."""

    median: float
    low: float
    high: float
    count: int

    def as_json(self) -> dict[str, float | int]:
        return {
            "median": round(self.median, 4),
            "min": round(self.low, 4),
            "max": round(self.high, 4),
            "rounds": self.count,
        }


def finite(values: Iterable[float | None]) -> list[float]:
    """The values that are numbers (no None, NaN or infinity)."""
    return [v for v in values if v is not None and math.isfinite(v)]


def spread(values: Iterable[float | None]) -> Spread | None:
    """Median and range of the finite ``values``; None when there is none."""
    numbers = finite(values)
    if not numbers:
        return None
    return Spread(statistics.median(numbers), min(numbers), max(numbers), len(numbers))


def paired_differences(
    values: Mapping[int, float | None], bases: Mapping[int, float | None]
) -> dict[int, float | None]:
    """Round by round (keyed by round number), ``value - base``: a path minus direct in the
    same round; None where either is missing."""
    differences: dict[int, float | None] = {}
    for key, value in values.items():
        base = bases.get(key)
        if value is None or base is None or not (math.isfinite(value) and math.isfinite(base)):
            differences[key] = None
        else:
            differences[key] = value - base
    return differences
