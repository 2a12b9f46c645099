"""Run the benchmark: ``python -m bench.run [--quick] [--rounds N] [--out PATH] [--skip-*]``.

One run on this machine, against one emulator: the load generator's own ceiling; then every path
(``bench.paths``: direct, fmgate's Poe front and its ``/v1/chat/completions``, LiteLLM, Portkey,
TensorZero; Bifrost reported as unavailable) started once, each pinned to the server CPU and
left idle while the others are measured (what it spends idle is recorded); ``plan.rounds``
interleaved rounds in which every path is visited once, in rotating order (``bench.rounds``),
for its zero-latency levels and CPU; then
each path's realistic-latency and held-streams phases; then the workers phase
(``bench.workers``: fmgate with ``--workers 1`` and ``--workers 2``; ``--skip-workers`` leaves it
out) and the prompt-caching phase (``bench.caching``: caching off vs auto; ``--skip-caching``).
Prints the tables and writes the report as JSON (``--out``, plus a timestamped copy in
``bench/results/``). Every process it started is stopped at the end, on errors and on Ctrl-C.
A peer that cannot be installed or started is reported with the reason; the run goes on.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TypeVar

import uvloop

from bench.caching import CachingSetup, measure_caching
from bench.caching_figures import CachingOutcome
from bench.emulator_control import EmulatorControl
from bench.health import healthy_phase_failures, peer_phase_failures
from bench.litellm_env import ensure_litellm
from bench.loadgen import run_load
from bench.machine import describe_machine
from bench.measure import BenchPlan, EmulatorTiming, PathFigures, measure_details, measure_round
from bench.paths import LivePath, PathSetup, start_path
from bench.peer_install import PeerInstall
from bench.portkey_env import SIGNED_PORT, ensure_portkey, node_version
from bench.processes import ServerProcess, port_problem
from bench.procstat import sample
from bench.report import PATHS, BenchReport, PathOutcome, WorkersOutcome
from bench.report_json import write_json
from bench.report_table import render_table
from bench.rounds import rotation
from bench.servers import BenchCredentials, emulator_server, trivial_sse_server
from bench.stats import PhaseFigures, phase_figures
from bench.streams import PoeStream, StreamClient
from bench.tensorzero_env import ensure_tensorzero
from bench.workers import WorkersSetup, measure_workers

RESULTS_DIR = Path(__file__).resolve().parent / "results"

#: ``--quick``: every phase small and two rounds, a few minutes in all (peer start-up included).
QUICK_PLAN = BenchPlan(
    requests_per_level=400,
    rounds=2,
    round_seconds_per_level=2.0,
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
#: The peers each need an environment of their own (Bifrost has none: it cannot run here).
INSTALLERS: dict[str, Callable[[], PeerInstall]] = {
    "litellm": ensure_litellm,
    "portkey": ensure_portkey,
    "tensorzero": ensure_tensorzero,
}


@dataclass(frozen=True, slots=True)
class RunOptions:
    """What one run measures, and where the load generator and the servers run."""

    plan: BenchPlan
    paths: tuple[str, ...] = PATHS
    #: Each peer's environment, or why it has none (a peer of ``paths`` missing: unavailable).
    installs: dict[str, PeerInstall] = field(default_factory=dict)
    #: Paths of ``paths`` left out on purpose, with why (``--skip-litellm``...).
    skipped: dict[str, str] = field(default_factory=dict)
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


def emulator_port(options: RunOptions) -> tuple[int | None, dict[str, PeerInstall]]:
    """The emulator's port (None: any free one) and the installs as they stand: Portkey signs
    the Host without the port, so with Portkey in the run the emulator takes port 80, and
    Portkey is unavailable when port 80 cannot be had."""
    installs = dict(options.installs)
    portkey = installs.get("portkey")
    wanted = "portkey" in options.paths and "portkey" not in options.skipped
    if not wanted or portkey is None or portkey.program is None:
        return None, installs
    problem = port_problem(SIGNED_PORT)
    if problem is None:
        return SIGNED_PORT, installs
    installs["portkey"] = PeerInstall.missing(
        f"{problem}: Portkey's SigV4 signer signs the Host without the port, so the emulator "
        f"must answer on port {SIGNED_PORT}"
    )
    return None, installs


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
    if "portkey" in options.paths:
        report.machine["node"] = node_version()
    credentials = options.credentials
    port, installs = emulator_port(options)
    async with emulator_server(log_dir, credentials, options.load_cpus, port) as emulator:
        control = EmulatorControl(emulator.url)
        setup = PathSetup(
            log_dir=log_dir,
            emulator_url=emulator.url,
            credentials=credentials,
            max_tokens=plan.max_tokens,
            max_connections=options.max_connections,
            server_cpus=options.server_cpus,
            installs=installs,
        )
        async with AsyncExitStack() as stack:
            live, outcomes = await start_paths(options, setup, stack)
            outcomes |= await measure_paths(live, plan, control, report)
        report.paths = {name: outcomes[name] for name in options.paths if name in outcomes}
        for name, outcome in report.paths.items():
            say(f"{name}: {outcome.status}")
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


T = TypeVar("T")


async def start_paths(
    options: RunOptions, setup: PathSetup, stack: AsyncExitStack
) -> tuple[list[LivePath], dict[str, PathOutcome]]:
    """Every requested path's server, started and answering; the paths that will not run with
    their reason (skipped, unavailable, failed to start)."""
    live: list[LivePath] = []
    outcomes: dict[str, PathOutcome] = {}
    for name in options.paths:
        if name in options.skipped:
            outcomes[name] = PathOutcome(name, "skipped", reason=options.skipped[name])
            continue
        say(f"starting {name}...")
        started = await start_path(name, setup, stack)
        if isinstance(started, PathOutcome):
            outcomes[name] = started
            say(f"{name}: {started.status} ({started.reason})")
            continue
        live.append(started)
    return live, outcomes


@dataclass(slots=True)
class IdleCpu:
    """What each server spends while the other paths are measured (CPU and wall seconds).

    The servers stay up, idle, between their visits; stopping them (SIGSTOP) instead would
    look like a stalled event loop to fmgate's overload protection when resumed."""

    cpu: dict[str, float] = field(default_factory=dict)
    wall: dict[str, float] = field(default_factory=dict)

    def readings(self, live: list[LivePath], visiting: LivePath) -> dict[str, float]:
        return {
            path.name: sample(path.server.pid).cpu_seconds
            for path in live
            if path.server is not None and path is not visiting
        }

    def add(self, before: dict[str, float], after: dict[str, float], seconds: float) -> None:
        for name, cpu in after.items():
            self.cpu[name] = self.cpu.get(name, 0.0) + cpu - before.get(name, cpu)
            self.wall[name] = self.wall.get(name, 0.0) + seconds

    def share(self, name: str) -> float | None:
        wall = self.wall.get(name)
        return self.cpu[name] / wall if wall else None


async def visit(
    path: LivePath,
    work: Callable[[StreamClient], Awaitable[T]],
    live: list[LivePath],
    idle: IdleCpu,
) -> T:
    """Run ``work`` with a new client of ``path``; what the other servers spend meanwhile goes
    to ``idle``."""
    before = idle.readings(live, path)
    started = time.perf_counter()
    client = await path.open_client()
    try:
        return await work(client)
    finally:
        await client.aclose()
        idle.add(before, idle.readings(live, path), time.perf_counter() - started)


async def measure_paths(
    live: list[LivePath], plan: BenchPlan, control: EmulatorTiming, report: BenchReport
) -> dict[str, PathOutcome]:
    """The interleaved rounds, then each path's once-per-run phases; each path's outcome (a
    path that breaks keeps what it measured, is failed with the reason and visited no more)."""
    figures = {path.name: PathFigures(path.name) for path in live}
    broken: dict[str, str] = {}
    idle = IdleCpu()
    for index in range(plan.rounds):
        order = rotation([path.name for path in live if path.name not in broken], index)
        report.round_orders.append(order)
        for position, path in enumerate(by_name(live, order), start=1):
            say(f"round {index + 1}/{plan.rounds}: {path.name}")
            pid = path.server.pid if path.server is not None else None
            try:
                work = partial(
                    measure_round,
                    server_pid=pid,
                    emulator=control,
                    plan=plan,
                    round_number=index + 1,
                    position=position,
                )
                visit_figures = await visit(path, work, live, idle)
            except Exception as exc:  # a path that breaks must not stop the others
                broken[path.name] = f"round {index + 1}: {type(exc).__name__}: {exc}"
                continue
            figures[path.name].rounds.append(visit_figures)
    for path in live:
        if path.name in broken:
            continue
        say(f"realistic latency and held streams: {path.name}")
        pid = path.server.pid if path.server is not None else None
        try:
            details = partial(
                measure_details,
                server_pid=pid,
                emulator=control,
                plan=plan,
                figures=figures[path.name],
                large_hold=path.large_hold,
            )
            await visit(path, details, live, idle)
        except Exception as exc:  # a path that breaks must not stop the others
            broken[path.name] = f"realistic/hold phases: {type(exc).__name__}: {exc}"
    for path in live:
        server = figures[path.name].server
        if server is not None:
            server.idle_cpu_share = idle.share(path.name)
    return {
        path.name: PathOutcome(
            path.name,
            "failed" if path.name in broken else "ok",
            figures=figures[path.name],
            reason=broken.get(path.name),
            version=path.version,
        )
        for path in live
    }


def by_name(live: list[LivePath], order: list[str]) -> list[LivePath]:
    paths = {path.name: path for path in live}
    return [paths[name] for name in order]


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
    parser.add_argument("--quick", action="store_true", help="small phases, two rounds")
    parser.add_argument(
        "--rounds",
        type=int,
        help=f"interleaved rounds (default {FULL_PLAN.rounds}; --quick: {QUICK_PLAN.rounds})",
    )
    parser.add_argument("--out", type=Path, default=RESULTS_DIR / "latest.json")
    for peer in INSTALLERS:
        parser.add_argument(
            f"--skip-{peer}", action="store_true", help=f"do not run the {peer} path"
        )
    parser.add_argument(
        "--paths",
        default=",".join(PATHS),
        help=f"comma-separated subset of {','.join(PATHS)}",
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


def install_peers(paths: Sequence[str], skipped: dict[str, str]) -> dict[str, PeerInstall]:
    """Each requested peer's environment, installed on first use (or why it has none)."""
    installs: dict[str, PeerInstall] = {}
    for peer, ensure in INSTALLERS.items():
        if peer not in paths or peer in skipped:
            continue
        installs[peer] = ensure()
        if installs[peer].program is None:
            say(f"{peer}: unavailable ({installs[peer].reason})")
    return installs


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    paths = tuple(p for p in args.paths.split(",") if p)
    unknown = [p for p in paths if p not in PATHS]
    if unknown:
        print(f"bench: unknown path(s): {', '.join(unknown)}", file=sys.stderr)
        return 2
    plan = QUICK_PLAN if args.quick else FULL_PLAN
    if args.rounds is not None:
        if args.rounds < 1:
            print("bench: --rounds must be at least 1", file=sys.stderr)
            return 2
        plan = replace(plan, rounds=args.rounds)
    skipped = {
        peer: f"--skip-{peer}" for peer in INSTALLERS if getattr(args, f"skip_{peer}", False)
    }
    installs = install_peers(paths, skipped)
    load_cpus, server_cpus = cpu_placement(not args.no_pin)
    all_cpus = frozenset(os.sched_getaffinity(0)) if load_cpus else None
    if load_cpus:
        os.sched_setaffinity(0, load_cpus)
    options = RunOptions(
        plan=plan,
        paths=paths,
        installs=installs,
        skipped=skipped,
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
    for failure in peer_phase_failures(report):
        print(f"bench: peer: {failure.describe()}", file=sys.stderr)
    failures = healthy_phase_failures(report)
    for failure in failures:
        print(f"bench: FAILED: {failure.describe()}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
