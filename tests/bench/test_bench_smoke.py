"""The benchmark machinery end to end at tiny scale: real emulator and gateway processes (the
peers' own smoke test is ``test_peer_environments``).

No timing thresholds: the test checks that a run produces every figure with the right shape and
plausible (positive, finite) values, and that every server it started is gone afterwards.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path
from typing import Any

from bench.caching import REALISTIC, source_bot
from bench.comparison import comparison
from bench.health import healthy_phase_failures
from bench.measure import BenchPlan
from bench.report_json import report_json, write_json
from bench.report_table import render_table
from bench.run import RunOptions, run_benchmark

from fmgate.accounting.pricing import price
from fmgate.core.events import Usage

TINY_PLAN = BenchPlan(
    concurrency_levels=(1, 4),
    requests_per_level=8,
    rounds=2,
    round_seconds_per_level=10.0,
    seconds_per_phase=10.0,
    warmup_requests=4,
    max_tokens=8,
    realistic_ttft_ms=20.0,
    realistic_tokens_per_second=400.0,
    realistic_concurrency=4,
    realistic_requests=8,
    realistic_seconds=10.0,
    hold_streams=8,
    hold_ttft_ms=300.0,
    hold_tokens_per_second=100.0,
    hold_open_timeout=10.0,
    large_hold_streams=16,
    large_hold_open_timeout=10.0,
)


def positive(value: object) -> bool:
    return isinstance(value, float | int) and math.isfinite(value) and value > 0


def logs_without(secret: str, folder: Path) -> bool:
    """Whether no server log in ``folder`` contains ``secret``."""
    return all(secret not in log.read_text(errors="replace") for log in folder.glob("*.log"))


async def test_tiny_run_reports_every_figure(tmp_path: Path) -> None:
    own_paths = ("direct", "fmgate", "fmgate-openai")
    options = RunOptions(plan=TINY_PLAN, paths=own_paths)

    report = await run_benchmark(options, tmp_path)

    assert report.load_generator is not None
    assert report.load_generator.completed > 0
    assert positive(report.load_generator.throughput_per_s)
    assert list(report.paths) == list(own_paths)
    assert report.round_orders == [list(own_paths), ["fmgate", "fmgate-openai", "direct"]]
    for name in own_paths:
        outcome = report.paths[name]
        assert outcome.status == "ok", outcome.reason
        figures = outcome.figures
        assert figures is not None
        assert [(visit.round, set(visit.levels)) for visit in figures.rounds] == [
            (1, {1, 4}),
            (2, {1, 4}),
        ]
        phases = [
            *(phase for visit in figures.rounds for phase in visit.levels.values()),
            figures.realistic,
        ]
        for phase in phases:
            assert phase is not None
            assert phase.failed == 0, phase.failures
            assert phase.completed > 0
            for value in (phase.ttft_p50_ms, phase.ttft_p99_ms, phase.total_p50_ms):
                assert positive(value)
            assert phase.ttft_p50_ms <= phase.total_p50_ms
            assert positive(phase.throughput_per_s)
    direct = report.paths["direct"].figures
    assert direct is not None
    assert direct.server is None  # the floor has no server process
    assert [visit.cpu_seconds_per_1000_requests for visit in direct.rounds] == [None, None]
    fmgate = report.paths["fmgate"].figures
    assert fmgate is not None
    assert fmgate.server is not None
    assert positive(fmgate.server.peak_rss_mb)
    for visit in fmgate.rounds:
        assert positive(visit.cpu_seconds_per_1000_requests)
    idle = fmgate.server.idle_cpu_share  # up, idle, while the other paths were measured
    assert idle is not None
    assert 0 <= idle < 1
    openai = report.paths["fmgate-openai"].figures
    assert openai is not None
    assert openai.server is not None
    assert openai.server.large_hold is None  # the larger hold is the Poe front's
    assert openai.server.hold is not None
    assert openai.server.hold.dropped == 0
    assert fmgate.server.hold is not None
    assert (fmgate.server.hold.requested, fmgate.server.hold.dropped) == (8, 0)
    assert fmgate.server.large_hold is not None  # fmgate alone also holds the larger number
    assert (fmgate.server.large_hold.requested, fmgate.server.large_hold.dropped) == (16, 0)
    assert healthy_phase_failures(report) == []
    assert math.isfinite(fmgate.server.rss_per_1000_open_streams_mb)

    table: Any = comparison(report)
    assert table["throughput_c4"]["paths"]["fmgate"]["rounds"] == 2
    assert table["throughput_c4"]["paths"]["litellm"] is None  # not run: no figure, none invented
    assert table["added_ttft_p50_ms_fast_c1"]["paths"]["fmgate-openai"] is not None
    assert table["added_ttft_p50_ms_fast_c1"]["paths"]["direct"]["median"] == 0
    assert "load generator ceiling" in render_table(report)

    written = write_json(report, tmp_path / "out" / "latest.json", tmp_path / "history")
    assert [p.exists() for p in written] == [True, True]
    data = report_json(report)
    assert set(data) >= {"machine", "plan", "load_generator", "paths", "comparison"}

    assert logs_without(options.credentials.secret_access_key, tmp_path)
    assert logs_without(options.credentials.api_key, tmp_path)


async def test_tiny_workers_phase_measures_each_count(tmp_path: Path) -> None:
    plan = replace(TINY_PLAN, worker_counts=(1, 2), workers_concurrency_levels=(2, 4))
    options = RunOptions(plan=plan, paths=(), workers_phase=True)

    report = await run_benchmark(options, tmp_path)

    workers = report.workers
    assert workers is not None
    assert workers.status == "ok", workers.reason
    assert list(workers.counts) == [1, 2]
    for phases in workers.counts.values():
        assert list(phases) == [2, 4]
        for phase in phases.values():
            assert phase.failed == 0, phase.failures
            assert positive(phase.throughput_per_s)
    assert positive(workers.ratio(2, 4))
    assert workers.ratio(1, 4) == 1.0
    assert (tmp_path / "fmgate-2-workers.log").exists()  # its own log, beside the 1-worker one
    data = report_json(report)
    assert data["workers"]["throughput_per_s"]["2"]["4"] is not None  # type: ignore[index]
    assert "fmgate throughput (streams/s)" in render_table(report)
    assert logs_without(options.credentials.secret_access_key, tmp_path)


def emulator_ttft_floor_ms(uncached_tokens: int) -> float:
    """The least time the realistic emulator waits before a prompt's first token."""
    rate = REALISTIC.uncached_tokens_per_second
    assert rate is not None
    return REALISTIC.ttft_ms + uncached_tokens / rate * 1000


async def test_tiny_caching_phase_bills_fewer_input_tokens_with_auto(tmp_path: Path) -> None:
    plan = replace(TINY_PLAN, caching_turns=3)
    options = RunOptions(plan=plan, paths=(), caching_phase=True)

    report = await run_benchmark(options, tmp_path)

    caching = report.caching
    assert caching is not None
    assert caching.status == "ok", caching.reason
    assert [bill.turn for bill in caching.turns["off"]] == [1, 2, 3]
    pricing = source_bot(plan.caching_source_bot).pricing
    for mode, bills in caching.turns.items():
        for bill in bills:
            assert bill.output_tokens > 0
            usage = Usage(
                input_tokens=bill.input_tokens,
                output_tokens=bill.output_tokens,
                cache_read_tokens=bill.cache_read_tokens,
                cache_write_tokens=bill.cache_write_tokens,
            )
            assert bill.cost_milli_cents == price(pricing, usage=usage).total_rounded, mode
            # The emulator's first token waits at least the fixed TTFT plus the time to read
            # the prompt's uncached input (a lower bound it sleeps, not a timing threshold).
            uncached = bill.input_tokens + bill.cache_write_tokens
            assert bill.ttft_ms >= emulator_ttft_floor_ms(uncached), (mode, bill)
    first_off, first_auto = caching.side_by_side()[0]
    assert (first_off.cache_read_tokens, first_off.cache_write_tokens) == (0, 0)
    assert (first_auto.input_tokens, first_auto.cache_read_tokens) == (0, 0)
    assert first_auto.cache_write_tokens == first_off.input_tokens > 1024  # the whole prompt
    assert first_auto.cost_milli_cents > first_off.cost_milli_cents  # a write costs 1.25x
    for off, auto in caching.side_by_side()[1:]:
        assert (off.cache_read_tokens, off.cache_write_tokens) == (0, 0)
        assert auto.prompt_tokens == off.prompt_tokens  # the same conversation
        assert auto.cache_read_tokens > 0
        # Tokens billed at the input price or above: only the new part of the prompt.
        assert auto.input_tokens + auto.cache_write_tokens < off.input_tokens / 5
        assert auto.cost_milli_cents < off.cost_milli_cents
    assert caching.cost_ratio is not None
    assert caching.cost_ratio < 1
    assert healthy_phase_failures(report) == []
    assert "prompt caching: 3 turns with claude-sonnet-4" in render_table(report)
    data = report_json(report)
    assert data["caching"]["totals"]["auto"]["turns"] == 3  # type: ignore[index]
    assert logs_without(options.credentials.secret_access_key, tmp_path)
    assert logs_without(options.credentials.poe_access_key, tmp_path)
