"""The report as plain text: one aligned table of every figure, the workers phase's small table
(throughput per worker count, side by side, and the ratio), then notes on the run."""

from __future__ import annotations

from bench.comparison import comparison
from bench.figures import all_rows
from bench.report import BenchReport, PathOutcome, WorkersOutcome

HEADER = ("figure", "direct", "fmgate", "litellm", "fmgate/direct", "fmgate vs litellm")


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
    workers = workers_table(report.workers, report.cpu_placement)
    return "\n".join([*aligned([HEADER, *table_cells(report)]), "", *workers, *notes(report)])


def table_cells(report: BenchReport) -> list[tuple[str, ...]]:
    """One line of cells per figure, formatted."""
    data = comparison(report)
    lines: list[tuple[str, ...]] = []
    for row in all_rows(report.plan):
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
    return lines


def workers_table(outcome: WorkersOutcome | None, placement: dict[str, list[int]]) -> list[str]:
    """Throughput with each ``--workers`` count at each level, and the ratio to the first."""
    if outcome is None:
        return []
    if outcome.status != "ok" or not outcome.counts:
        return [f"workers phase: {outcome.status} ({outcome.reason})", ""]
    counts = list(outcome.counts)
    first = counts[0]
    levels = list(dict.fromkeys(level for phases in outcome.counts.values() for level in phases))
    header = (
        "fmgate throughput (streams/s)",
        *(f"{count} worker{'s' if count > 1 else ''}" for count in counts),
        *(f"{count}/{first}" for count in counts[1:]),
    )
    lines = [
        (
            f"c={level}",
            *(fmt(outcome.throughput(count, level)) for count in counts),
            *(fmt_ratio(outcome.ratio(count, level)) for count in counts[1:]),
        )
        for level in levels
    ]
    load = placement.get("load_generator_and_emulator") or []
    where = (
        f"fmgate on CPUs {cpu_list(outcome.fmgate_cpus)}, the load generator and the emulator "
        f"on CPUs {cpu_list(load)}"
        if outcome.fmgate_cpus
        else "no CPU pinning"
    )
    return [*aligned([header, *lines]), f"workers phase: {where}", ""]


def cpu_list(cpus: list[int]) -> str:
    return ",".join(str(cpu) for cpu in cpus) or "-"


def aligned(lines: list[tuple[str, ...]]) -> list[str]:
    """``lines`` in columns: the first left-aligned, the others right; a rule under the first."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    out = []
    for index, line in enumerate(lines):
        cells = [line[0].ljust(widths[0])] + [
            c.rjust(w) for c, w in zip(line[1:], widths[1:], strict=True)
        ]
        out.append("  ".join(cells))
        if index == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


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
        lines.extend(path_notes(name, outcome))
    if report.workers is not None:
        failed = sum(p.failed for phases in report.workers.counts.values() for p in phases.values())
        if failed:
            lines.append(f"workers phase: {failed} streams failed")
    lines.append(
        "vs litellm: >1x = fmgate better by that factor "
        "(lower latency/memory/CPU, higher throughput)"
    )
    return lines


def path_notes(name: str, outcome: PathOutcome) -> list[str]:
    """Why a path has no figures, or its held streams; streams that failed under load."""
    lines = []
    if outcome.status != "ok":
        lines.append(f"{name}: {outcome.status} ({outcome.reason})")
    elif outcome.figures is not None and outcome.figures.server is not None:
        server = outcome.figures.server
        for hold in (server.hold, server.large_hold):
            if hold is not None:
                lines.append(
                    f"{name}: {hold.requested} streams held open, "
                    f"{hold.open_at_reading} open at the RSS reading, {hold.dropped} dropped, "
                    f"{hold.rss_per_1000_mb:.1f} MiB per 1,000 open streams"
                )
    if outcome.figures is not None:
        failed = sum(p.failed for p in outcome.figures.levels.values())
        if outcome.figures.realistic is not None:
            failed += outcome.figures.realistic.failed
        if failed:
            lines.append(f"{name}: {failed} streams failed during the load phases")
    return lines
