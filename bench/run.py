"""Run the benchmark: ``python -m bench.run [--quick] [--out PATH] [--skip-litellm]``.

One run on this machine, against one emulator: the load generator's own ceiling, then each path
(direct, fmgate, LiteLLM) through the same phases (see ``bench.measure``), one path's server at a
time, then the workers phase (``bench.workers``: fmgate with ``--workers 1`` and ``--workers 2``,
throughput side by side; ``--skip-workers`` leaves it out), then the prompt-caching phase
(``bench.caching``: a conversation with caching off and one with caching auto, side by side;
``--skip-caching`` leaves it out). Prints the tables and writes the report as JSON (``--out``,
plus a timestamped copy in ``bench/results/``). Every process it started is stopped at the end,
on errors and on Ctrl-C.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import uvloop

from bench.caching import CachingSetup, measure_caching
from bench.caching_figures import CachingOutcome
from bench.emulator_control import EmulatorControl
from bench.health import healthy_phase_failures
from bench.litellm_env import LitellmInstall, ensure_litellm
from bench.loadgen import run_load
from bench.machine import describe_machine
from bench.measure import BenchPlan, EmulatorTiming, PathFigures, measure_path
from bench.processes import ServerProcess, ServerStartError
from bench.report import BenchReport, PathOutcome, WorkersOutcome
from bench.report_json import write_json
from bench.report_table import render_table
from bench.servers import (
    BOT_NAME,
    LITELLM_MODEL,
    MODEL_ID,
    BenchCredentials,
    emulator_server,
    fmgate_server,
    litellm_server,
    trivial_sse_server,
)
from bench.stats import PhaseFigures, phase_figures
from bench.streams import DirectStream, OpenAIStream, PoeStream, StreamClient
from bench.workers import WorkersSetup, measure_workers

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: ``--quick``: every phase small, about a minute and a half in all (LiteLLM start-up included).
QUICK_PLAN = BenchPlan(
    requests_per_level=400,
    seconds_per_phase=3.0,
    warmup_requests=20,
    realistic_requests=128,
    realistic_seconds=6.0,
    hold_streams=250,
    hold_ttft_ms=2000.0,
    hold_tokens_per_second=16.0,
    hold_open_timeout=15.0,
    large_hold_streams=1000,
    large_hold_open_timeout=30.0,
    caching_turns=10,
)
FULL_PLAN = BenchPlan()


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What one run measures, and where the load generator and the servers run."""

    plan: BenchPlan
    paths: tuple[str, ...] = ("direct", "fmgate", "litellm")
    litellm: LitellmInstall | None = None
    #: CPUs of the emulator and the load generator / of the server under test (None: anywhere).
    load_cpus: frozenset[int] | None = None
    server_cpus: frozenset[int] | None = None
    #: Every CPU of the machine: the workers phase's fmgate may use them all (None: anywhere).
    all_cpus: frozenset[int] | None = None
    #: Run the workers phase after the paths.
    workers_phase: bool = False
    #: Run the prompt-caching phase last.
    caching_phase: bool = False
    credentials: BenchCredentials = field(default_factory=BenchCredentials)
    #: The load generator's connection pool: above the largest hold.
    max_connections: int = 8192


def cpu_placement(pin: bool) -> tuple[frozenset[int] | None, frozenset[int] | None]:
    """(load generator + emulator CPUs, server CPUs): the last CPU for the server under test."""
    cpus = sorted(os.sched_getaffinity(0))
    if not pin or len(cpus) < 2:
        return None, None
    return frozenset(cpus[:-1]), frozenset(cpus[-1:])


async def run_benchmark(options: RunOptions, log_dir: Path) -> BenchReport:
    """Measure the load generator's ceiling and every path of ``options``; return the report."""
    plan = options.plan
    report = BenchReport(
        started_at=now(),
        finished_at="",
        machine=describe_machine(),
        plan=plan,
        cpu_placement={
            "load_generator_and_emulator": sorted(options.load_cpus or []),
            "server_under_test": sorted(options.server_cpus or []),
        },
        load_generator=await load_generator_ceiling(options, log_dir),
    )
    credentials = options.credentials
    async with emulator_server(log_dir, credentials, options.load_cpus) as emulator:
        control = EmulatorControl(emulator.url)
        for name in options.paths:
            measure = PATH_RUNNERS[name]
            say(f"measuring {name}...")
            report.paths[name] = await measure(options, log_dir, emulator, control)
            say(f"{name}: {report.paths[name].status}")
        if options.workers_phase:
            counts = ", ".join(str(count) for count in plan.worker_counts)
            say(f"measuring fmgate with --workers {counts}...")
            report.workers = await run_workers(options, log_dir, emulator, control)
            say(f"workers: {report.workers.status}")
        if options.caching_phase:
            say(f"measuring prompt caching off vs auto, {plan.caching_turns} turns...")
            report.caching = await run_caching(options, log_dir, emulator, control)
            say(f"prompt caching: {report.caching.status}")
    report.finished_at = now()
    return report


async def load_generator_ceiling(options: RunOptions, log_dir: Path) -> PhaseFigures:
    """The load generator alone: Poe-shaped streams from a trivial server at c=64."""
    plan = options.plan
    async with trivial_sse_server(log_dir, plan.max_tokens, options.server_cpus) as server:
        client = PoeStream(server.url, "trivial", "unused", options.max_connections)
        try:
            await run_load(client, concurrency=8, max_requests=plan.warmup_requests, max_seconds=5)
            result = await run_load(
                client,
                concurrency=64,
                max_requests=plan.requests_per_level * 4,
                max_seconds=plan.seconds_per_phase,
            )
        finally:
            await client.aclose()
    return phase_figures(result)


PathRunner = Callable[[RunOptions, Path, ServerProcess, EmulatorTiming], Awaitable[PathOutcome]]


async def measured(
    name: str,
    client_factory: Callable[[], Awaitable[StreamClient]],
    server_pid: int | None,
    control: EmulatorTiming,
    plan: BenchPlan,
    *,
    large_hold: bool = False,
) -> PathFigures:
    client = await client_factory()
    try:
        return await measure_path(client, server_pid, control, plan, large_hold=large_hold)
    finally:
        await client.aclose()


async def run_direct(
    options: RunOptions, log_dir: Path, emulator: ServerProcess, control: EmulatorTiming
) -> PathOutcome:
    creds = options.credentials

    async def client() -> StreamClient:
        return await DirectStream(
            emulator.url,
            MODEL_ID,
            options.plan.max_tokens,
            creds.access_key_id,
            creds.secret_access_key,
            options.max_connections,
        ).open()

    return await guarded("direct", measured("direct", client, None, control, options.plan))


async def run_fmgate(
    options: RunOptions, log_dir: Path, emulator: ServerProcess, control: EmulatorTiming
) -> PathOutcome:
    async def body() -> PathFigures:
        async with fmgate_server(
            log_dir,
            emulator.url,
            options.credentials,
            options.plan.max_tokens,
            options.server_cpus,
        ) as server:

            async def client() -> StreamClient:
                return PoeStream(
                    server.url,
                    BOT_NAME,
                    options.credentials.poe_access_key,
                    options.max_connections,
                )

            return await measured(
                "fmgate", client, server.pid, control, options.plan, large_hold=True
            )

    return await guarded("fmgate", body())


async def run_litellm(
    options: RunOptions, log_dir: Path, emulator: ServerProcess, control: EmulatorTiming
) -> PathOutcome:
    install = options.litellm
    if install is None or install.executable is None:
        reason = install.reason if install is not None else "not requested"
        return PathOutcome("litellm", "skipped", reason=reason)
    executable = install.executable

    async def body() -> PathFigures:
        async with litellm_server(
            executable, log_dir, emulator.url, options.credentials, options.server_cpus
        ) as server:

            async def client() -> StreamClient:
                return OpenAIStream(
                    server.url,
                    options.credentials.litellm_master_key,
                    LITELLM_MODEL,
                    options.plan.max_tokens,
                    options.max_connections,
                )

            return await measured("litellm", client, server.pid, control, options.plan)

    outcome = await guarded("litellm", body())
    outcome.version = install.version
    return outcome


async def run_workers(
    options: RunOptions, log_dir: Path, emulator: ServerProcess, control: EmulatorTiming
) -> WorkersOutcome:
    setup = WorkersSetup(
        emulator_url=emulator.url,
        credentials=options.credentials,
        fmgate_cpus=options.all_cpus,
        max_connections=options.max_connections,
    )
    try:
        return await measure_workers(options.plan, setup, log_dir, control)
    except Exception as exc:  # a broken phase is reported, like a broken path
        return WorkersOutcome("failed", reason=f"{type(exc).__name__}: {exc}")


async def run_caching(
    options: RunOptions, log_dir: Path, emulator: ServerProcess, control: EmulatorTiming
) -> CachingOutcome:
    setup = CachingSetup(emulator.url, options.credentials, options.server_cpus)
    try:
        return await measure_caching(options.plan, setup, log_dir, control)
    except Exception as exc:  # a broken phase is reported, like a broken path
        return CachingOutcome("failed", reason=f"{type(exc).__name__}: {exc}")


async def guarded(name: str, work: Awaitable[PathFigures]) -> PathOutcome:
    """A path that fails (server does not start, emulator refuses...) is reported, not faked."""
    try:
        return PathOutcome(name, "ok", figures=await work)
    except ServerStartError as exc:
        return PathOutcome(name, "failed", reason=f"server did not start: {exc}")
    except Exception as exc:  # a broken path must not stop the other paths
        return PathOutcome(name, "failed", reason=f"{type(exc).__name__}: {exc}")


PATH_RUNNERS: dict[str, PathRunner] = {
    "direct": run_direct,
    "fmgate": run_fmgate,
    "litellm": run_litellm,
}


def now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def log_directory(keep: Path | None) -> Iterator[Path]:
    """Server logs and generated configs: ``keep`` if given, else a temporary directory."""
    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
        yield keep
        return
    with tempfile.TemporaryDirectory(prefix="fmgate-bench-") as tmp:
        yield Path(tmp)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small phases (about 2 minutes)")
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json")
    parser.add_argument("--skip-litellm", action="store_true", help="do not run the LiteLLM path")
    parser.add_argument(
        "--paths",
        default="direct,fmgate,litellm",
        help="comma-separated subset of direct,fmgate,litellm",
    )
    parser.add_argument(
        "--skip-workers",
        action="store_true",
        help="do not run the workers phase (fmgate --workers 1 vs 2)",
    )
    parser.add_argument(
        "--skip-caching",
        action="store_true",
        help="do not run the prompt-caching phase (a conversation with caching off vs auto)",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin servers to CPUs")
    parser.add_argument("--logs", type=Path, help="keep server logs and configs in this folder")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths = tuple(p for p in args.paths.split(",") if p)
    unknown = [p for p in paths if p not in PATH_RUNNERS]
    if unknown:
        print(f"bench: unknown path(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    litellm: LitellmInstall | None = None
    if args.skip_litellm:
        litellm = LitellmInstall(None, None, "--skip-litellm")
    elif "litellm" in paths:
        litellm = ensure_litellm()
        if litellm.executable is None:
            say(f"litellm: skipped ({litellm.reason})")
    load_cpus, server_cpus = cpu_placement(not args.no_pin)
    all_cpus = frozenset(os.sched_getaffinity(0)) if load_cpus else None
    if load_cpus:
        os.sched_setaffinity(0, load_cpus)
    options = RunOptions(
        plan=QUICK_PLAN if args.quick else FULL_PLAN,
        paths=paths,
        litellm=litellm,
        load_cpus=load_cpus,
        server_cpus=server_cpus,
        all_cpus=all_cpus,
        workers_phase=not args.skip_workers,
        caching_phase=not args.skip_caching,
    )

    try:
        with log_directory(args.logs) as log_dir:
            report = uvloop.run(run_benchmark(options, log_dir))
    except KeyboardInterrupt:
        say("interrupted; every server was stopped")
        return 130
    print(render_table(report))
    history = RESULTS_DIR if args.out.resolve().parent == RESULTS_DIR else None
    for path in write_json(report, args.out, history):
        say(f"wrote {path}")
    failures = healthy_phase_failures(report)
    for failure in failures:
        print(f"bench: FAILED: {failure.describe()}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
