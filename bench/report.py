"""The run's report: what one run produced, per path; shown by ``report_json`` and ``report_table``.

Conventions: latencies in milliseconds, throughput in completed streams per second, memory in
MiB. Figures measured in every round are the median of the rounds, with the lowest and highest
round as the range (``bench.rounds``); the others are measured once. "Added" is a path's
percentile minus the direct path's same percentile, same phase, same round. In "fmgate vs peer"
ratios (of medians) a number above 1 means fmgate is better by that factor (lower latency or
memory or CPU, higher throughput). Missing figures are ``null`` in JSON and ``-`` in the table;
nothing is estimated, and a path that could not run says why.

Modules: ``figures`` (which figures, one row each), ``comparison`` (each row's values and
ratios), ``report_json`` and ``report_table`` (the two outputs). The workers phase has its own
small section in both: throughput per worker count, and the ratio to the first count; so has
the prompt-caching phase (``caching_figures``): each turn of a conversation with caching off and
with caching auto as billed, the totals and the ratios.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

from bench.caching_figures import CachingOutcome
from bench.measure import BenchPlan, PathFigures
from bench.stats import PhaseFigures

#: Every path a run can measure, in the tables' order.
PATHS = ("direct", "fmgate", "fmgate-openai", "litellm", "portkey", "tensorzero", "bifrost")
#: fmgate's own paths (its two fronts): each is compared with every peer.
FMGATE_PATHS = ("fmgate", "fmgate-openai")
#: The other gateways. A peer that cannot run or drops streams is reported, never fatal.
PEERS = ("litellm", "portkey", "tensorzero", "bifrost")
#: How the tables name each path.
LABELS = {
    "direct": "direct",
    "fmgate": "fmgate Poe front",
    "fmgate-openai": "fmgate /v1/chat/completions",
    "litellm": "litellm",
    "portkey": "portkey",
    "tensorzero": "tensorzero",
    "bifrost": "bifrost",
}

#: ok: measured; skipped: asked not to (``--skip-*``); failed: could not start or broke while
#: measured; unavailable: cannot run on this machine at all (the reason says why).
Status = Literal["ok", "skipped", "failed", "unavailable"]


@dataclass(slots=True)
class PathOutcome:
    """A path's figures, or why it has none (``status`` other than "ok")."""

    name: str
    status: Status
    figures: PathFigures | None = None
    reason: str | None = None
    version: str | None = None


@dataclass(slots=True)
class WorkersOutcome:
    """Throughput per worker count and concurrency, or why there is none."""

    status: Literal["ok", "skipped", "failed"]
    #: worker count -> concurrency -> the phase's figures, in the order measured.
    counts: dict[int, dict[int, PhaseFigures]] = field(default_factory=dict)
    #: CPUs fmgate could use (every count alike); empty: not pinned.
    fmgate_cpus: list[int] = field(default_factory=list)
    reason: str | None = None

    def throughput(self, count: int, level: int) -> float | None:
        phase = self.counts.get(count, {}).get(level)
        return phase.throughput_per_s if phase is not None else None

    def ratio(self, count: int, level: int) -> float | None:
        """Throughput with ``count`` workers over throughput with the first count measured."""
        if not self.counts:
            return None
        base = self.throughput(next(iter(self.counts)), level)
        value = self.throughput(count, level)
        if value is None or base is None or base <= 0:
            return None
        return value / base


@dataclass(slots=True)
class BenchReport:
    """Everything one run produced."""

    started_at: str
    finished_at: str
    machine: dict[str, object]
    plan: BenchPlan
    cpu_placement: dict[str, list[int]]
    load_generator: PhaseFigures | None
    paths: dict[str, PathOutcome] = field(default_factory=dict)
    #: Each round's order of visits (path names), as run.
    round_orders: list[list[str]] = field(default_factory=list)
    #: The workers phase (``bench.workers``); None when it was not run.
    workers: WorkersOutcome | None = None
    #: The prompt-caching phase (``bench.caching``); None when it was not run.
    caching: CachingOutcome | None = None

    def figures(self, name: str) -> PathFigures | None:
        outcome = self.paths.get(name)
        return outcome.figures if outcome is not None else None


def clean(value: float | None) -> float | None:
    """NaN/inf become None (JSON null); numbers are rounded for readability."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)
