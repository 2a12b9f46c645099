"""A healthy phase that drops a stream on fmgate or direct fails the benchmark, naming the path,
the round and the phase; a peer's are reported and do not fail it."""

from __future__ import annotations

from bench.caching_figures import CachingOutcome
from bench.health import healthy_phase_failures, peer_phase_failures
from bench.measure import BenchPlan, HoldFigures, PathFigures, RoundFigures, ServerFigures
from bench.report import BenchReport, PathOutcome
from bench.stats import PhaseFigures


def phase(concurrency: int, failed: int = 0) -> PhaseFigures:
    failures = {"busy": failed} if failed else {}
    return PhaseFigures(
        concurrency=concurrency,
        streams=100,
        completed=100 - failed,
        failed=failed,
        ttft_p50_ms=1.0,
        ttft_p99_ms=2.0,
        total_p50_ms=3.0,
        total_p99_ms=4.0,
        throughput_per_s=10.0,
        wall_seconds=1.0,
        failures=failures,
    )


def hold(requested: int, completed: int) -> HoldFigures:
    failures = {"error event: busy": requested - completed} if completed < requested else {}
    return HoldFigures(requested, requested, completed, failures, 100.0, 140.0, 40.0)


def rounds(*levels: dict[int, PhaseFigures]) -> list[RoundFigures]:
    return [RoundFigures(number, 1, phases, 1.0) for number, phases in enumerate(levels, 1)]


def figures_of(name: str, *levels: dict[int, PhaseFigures]) -> PathFigures:
    return PathFigures(name, rounds(*(levels or ({1: phase(1)},))), realistic=phase(64))


def report(figures: PathFigures, ceiling: PhaseFigures | None = None) -> BenchReport:
    outcome = PathOutcome("fmgate", "ok", figures=figures)
    return BenchReport("t0", "t1", {}, BenchPlan(), {}, ceiling, {"fmgate": outcome})


def test_a_clean_run_has_no_failures() -> None:
    figures = figures_of("fmgate")
    figures.server = ServerFigures(hold=hold(1000, 1000), large_hold=hold(5000, 5000))
    assert healthy_phase_failures(report(figures)) == []
    assert peer_phase_failures(report(figures)) == []


def test_dropped_held_streams_name_the_hold() -> None:
    figures = figures_of("fmgate")
    figures.server = ServerFigures(hold=hold(1000, 291), large_hold=hold(5000, 5000))
    [failure] = healthy_phase_failures(report(figures))
    assert (failure.path, failure.phase, failure.failed) == ("fmgate", "hold 1000", 709)
    assert failure.describe() == (
        "fmgate hold 1000: 709 of 1000 streams failed (error event: busy: 709)"
    )


def test_failed_streams_in_any_round_and_a_front_that_did_not_start_are_failures() -> None:
    figures = figures_of("fmgate", {1: phase(1)}, {1: phase(1), 64: phase(64, failed=3)})
    run = report(figures, ceiling=phase(64, failed=1))
    run.paths["fmgate-openai"] = PathOutcome("fmgate-openai", "failed", reason="exited with 1")
    run.paths["direct"] = PathOutcome("direct", "ok", figures_of("direct", {1: phase(1, 2)}))
    phases = [(f.path, f.phase) for f in healthy_phase_failures(run)]
    assert phases == [
        ("load generator", "ceiling"),
        ("fmgate", "round 2 c=64"),
        ("fmgate-openai", "start"),
        ("direct", "round 1 c=1"),
    ]


def test_a_peer_that_drops_streams_or_cannot_start_is_reported_not_failed() -> None:
    run = report(figures_of("fmgate"))
    run.paths["litellm"] = PathOutcome("litellm", "failed", reason="server did not start")
    run.paths["portkey"] = PathOutcome(
        "portkey", "ok", figures_of("portkey", {1: phase(1)}, {1: phase(1, failed=4)})
    )
    run.paths["bifrost"] = PathOutcome("bifrost", "unavailable", reason="downloads its binary")
    run.paths["tensorzero"] = PathOutcome("tensorzero", "skipped", reason="--skip-tensorzero")
    assert healthy_phase_failures(run) == []
    assert [(f.path, f.phase, f.failed) for f in peer_phase_failures(run)] == [
        ("litellm", "start", 1),
        ("portkey", "round 2 c=1", 4),
    ]


def test_a_prompt_caching_phase_that_failed_is_a_failure() -> None:
    run = report(figures_of("fmgate"))
    run.caching = CachingOutcome("ok")
    assert healthy_phase_failures(run) == []
    run.caching = CachingOutcome("failed", reason="BotError: busy")
    [failure] = healthy_phase_failures(run)
    assert failure.describe() == "fmgate prompt caching: 1 of 1 streams failed (BotError: busy: 1)"
