"""The report's figures and tables on made-up rounds (no processes): rows, medians and ranges,
added latency round by round, fmgate-vs-peer ratios, the peers table, the JSON's shape."""

from __future__ import annotations

import math
import re
from typing import Any

from bench.comparison import advantage, comparison, headline_ratios
from bench.figures import all_rows, headline_rows
from bench.measure import BenchPlan, HoldFigures, PathFigures, RoundFigures, ServerFigures
from bench.report import BenchReport, PathOutcome, WorkersOutcome
from bench.report_json import SCHEMA_VERSION, report_json
from bench.report_table import fmt_ratio, fmt_spread, render_table
from bench.rounds import Spread
from bench.stats import PhaseFigures

PLAN = BenchPlan(concurrency_levels=(1, 16), realistic_concurrency=4, rounds=3)


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


def visit(
    number: int, ttft_ms: float, throughput: float, cpu: float | None, failed: int = 0
) -> RoundFigures:
    levels = {1: phase(1, ttft_ms, throughput), 16: phase(16, ttft_ms * 2, throughput * 4, failed)}
    return RoundFigures(number, 1, levels, cpu)


def path(name: str, rounds: list[RoundFigures], realistic_ttft: float) -> PathFigures:
    figures = PathFigures(name, rounds, realistic=phase(4, realistic_ttft, 10.0))
    if name != "direct":
        figures.server = ServerFigures(
            peak_rss_mb=140.0,
            hold=HoldFigures(8, 8, 8, {}, 100.0, 100.5, 62.5),
            idle_cpu_share=0.0025,
        )
    return figures


def report() -> BenchReport:
    direct = path(
        "direct",
        [visit(1, 1.0, 1000.0, None), visit(2, 2.0, 900.0, None), visit(3, 1.0, 950.0, None)],
        300.0,
    )
    fmgate = path(
        "fmgate",
        [visit(1, 1.5, 800.0, 2.0), visit(2, 3.0, 700.0, 4.0), visit(3, 1.25, 600.0, 3.0)],
        301.0,
    )
    # The peer's second round is missing (NaN throughput): the range is over the other two.
    portkey = path(
        "portkey",
        [
            visit(1, 3.0, 200.0, 8.0),
            visit(2, 4.0, math.nan, 6.0, failed=2),
            visit(3, 2.0, 400.0, 7.0),
        ],
        310.0,
    )
    return BenchReport(
        started_at="2026-12-01T18:48:00Z",
        finished_at="2026-12-01T18:50:00Z",
        machine={},
        plan=PLAN,
        cpu_placement={},
        load_generator=phase(16, 0.5, 6000.0),
        paths={
            "direct": PathOutcome("direct", "ok", direct),
            "fmgate": PathOutcome("fmgate", "ok", fmgate, version="0.1.0"),
            "litellm": PathOutcome("litellm", "skipped", reason="--skip-litellm"),
            "portkey": PathOutcome("portkey", "ok", portkey, version="1.15.2"),
            "tensorzero": PathOutcome("tensorzero", "failed", reason="server did not start"),
            "bifrost": PathOutcome("bifrost", "unavailable", reason="downloads its binary"),
        },
        round_orders=[["direct", "fmgate", "portkey"], ["fmgate", "portkey", "direct"]],
    )


def test_rows_in_the_table_order_with_their_keys() -> None:
    rows = all_rows(PLAN)
    keys = [row.key for row in rows]
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
    labels = [row.label for row in rows]
    assert labels[0] == "TTFT p50 (zero-latency, c=1)"
    assert labels[7] == "total p99 (realistic, c=4)"
    assert labels[-1] == "added total p99 (realistic, c=4)"
    # Zero-latency figures and CPU are measured every round, realistic latency and memory once.
    per_round = {row.key for row in rows if row.per_round is not None}
    assert "cpu_seconds_per_1000_requests" in per_round
    assert "ttft_p50_ms_fast_c1" in per_round
    assert not per_round & {"peak_rss_mb", "ttft_p50_ms_realistic_c4"}


def test_headline_figures_are_cpu_throughput_at_c64_and_added_ttft() -> None:
    keys = [row.key for row in headline_rows(BenchPlan())]
    assert keys == [
        "cpu_seconds_per_1000_requests",
        "throughput_c64",
        "added_ttft_p50_ms_fast_c1",
        "added_ttft_p99_ms_fast_c1",
    ]
    # A plan without c=64 shows its highest level below it.
    assert headline_rows(PLAN)[1].key == "throughput_c16"


def test_medians_and_ranges_over_the_rounds() -> None:
    table = comparison(report())
    cpu = table["cpu_seconds_per_1000_requests"]
    assert cpu["per_round"] is True
    assert cpu["paths"] == {
        "direct": None,  # no server on the direct path
        "fmgate": {"median": 3.0, "min": 2.0, "max": 4.0, "rounds": 3},
        "fmgate-openai": None,
        "litellm": None,
        "portkey": {"median": 7.0, "min": 6.0, "max": 8.0, "rounds": 3},
        "tensorzero": None,
        "bifrost": None,
    }
    throughput: Any = table["throughput_c1"]["paths"]
    assert throughput["portkey"] == {"median": 300.0, "min": 200.0, "max": 400.0, "rounds": 2}
    assert table["throughput_c1"]["fmgate_over_direct"] == round(700 / 950, 4)
    realistic: Any = table["ttft_p50_ms_realistic_c4"]["paths"]
    assert realistic["fmgate"] == {"median": 301.0, "min": 301.0, "max": 301.0, "rounds": 1}


def test_added_latency_is_taken_round_by_round() -> None:
    added: Any = comparison(report())["added_ttft_p50_ms_fast_c1"]
    # fmgate minus direct per round: 0.5, 1.0, 0.25 -> median 0.5 (not 1.5 - 1.0 of medians).
    assert added["paths"]["fmgate"] == {"median": 0.5, "min": 0.25, "max": 1.0, "rounds": 3}
    assert added["paths"]["direct"] == {"median": 0.0, "min": 0.0, "max": 0.0, "rounds": 3}
    assert added["fmgate_over_direct"] is None


def test_advantage_is_how_many_times_better_fmgate_is() -> None:
    assert advantage(2.0, 8.0, "lower") == 4.0
    assert advantage(300.0, 100.0, "higher") == 3.0
    assert advantage(0.0, 1.0, "lower") is None  # fmgate at the floor: no ratio
    assert advantage(1.0, -0.5, "lower") is None  # a peer below the floor: no ratio
    assert advantage(None, 1.0, "higher") is None
    assert advantage(1.0, 0.0, "higher") is None
    assert fmt_ratio(4.0) == "4.00x"
    assert fmt_ratio(None) == "-"


def test_headline_ratios_of_each_front_against_each_peer() -> None:
    ratios = headline_ratios(report())
    assert set(ratios) == {"fmgate", "fmgate-openai"}
    assert set(ratios["fmgate"]) == {"litellm", "portkey", "tensorzero", "bifrost"}
    assert ratios["fmgate"]["portkey"]["cpu_seconds_per_1000_requests"] == round(7 / 3, 4)
    # added TTFT p50 c=1: portkey 2, 2, 1 over direct (median 2) vs fmgate's 0.5
    assert ratios["fmgate"]["portkey"]["added_ttft_p50_ms_fast_c1"] == 4.0
    assert ratios["fmgate"]["bifrost"] == dict.fromkeys(ratios["fmgate"]["bifrost"])
    assert all(value is None for value in ratios["fmgate-openai"]["portkey"].values())


def test_spread_cells_show_the_range_when_there_are_rounds() -> None:
    assert fmt_spread(Spread(3.39, 3.1, 3.61, 5)) == "3.39 (3.10..3.61)"
    assert fmt_spread(Spread(308.0, 290.0, 1210.0, 3)) == "308 (290..1,210)"
    assert fmt_spread(Spread(0.5, -0.25, 1.0, 3)) == "0.50 (-0.25..1.00)"
    assert fmt_spread(Spread(301.0, 301.0, 301.0, 1)) == "301"
    assert fmt_spread(None) == "-"


def test_peers_table_lists_every_path_with_its_status() -> None:
    lines = render_table(report()).splitlines()
    assert lines[0] == "peers: medians of 2 interleaved rounds (min..max over the rounds)"
    header, rule, *rows = lines[1:9]
    assert header.split()[:3] == ["path", "status", "version"]
    assert "CPU s per 1,000" in header
    assert "added TTFT p50 c=1 (ms)" in header
    assert set(rule) == {"-", " "}
    assert len({len(line) for line in lines[1:9]}) == 1  # aligned columns
    cells = {parts[0]: parts[1:] for parts in (re.split(r"\s{2,}", row.strip()) for row in rows)}
    assert list(cells) == [
        "direct",
        "fmgate Poe front",
        "litellm",
        "portkey",
        "tensorzero",
        "bifrost",
    ]
    assert cells["fmgate Poe front"][:3] == ["ok", "0.1.0", "3.00 (2.00..4.00)"]
    assert cells["portkey"][3] == "1,200 (800..1,600)"  # c=16: the plan has no c=64
    assert cells["bifrost"] == ["unavailable", "-", "-", "-", "-", "-"]
    assert cells["litellm"][0] == "skipped"
    assert lines[9] == ""


def test_ratio_table_compares_fmgate_with_each_peer() -> None:
    lines = render_table(report()).splitlines()
    start = lines.index(next(line for line in lines if line.startswith("fmgate vs peer")))
    header, _rule, cpu, throughput, p50, p99 = lines[start : start + 6]
    assert header.split()[-4:] == ["litellm", "portkey", "tensorzero", "bifrost"]
    assert cpu.startswith("Poe front: CPU s per 1,000")
    assert cpu.split()[-4:] == ["-", "2.33x", "-", "-"]
    assert throughput.split()[-3] == "2.33x"  # c=16: 2,800 vs 1,200 streams/s
    assert p50.split()[-3] == "4.00x"
    assert p99.split()[-3] == "4.00x"  # added p99 per round: portkey 4, 4, 2; fmgate 1, 2, 0.5
    assert lines[start + 6] == ""  # no /v1/chat/completions path in this run


def test_detail_table_has_a_column_per_measured_path() -> None:
    lines = render_table(report()).splitlines()
    start = lines.index(next(line for line in lines if line.startswith("figure ")))
    header = lines[start]
    assert header.split() == ["figure", "direct", "fmgate", "portkey", "fmgate/direct"]
    table = lines[start : start + 2 + len(all_rows(PLAN))]
    assert len({len(line) for line in table}) == 1
    [row] = [line for line in table if line.startswith("TTFT p50 (zero-latency, c=1)")]
    assert row.split()[-4:] == ["1.00", "1.50", "3.00", "1.50x"]
    [cpu] = [line for line in table if line.startswith("CPU s per 1,000 requests")]
    assert cpu.split()[-4:] == ["-", "3.00", "7.00", "-"]


def test_notes_give_the_rounds_and_why_a_path_did_not_run() -> None:
    lines = render_table(report()).splitlines()
    assert any(
        line.startswith("rounds: 2, each path once per round in rotating order (direct fmgate")
        for line in lines
    )
    assert "litellm: skipped (--skip-litellm)" in lines
    assert "tensorzero: failed (server did not start)" in lines
    assert "bifrost: unavailable (downloads its binary)" in lines
    assert "portkey: 2 streams failed during the load phases" in lines
    assert (
        "idle servers: every server stays up during the rounds; CPU each used while the other "
        "paths were measured (share of one CPU): fmgate 0.25%, portkey 0.25%"
    ) in lines
    assert any(line.startswith("load generator ceiling: 6,000 streams/s at c=16") for line in lines)


def test_json_has_rounds_peers_and_statuses() -> None:
    data: Any = report_json(report())
    assert data["schema_version"] == SCHEMA_VERSION == 4
    assert data["rounds"] == {"count": 2, "orders": report().round_orders}
    fmgate = data["paths"]["fmgate"]
    assert fmgate["label"] == "fmgate Poe front"
    assert [visit["round"] for visit in fmgate["rounds"]] == [1, 2, 3]
    assert fmgate["rounds"][0]["cpu_seconds_per_1000_requests"] == 2.0
    assert fmgate["rounds"][0]["levels"]["16"]["throughput_per_s"] == 3200.0
    assert data["paths"]["bifrost"] == {
        "label": "bifrost",
        "status": "unavailable",
        "reason": "downloads its binary",
        "version": None,
    }
    peers = data["peers"]
    assert peers["figures"] == [row.key for row in headline_rows(PLAN)]
    assert list(peers["paths"]) == list(report().paths)
    assert peers["paths"]["portkey"]["figures"]["cpu_seconds_per_1000_requests"]["median"] == 7.0
    assert peers["fmgate_advantage"] == headline_ratios(report())
    assert data["comparison"] == comparison(report())
    # The peer's failed streams are recorded, and they do not fail fmgate's run.
    assert data["healthy_phase_failures"] == []
    assert [(f["path"], f["phase"]) for f in data["peer_phase_failures"]] == [
        ("portkey", "round 2 c=16"),
        ("tensorzero", "start"),
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
