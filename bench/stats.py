"""Latency and throughput figures of one load phase (milliseconds, streams per second)."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from bench.loadgen import LoadResult


def percentile(values: Sequence[float], fraction: float) -> float:
    """The nearest-rank percentile (``fraction`` in 0..1) of ``values``; NaN when empty."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


@dataclass(frozen=True, slots=True)
class PhaseFigures:
    """One phase at one concurrency: stream counts, TTFT and total time, throughput."""

    concurrency: int
    streams: int
    completed: int
    failed: int
    ttft_p50_ms: float
    ttft_p99_ms: float
    total_p50_ms: float
    total_p99_ms: float
    throughput_per_s: float
    wall_seconds: float
    failures: dict[str, int]

    def as_json(self) -> dict[str, object]:
        return asdict(self)


def phase_figures(result: LoadResult) -> PhaseFigures:
    """Percentiles over the completed streams of ``result``; failures counted by reason."""
    good = [timing for timing in result.timings if timing.ok]
    ttft = [timing.ttft * 1000 for timing in good]
    total = [timing.total * 1000 for timing in good]
    failures = Counter(timing.error or "unknown" for timing in result.timings if not timing.ok)
    return PhaseFigures(
        concurrency=result.concurrency,
        streams=len(result.timings),
        completed=len(good),
        failed=len(result.timings) - len(good),
        ttft_p50_ms=percentile(ttft, 0.50),
        ttft_p99_ms=percentile(ttft, 0.99),
        total_p50_ms=percentile(total, 0.50),
        total_p99_ms=percentile(total, 0.99),
        throughput_per_s=result.throughput,
        wall_seconds=result.wall_seconds,
        failures=dict(failures),
    )
