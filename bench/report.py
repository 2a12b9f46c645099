"""The run's report: figures per path, added latency vs direct, ratios vs LiteLLM; table + JSON.

Conventions: latencies in milliseconds, throughput in completed streams per second, memory in
MiB. "Added" is a path's percentile minus the direct path's same percentile in the same phase.
In the "vs LiteLLM" column a number above 1 means fmgate is better by that factor (lower latency
or memory or CPU, higher throughput). Missing figures are ``null`` in JSON and ``-`` in the table;
nothing is estimated.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from bench.measure import BenchPlan, PathFigures
from bench.stats import PhaseFigures

Better = Literal["lower", "higher"]
PATHS = ("direct", "fmgate", "litellm")


@dataclass(slots=True)
class PathOutcome:
    """A path's figures, or why it has none (``status`` "skipped" or "failed")."""

    name: str
    status: Literal["ok", "skipped", "failed"]
    figures: PathFigures | None = None
    reason: str | None = None
    version: str | None = None


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

    def figures(self, name: str) -> PathFigures | None:
        outcome = self.paths.get(name)
        return outcome.figures if outcome is not None else None


def clean(value: float | None) -> float | None:
    """NaN/inf become None (JSON null); numbers are rounded for readability."""
    if value is None or math.isnan(value) or math.isinf(value):
        return None
    return round(value, 4)


# --- rows: one figure each, read from a path's figures -----------------------------------------

Getter = Callable[[PathFigures], float | None]


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


def rows_for(plan: BenchPlan) -> list[Row]:
    low = min(plan.concurrency_levels)
    rc = plan.realistic_concurrency
    rows = [
        Row(
            f"TTFT p50 (zero-latency, c={low})",
            f"ttft_p50_ms_fast_c{low}",
            level(low, "ttft_p50_ms"),
            "lower",
        ),
        Row(
            f"TTFT p99 (zero-latency, c={low})",
            f"ttft_p99_ms_fast_c{low}",
            level(low, "ttft_p99_ms"),
            "lower",
        ),
        Row(
            f"total p50 (zero-latency, c={low})",
            f"total_p50_ms_fast_c{low}",
            level(low, "total_p50_ms"),
            "lower",
        ),
        Row(
            f"total p99 (zero-latency, c={low})",
            f"total_p99_ms_fast_c{low}",
            level(low, "total_p99_ms"),
            "lower",
        ),
        Row(
            f"TTFT p50 (realistic, c={rc})",
            f"ttft_p50_ms_realistic_c{rc}",
            realistic("ttft_p50_ms"),
            "lower",
        ),
        Row(
            f"TTFT p99 (realistic, c={rc})",
            f"ttft_p99_ms_realistic_c{rc}",
            realistic("ttft_p99_ms"),
            "lower",
        ),
        Row(
            f"total p50 (realistic, c={rc})",
            f"total_p50_ms_realistic_c{rc}",
            realistic("total_p50_ms"),
            "lower",
        ),
        Row(
            f"total p99 (realistic, c={rc})",
            f"total_p99_ms_realistic_c{rc}",
            realistic("total_p99_ms"),
            "lower",
        ),
    ]
    rows += [
        Row(
            f"throughput c={c} (streams/s)",
            f"throughput_c{c}",
            level(c, "throughput_per_s"),
            "higher",
        )
        for c in plan.concurrency_levels
    ]
    rows += [
        Row("peak RSS (MiB)", "peak_rss_mb", server("peak_rss_mb"), "lower"),
        Row(
            "RSS per 1,000 open streams (MiB)",
            "rss_per_1000_open_streams_mb",
            server("rss_per_1000_open_streams_mb"),
            "lower",
        ),
        Row(
            "CPU s per 1,000 requests",
            "cpu_seconds_per_1000_requests",
            server("cpu_seconds_per_1000_requests"),
            "lower",
        ),
    ]
    return rows


def added_rows(plan: BenchPlan) -> list[Row]:
    """Latency a path adds over direct: its percentile minus direct's, same phase."""
    low = min(plan.concurrency_levels)
    rc = plan.realistic_concurrency
    picks: list[tuple[str, str, Getter]] = [
        (
            f"added TTFT p50 (zero-latency, c={low})",
            f"added_ttft_p50_ms_fast_c{low}",
            level(low, "ttft_p50_ms"),
        ),
        (
            f"added TTFT p99 (zero-latency, c={low})",
            f"added_ttft_p99_ms_fast_c{low}",
            level(low, "ttft_p99_ms"),
        ),
        (
            f"added total p50 (zero-latency, c={low})",
            f"added_total_p50_ms_fast_c{low}",
            level(low, "total_p50_ms"),
        ),
        (
            f"added total p99 (zero-latency, c={low})",
            f"added_total_p99_ms_fast_c{low}",
            level(low, "total_p99_ms"),
        ),
        (
            f"added TTFT p50 (realistic, c={rc})",
            f"added_ttft_p50_ms_realistic_c{rc}",
            realistic("ttft_p50_ms"),
        ),
        (
            f"added TTFT p99 (realistic, c={rc})",
            f"added_ttft_p99_ms_realistic_c{rc}",
            realistic("ttft_p99_ms"),
        ),
        (
            f"added total p50 (realistic, c={rc})",
            f"added_total_p50_ms_realistic_c{rc}",
            realistic("total_p50_ms"),
        ),
        (
            f"added total p99 (realistic, c={rc})",
            f"added_total_p99_ms_realistic_c{rc}",
            realistic("total_p99_ms"),
        ),
    ]
    return [Row(label, key, get, "lower", added=True) for label, key, get in picks]


def value_of(report: BenchReport, name: str, row: Row) -> float | None:
    figures = report.figures(name)
    if figures is None:
        return None
    value = clean(row.get(figures))
    if not row.added or value is None:
        return value
    direct = report.figures("direct")
    base = clean(row.get(direct)) if direct is not None else None
    return clean(value - base) if base is not None else None


def advantage(fmgate: float | None, other: float | None, better: Better) -> float | None:
    """How many times better fmgate is than ``other`` (> 1 = better); None when undefined."""
    if fmgate is None or other is None:
        return None
    if better == "higher":
        return clean(fmgate / other) if other > 0 else None
    return clean(other / fmgate) if fmgate > 0 else None


def ratio(value: float | None, base: float | None) -> float | None:
    if value is None or base is None or base <= 0:
        return None
    return clean(value / base)


# --- outputs -----------------------------------------------------------------------------------


def comparison(report: BenchReport) -> dict[str, dict[str, float | None]]:
    """Per figure: each path's value, fmgate/direct, and fmgate's advantage vs LiteLLM."""
    table: dict[str, dict[str, float | None]] = {}
    for row in [*rows_for(report.plan), *added_rows(report.plan)]:
        values = {name: value_of(report, name, row) for name in PATHS}
        entry: dict[str, float | None] = dict(values)
        entry["fmgate_over_direct"] = (
            None if row.added else ratio(values["fmgate"], values["direct"])
        )
        entry["fmgate_advantage_vs_litellm"] = advantage(
            values["fmgate"], values["litellm"], row.better
        )
        table[row.key] = entry
    return table


def phase_json(phase: PhaseFigures | None) -> dict[str, object] | None:
    if phase is None:
        return None
    return {k: clean(v) if isinstance(v, float) else v for k, v in phase.as_json().items()}


def path_json(outcome: PathOutcome) -> dict[str, object]:
    data: dict[str, object] = {
        "status": outcome.status,
        "reason": outcome.reason,
        "version": outcome.version,
    }
    figures = outcome.figures
    if figures is not None:
        data["levels"] = {str(c): phase_json(p) for c, p in figures.levels.items()}
        data["realistic"] = phase_json(figures.realistic)
        data["server"] = None
        if figures.server is not None:
            data["server"] = {
                k: clean(v) if isinstance(v, float) else v
                for k, v in asdict(figures.server).items()
            }
    return data


def report_json(report: BenchReport) -> dict[str, object]:
    return {
        "schema_version": 1,
        "started_at": report.started_at,
        "finished_at": report.finished_at,
        "machine": report.machine,
        "plan": asdict(report.plan),
        "cpu_placement": report.cpu_placement,
        "load_generator": {"ceiling": phase_json(report.load_generator)},
        "paths": {name: path_json(outcome) for name, outcome in report.paths.items()},
        "comparison": comparison(report),
    }


def write_json(report: BenchReport, out: Path, history_dir: Path | None) -> list[Path]:
    """Write ``out`` (latest) and, when ``history_dir``, a timestamped copy beside it."""
    text = json.dumps(report_json(report), indent=2) + "\n"
    written = []
    targets = [out]
    if history_dir is not None:
        stamp = report.started_at.replace(":", "").replace("-", "")
        targets.append(history_dir / f"{stamp}.json")
    for target in targets:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        written.append(target)
    return written


def fmt(value: float | None) -> str:
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 100:
        return f"{value:,.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}x"


def render_table(report: BenchReport) -> str:
    """One plain-text table: every figure, each path, fmgate/direct, fmgate vs LiteLLM."""
    data = comparison(report)
    header = ("figure", "direct", "fmgate", "litellm", "fmgate/direct", "fmgate vs litellm")
    lines: list[tuple[str, ...]] = [header]
    for row in [*rows_for(report.plan), *added_rows(report.plan)]:
        entry = data[row.key]
        lines.append(
            (
                row.label,
                fmt(entry["direct"]),
                fmt(entry["fmgate"]),
                fmt(entry["litellm"]),
                fmt_ratio(entry["fmgate_over_direct"]),
                fmt_ratio(entry["fmgate_advantage_vs_litellm"]),
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for index, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    out.append("")
    out.extend(notes(report))
    return "\n".join(out)


def notes(report: BenchReport) -> list[str]:
    """Lines under the table: the load generator's ceiling, skipped paths, dropped streams."""
    lines = []
    ceiling = report.load_generator
    if ceiling is not None:
        lines.append(
            f"load generator ceiling: {ceiling.throughput_per_s:,.0f} streams/s at "
            f"c={ceiling.concurrency} against a trivial SSE server "
            f"(TTFT p50 {ceiling.ttft_p50_ms:.2f} ms)"
        )
    for name, outcome in report.paths.items():
        if outcome.status != "ok":
            lines.append(f"{name}: {outcome.status} ({outcome.reason})")
        elif outcome.figures is not None and outcome.figures.server is not None:
            hold = outcome.figures.server.hold
            lines.append(
                f"{name}: {hold.get('requested')} streams held open, "
                f"{hold.get('open_at_reading')} open at the RSS reading, "
                f"{hold.get('dropped')} dropped"
            )
        if outcome.figures is not None:
            failed = sum(p.failed for p in outcome.figures.levels.values())
            if outcome.figures.realistic is not None:
                failed += outcome.figures.realistic.failed
            if failed:
                lines.append(f"{name}: {failed} streams failed during the load phases")
    lines.append(
        "vs litellm: >1x = fmgate better by that factor "
        "(lower latency/memory/CPU, higher throughput)"
    )
    return lines
