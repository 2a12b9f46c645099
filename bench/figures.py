"""The figures a report shows: one ``Row`` each, reading one number from a path's figures.

Latency rows come in two phases (zero-latency at the lowest concurrency, realistic) and four
percentiles; "added" rows are the same latencies minus the direct path's. Then throughput per
concurrency level and the server's resources.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from bench.measure import BenchPlan, PathFigures

Better = Literal["lower", "higher"]
Getter = Callable[[PathFigures], float | None]

#: Latency percentiles: (label, PhaseFigures attribute), in the table's order.
LATENCIES = (
    ("TTFT p50", "ttft_p50_ms"),
    ("TTFT p99", "ttft_p99_ms"),
    ("total p50", "total_p50_ms"),
    ("total p99", "total_p99_ms"),
)
#: Server resources: (label, key = ServerFigures attribute).
RESOURCES = (
    ("peak RSS (MiB)", "peak_rss_mb"),
    ("RSS per 1,000 open streams (MiB)", "rss_per_1000_open_streams_mb"),
    ("CPU s per 1,000 requests", "cpu_seconds_per_1000_requests"),
)


@dataclass(frozen=True, slots=True)
class Row:
    label: str
    key: str
    get: Getter
    better: Better
    added: bool = False  # a difference vs direct (no "vs direct" ratio)


def level(concurrency: int, metric: str) -> Getter:
    def get(figures: PathFigures) -> float | None:
        phase = figures.levels.get(concurrency)
        return getattr(phase, metric) if phase is not None else None

    return get


def realistic(metric: str) -> Getter:
    def get(figures: PathFigures) -> float | None:
        return getattr(figures.realistic, metric) if figures.realistic is not None else None

    return get


def server(metric: str) -> Getter:
    def get(figures: PathFigures) -> float | None:
        return getattr(figures.server, metric) if figures.server is not None else None

    return get


@dataclass(frozen=True, slots=True)
class LatencyPhase:
    """A phase whose latencies the report shows: how it is labelled, keyed and read."""

    label: str  # "zero-latency, c=1"
    key: str  # "fast_c1"
    getter: Callable[[str], Getter]  # metric -> its getter in this phase


def latency_phases(plan: BenchPlan) -> tuple[LatencyPhase, LatencyPhase]:
    low = min(plan.concurrency_levels)
    rc = plan.realistic_concurrency

    def fast(metric: str) -> Getter:
        return level(low, metric)

    return (
        LatencyPhase(f"zero-latency, c={low}", f"fast_c{low}", fast),
        LatencyPhase(f"realistic, c={rc}", f"realistic_c{rc}", realistic),
    )


def latency_rows(plan: BenchPlan, *, added: bool = False) -> list[Row]:
    """Each phase's percentiles; ``added``: minus direct's, labelled and keyed ``added``."""
    label_prefix, key_prefix = ("added ", "added_") if added else ("", "")
    return [
        Row(
            f"{label_prefix}{label} ({phase.label})",
            f"{key_prefix}{metric}_{phase.key}",
            phase.getter(metric),
            "lower",
            added=added,
        )
        for phase in latency_phases(plan)
        for label, metric in LATENCIES
    ]


def throughput_rows(plan: BenchPlan) -> list[Row]:
    return [
        Row(
            f"throughput c={c} (streams/s)",
            f"throughput_c{c}",
            level(c, "throughput_per_s"),
            "higher",
        )
        for c in plan.concurrency_levels
    ]


def resource_rows() -> list[Row]:
    return [Row(label, key, server(key), "lower") for label, key in RESOURCES]


def rows_for(plan: BenchPlan) -> list[Row]:
    """The figures of each path: latencies, throughput, resources."""
    return [*latency_rows(plan), *throughput_rows(plan), *resource_rows()]


def added_rows(plan: BenchPlan) -> list[Row]:
    """Latency a path adds over direct: its percentile minus direct's, same phase."""
    return latency_rows(plan, added=True)


def all_rows(plan: BenchPlan) -> list[Row]:
    """Every row of the report, in its order."""
    return [*rows_for(plan), *added_rows(plan)]
