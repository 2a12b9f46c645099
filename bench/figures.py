"""The figures a report shows: one ``Row`` each, reading one number per round (or one per run)
from a path's figures.

Latency rows come in two phases (zero-latency at the lowest concurrency, measured in every
round; realistic, measured once) and four percentiles; "added" rows are the same latencies minus
the direct path's, round by round. Then throughput per concurrency level (every round) and the
server's resources (CPU per 1,000 requests every round; memory once). The headline figures are
the few the peers table shows for every path.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Literal

from bench.measure import BenchPlan, PathFigures, RoundFigures

Better = Literal["lower", "higher"]
RoundGetter = Callable[[RoundFigures], float | None]
OnceGetter = Callable[[PathFigures], float | None]

#: Latency percentiles: (label, PhaseFigures attribute), in the table's order.
LATENCIES = (
    ("TTFT p50", "ttft_p50_ms"),
    ("TTFT p99", "ttft_p99_ms"),
    ("total p50", "total_p50_ms"),
    ("total p99", "total_p99_ms"),
)
#: Memory of the server, measured once: (label, key = ServerFigures attribute).
MEMORY = (
    ("peak RSS (MiB)", "peak_rss_mb"),
    ("RSS per 1,000 open streams (MiB)", "rss_per_1000_open_streams_mb"),
)
CPU_KEY = "cpu_seconds_per_1000_requests"
CPU_LABEL = "CPU s per 1,000 requests"
#: The throughput level of the headline (the issue's c=64), when the plan has it.
HEADLINE_CONCURRENCY = 64


@dataclass(frozen=True, slots=True)
class Row:
    """One figure: read per round (``per_round``) or once per run (``once``)."""

    label: str
    key: str
    better: Better
    per_round: RoundGetter | None = None
    once: OnceGetter | None = None
    added: bool = False  # a difference vs direct (no "vs direct" ratio)
    #: A shorter name for narrow columns (the peers table); the label when empty.
    short: str = ""

    @property
    def title(self) -> str:
        return self.short or self.label

    def values(self, figures: PathFigures) -> dict[int, float | None]:
        """The figure per round number; a once-per-run figure under round 0."""
        if self.per_round is not None:
            return {visit.round: self.per_round(visit) for visit in figures.rounds}
        assert self.once is not None
        return {0: self.once(figures)}


def level(concurrency: int, metric: str) -> RoundGetter:
    def get(visit: RoundFigures) -> float | None:
        phase = visit.levels.get(concurrency)
        return getattr(phase, metric) if phase is not None else None

    return get


def realistic(metric: str) -> OnceGetter:
    def get(figures: PathFigures) -> float | None:
        return getattr(figures.realistic, metric) if figures.realistic is not None else None

    return get


def memory(metric: str) -> OnceGetter:
    def get(figures: PathFigures) -> float | None:
        return getattr(figures.server, metric) if figures.server is not None else None

    return get


def round_cpu(visit: RoundFigures) -> float | None:
    return visit.cpu_seconds_per_1000_requests


def lowest_level(plan: BenchPlan) -> int:
    return min(plan.concurrency_levels)


def latency_rows(plan: BenchPlan, *, added: bool = False) -> list[Row]:
    """Each phase's percentiles; ``added``: minus direct's, labelled and keyed ``added``."""
    label_prefix, key_prefix = ("added ", "added_") if added else ("", "")
    low = lowest_level(plan)
    rc = plan.realistic_concurrency
    rows = [
        Row(
            f"{label_prefix}{label} (zero-latency, c={low})",
            f"{key_prefix}{metric}_fast_c{low}",
            "lower",
            per_round=level(low, metric),
            added=added,
        )
        for label, metric in LATENCIES
    ]
    rows += [
        Row(
            f"{label_prefix}{label} (realistic, c={rc})",
            f"{key_prefix}{metric}_realistic_c{rc}",
            "lower",
            once=realistic(metric),
            added=added,
        )
        for label, metric in LATENCIES
    ]
    return rows


def throughput_row(concurrency: int) -> Row:
    return Row(
        f"throughput c={concurrency} (streams/s)",
        f"throughput_c{concurrency}",
        "higher",
        per_round=level(concurrency, "throughput_per_s"),
    )


def throughput_rows(plan: BenchPlan) -> list[Row]:
    return [throughput_row(c) for c in plan.concurrency_levels]


def cpu_row() -> Row:
    return Row(CPU_LABEL, CPU_KEY, "lower", per_round=round_cpu)


def resource_rows() -> list[Row]:
    memory_rows = [Row(label, key, "lower", once=memory(key)) for label, key in MEMORY]
    return [*memory_rows, cpu_row()]


def rows_for(plan: BenchPlan) -> list[Row]:
    """The figures of each path: latencies, throughput, resources."""
    return [*latency_rows(plan), *throughput_rows(plan), *resource_rows()]


def added_rows(plan: BenchPlan) -> list[Row]:
    """Latency a path adds over direct: its percentile minus direct's, same phase and round."""
    return latency_rows(plan, added=True)


def all_rows(plan: BenchPlan) -> list[Row]:
    """Every row of the report, in its order."""
    return [*rows_for(plan), *added_rows(plan)]


def headline_rows(plan: BenchPlan) -> list[Row]:
    """The peers table's figures: CPU per 1,000 requests, throughput at c=64 (or the plan's
    highest level below it), added TTFT p50 and p99 at the lowest level."""
    levels = plan.concurrency_levels
    below = [c for c in levels if c <= HEADLINE_CONCURRENCY]
    concurrency = max(below) if below else min(levels)
    added = {row.key: row for row in added_rows(plan)}
    low = lowest_level(plan)
    return [
        replace(cpu_row(), short="CPU s per 1,000"),
        replace(throughput_row(concurrency), short=f"streams/s c={concurrency}"),
        replace(added[f"added_ttft_p50_ms_fast_c{low}"], short=f"added TTFT p50 c={low} (ms)"),
        replace(added[f"added_ttft_p99_ms_fast_c{low}"], short=f"added TTFT p99 c={low} (ms)"),
    ]
