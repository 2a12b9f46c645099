"""The report's figures and table on made-up numbers (no processes): rows, added, ratios, notes."""

from __future__ import annotations

import math
from typing import Any

from bench.comparison import comparison
from bench.figures import all_rows
from bench.measure import BenchPlan, HoldFigures, PathFigures, ServerFigures
from bench.report import BenchReport, PathOutcome, WorkersOutcome
from bench.report_json import report_json
from bench.report_table import render_table
from bench.stats import PhaseFigures

PLAN = BenchPlan(concurrency_levels=(1, 16), realistic_concurrency=4)


def phase(concurrency: int, ttft_ms: float, throughput: float, failed: int = 0) -> PhaseFigures:
    return PhaseFigures(
        concurrency=concurrency,
        streams=10,
        completed=10 - failed,
        failed=failed,
        ttft_p50_ms=ttft_ms,
        ttft_p99_ms=ttft_ms * 2,
        total_p50_ms=ttft_ms * 10,
        total_p99_ms=ttft_ms * 20,
        throughput_per_s=throughput,
        wall_seconds=1.0,
        failures={"timeout": failed} if failed else {},
    )


def report() -> BenchReport:
    direct = PathFigures("direct", {1: phase(1, 1.0, 1000.0), 16: phase(16, 2.0, 4000.0)})
    direct.realistic = phase(4, 300.0, 10.0)
    fmgate = PathFigures("fmgate", {1: phase(1, 1.5, 800.0), 16: phase(16, math.nan, 0.0)})
    fmgate.realistic = phase(4, 301.0, 10.0, failed=2)
    fmgate.server = ServerFigures(
        peak_rss_mb=140.0, hold=HoldFigures(8, 8, 8, {}, 100.0, 100.5, 62.5)
    )
    return BenchReport(
        started_at="2026-11-24T18:48:00Z",
        finished_at="2026-11-24T18:50:00Z",
        machine={},
        plan=PLAN,
        cpu_placement={},
        load_generator=phase(16, 0.5, 6000.0),
        paths={
            "direct": PathOutcome("direct", "ok", direct),
            "fmgate": PathOutcome("fmgate", "ok", fmgate),
            "litellm": PathOutcome("litellm", "skipped", reason="no venv"),
        },
    )


def test_rows_in_the_table_order_with_their_keys() -> None:
    keys = [row.key for row in all_rows(PLAN)]
    latencies = ["ttft_p50_ms", "ttft_p99_ms", "total_p50_ms", "total_p99_ms"]
    phases = [f"{metric}_{where}" for where in ("fast_c1", "realistic_c4") for metric in latencies]
    assert keys == [
        *phases,
        "throughput_c1",
        "throughput_c16",
        "peak_rss_mb",
        "rss_per_1000_open_streams_mb",
        "cpu_seconds_per_1000_requests",
        *[f"added_{key}" for key in phases],
    ]
    labels = [row.label for row in all_rows(PLAN)]
    assert labels[0] == "TTFT p50 (zero-latency, c=1)"
    assert labels[7] == "total p99 (realistic, c=4)"
    assert labels[-1] == "added total p99 (realistic, c=4)"


def test_comparison_adds_over_direct_and_leaves_undefined_figures_out() -> None:
    table = comparison(report())
    assert table["ttft_p50_ms_fast_c1"] == {
        "direct": 1.0,
        "fmgate": 1.5,
        "litellm": None,
        "fmgate_over_direct": 1.5,
        "fmgate_advantage_vs_litellm": None,
    }
    assert table["added_ttft_p50_ms_realistic_c4"]["fmgate"] == 1.0
    assert table["added_ttft_p50_ms_realistic_c4"]["fmgate_over_direct"] is None
    assert table["throughput_c16"]["fmgate_over_direct"] == 0.0
    assert table["peak_rss_mb"]["direct"] is None  # no server on the direct path
    assert report_json(report())["comparison"] == table


def test_table_shows_missing_figures_as_dashes_and_notes_the_run() -> None:
    lines = render_table(report()).splitlines()
    table = lines[: 2 + len(all_rows(PLAN))]
    assert lines[len(table)] == ""
    assert len({len(line) for line in table}) == 1  # aligned columns
    assert lines[0].startswith("figure ")
    assert lines[0].endswith("  fmgate/direct  fmgate vs litellm")
    assert set(lines[1]) == {"-", " "}
    [row] = [line for line in lines if line.startswith("TTFT p50 (zero-latency, c=1)")]
    assert row.split()[-5:] == ["1.00", "1.50", "-", "1.50x", "-"]
    assert "load generator ceiling: 6,000 streams/s at c=16" in lines[-5]
    assert lines[-4:-1] == [
        "fmgate: 8 streams held open, 8 open at the RSS reading, 0 dropped, "
        "62.5 MiB per 1,000 open streams",
        "fmgate: 2 streams failed during the load phases",
        "litellm: skipped (no venv)",
    ]


def with_workers() -> BenchReport:
    run = report()
    run.cpu_placement = {"load_generator_and_emulator": [0], "server_under_test": [1]}
    run.workers = WorkersOutcome(
        "ok",
        counts={
            1: {64: phase(64, 3.0, 600.0), 256: phase(256, 9.0, 550.0)},
            2: {64: phase(64, 2.0, 900.0), 256: phase(256, 6.0, 880.0, failed=1)},
        },
        fmgate_cpus=[0, 1],
    )
    return run


def test_workers_phase_side_by_side_with_the_ratio() -> None:
    data = report_json(with_workers())["workers"]
    assert isinstance(data, dict)
    assert data == {
        "status": "ok",
        "reason": None,
        "fmgate_cpus": [0, 1],
        "throughput_per_s": {"1": {"64": 600.0, "256": 550.0}, "2": {"64": 900.0, "256": 880.0}},
        "ratio_to_first": {"1": {"64": 1.0, "256": 1.0}, "2": {"64": 1.5, "256": 1.6}},
        "phases": data["phases"],
    }
    phases: Any = data["phases"]
    assert phases["2"]["256"]["failed"] == 1

    lines = render_table(with_workers()).splitlines()
    start = lines.index(next(line for line in lines if line.startswith("fmgate throughput")))
    header, rule, c64, c256, where = lines[start : start + 5]
    assert header.split("  ")[0] == "fmgate throughput (streams/s)"
    assert header.split()[-4:] == ["worker", "2", "workers", "2/1"]
    assert set(rule) == {"-", " "}
    assert c64.split() == ["c=64", "600", "900", "1.50x"]
    assert c256.split() == ["c=256", "550", "880", "1.60x"]
    assert where == (
        "workers phase: fmgate on CPUs 0,1, the load generator and the emulator on CPUs 0"
    )
    assert "workers phase: 1 streams failed" in lines


def test_a_workers_phase_that_failed_or_did_not_run() -> None:
    assert report_json(report())["workers"] is None
    assert not any(
        line.startswith("fmgate throughput") for line in render_table(report()).splitlines()
    )
    failed = report()
    failed.workers = WorkersOutcome("failed", reason="server did not start")
    assert "workers phase: failed (server did not start)" in render_table(failed).splitlines()
    assert report_json(failed)["workers"]["throughput_per_s"] == {}  # type: ignore[index]
