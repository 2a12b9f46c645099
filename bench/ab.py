"""A/B of fmgate's CPU cost: ``python -m bench.ab [REF] [--rounds N] [--requests N]``.

B is this working tree (uncommitted changes included), A is the commit ``REF`` names (default
``HEAD~1``; any git rev), checked out in a temporary ``git worktree`` that is removed afterwards
(also on errors and Ctrl-C). One emulator (zero latency, or ``--realistic``) and one
``fmgate serve`` per side, each run from its own tree in this venv (``PYTHONPATH`` = that tree's
``src``), both pinned to the server CPU as in ``bench.run`` and both up for the whole run. Each
server serves both fronts: Poe's ``POST /bot/<name>`` and ``POST /v1/chat/completions``.

Each round visits, front by front, both sides one after the other, A first in odd rounds and B
first in even ones (A B, B A, ...). A visit: a new client, a warm-up, then each level
(``--levels``, default c=1 and c=64), the server's CPU read from ``/proc`` over the levels.
Printed: per front, CPU s per 1,000 requests, throughput at the highest level and TTFT p50 at
the lowest, A and B as median (min..max) over the rounds, B/A. Written:
``bench/results/ab-<UTC time>.json`` (``--out``). A stream that fails on either side, in any
phase, fails the run (exit 1): an A/B of correctness as much as of speed.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Awaitable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TypeVar

import uvloop

from bench.ab_report import (
    FRONTS,
    SIDES,
    AbPlan,
    AbReport,
    SideInfo,
    Visit,
    render,
    result_name,
    stream_failures,
    write,
)
from bench.emulator_control import EmulatorControl
from bench.loadgen import run_load
from bench.machine import describe_machine
from bench.processes import REPO_ROOT, ServerProcess, ServerStartError
from bench.procstat import sample
from bench.rounds import rotation
from bench.run import RESULTS_DIR, cpu_placement, log_directory, now
from bench.servers import (
    BOT_NAME,
    PYTHON,
    BenchCredentials,
    base_env,
    emulator_server,
    fmgate_server,
    source_env,
)
from bench.stats import phase_figures
from bench.streams import OpenAIStream, PoeStream, StreamClient
from bench.worktree import Checkout, RefError, checked_out, head_state

DEFAULT_PLAN = AbPlan()
#: With ``--realistic`` a stream lasts ~0.7 s: c=64 only (c=1 would take minutes).
REALISTIC_LEVELS = (64,)
MAX_CONNECTIONS = 4096
T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class AbOptions:
    plan: AbPlan
    #: CPUs of the emulator and the load generator / of both servers (None: anywhere).
    load_cpus: frozenset[int] | None = None
    server_cpus: frozenset[int] | None = None


def say(message: str) -> None:
    print(f"bench.ab: {message}", file=sys.stderr, flush=True)


def check_source(tree: Path, credentials: BenchCredentials) -> None:
    """Fail unless ``python -m fmgate.cli`` started as a side's server is (imports fmgate from
    ``tree``'s ``src``, not the venv's editable install of another tree)."""
    probe = "import fmgate; print(fmgate.__file__)"
    env = base_env(credentials) | source_env(tree)
    done = subprocess.run(
        [PYTHON, "-c", probe], capture_output=True, text=True, env=env, cwd=tree, check=False
    )
    imported = Path(done.stdout.strip() or "?").resolve()
    if done.returncode != 0 or not imported.is_relative_to((tree / "src").resolve()):
        why = done.stderr.strip()[-500:] or f"fmgate imported from {imported}"
        raise RuntimeError(f"the server would not run {tree}'s fmgate: {why}")


def open_client(
    front: str, server: ServerProcess, credentials: BenchCredentials, max_tokens: int
) -> StreamClient:
    """A new client of ``front`` on ``server`` (the same clients as ``bench.run``'s paths)."""
    if front == "poe":
        return PoeStream(server.url, BOT_NAME, credentials.poe_access_key, MAX_CONNECTIONS)
    headers = {"Authorization": f"Bearer {credentials.api_key}"}
    url = f"{server.url}/v1/chat/completions"
    return OpenAIStream("fmgate-openai", url, headers, BOT_NAME, max_tokens, MAX_CONNECTIONS)


async def measure_visit(
    client: StreamClient, pid: int, plan: AbPlan, where: tuple[str, str, int, int]
) -> Visit:
    """One visit: warm-up (its failures count too), then each level; CPU over the levels."""
    side, front, round_number, position = where
    warmup = await run_load(
        client, concurrency=8, max_requests=plan.warmup_requests, max_seconds=30.0
    )
    visit = Visit(side, front, round_number, position, warmup=phase_figures(warmup))
    before = sample(pid)
    requests = 0
    for level in plan.levels:
        result = await run_load(
            client,
            concurrency=level,
            max_requests=max(plan.requests_per_level, level),
            max_seconds=plan.seconds_per_level,
            ramp_seconds=plan.ramp_seconds,
        )
        requests += len(result.timings)
        visit.levels[level] = phase_figures(result)
    spent = sample(pid).cpu_seconds - before.cpu_seconds
    visit.cpu_seconds_per_1000_requests = spent / max(requests, 1) * 1000
    return visit


async def run_ab(options: AbOptions, a: Checkout, b: SideInfo, log_dir: Path) -> AbReport:
    """Start the emulator and both sides' servers, run the rounds, return the report."""
    plan = options.plan
    report = AbReport(
        started_at=now(),
        a=SideInfo("A", a.ref, a.commit),
        b=b,
        plan=plan,
        machine=describe_machine(),
        cpu_placement={
            "load_generator_and_emulator": sorted(options.load_cpus or []),
            "servers_under_test": sorted(options.server_cpus or []),
        },
        load_average={"start": os.getloadavg()[0]},
    )
    credentials = BenchCredentials()
    trees = {"A": a.path, "B": REPO_ROOT}
    async with (
        emulator_server(log_dir, credentials, options.load_cpus) as emulator,
        AsyncExitStack() as stack,
    ):
        await EmulatorControl(emulator.url).set_timing(plan.ttft_ms, plan.tokens_per_second)
        servers: dict[str, ServerProcess] = {}
        for side in SIDES:
            say(f"starting {side}: fmgate serve from {report.side(side).describe()}...")
            check_source(trees[side], credentials)
            servers[side] = await stack.enter_async_context(
                fmgate_server(
                    log_dir,
                    emulator.url,
                    credentials,
                    plan.max_tokens,
                    options.server_cpus,
                    name=f"fmgate-{side}",
                    source=trees[side],
                )
            )
        idle_cpu = dict.fromkeys(SIDES, 0.0)
        idle_wall = dict.fromkeys(SIDES, 0.0)
        for index in range(plan.rounds):
            sides = rotation(list(SIDES), index)
            order: list[str] = []
            report.round_orders.append(order)
            for front in plan.fronts:
                for position, side in enumerate(sides, start=1):
                    say(f"round {index + 1}/{plan.rounds}: {side} {front}")
                    order.append(f"{side} {front}")
                    other = "B" if side == "A" else "A"
                    other_before = sample(servers[other].pid).cpu_seconds
                    started = time.perf_counter()
                    client = open_client(front, servers[side], credentials, plan.max_tokens)
                    try:
                        where = (side, front, index + 1, position)
                        visit = await measure_visit(client, servers[side].pid, plan, where)
                    finally:
                        await client.aclose()
                    idle_cpu[other] += sample(servers[other].pid).cpu_seconds - other_before
                    idle_wall[other] += time.perf_counter() - started
                    report.visits.append(visit)
        report.idle_cpu_share = {
            side: idle_cpu[side] / idle_wall[side] if idle_wall[side] else None for side in SIDES
        }
    report.load_average["end"] = os.getloadavg()[0]
    report.finished_at = now()
    return report


def levels_argument(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of concurrency levels: {text!r}") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"levels must be positive integers: {text!r}")
    return levels


def fronts_argument(text: str) -> tuple[str, ...]:
    fronts = tuple(part for part in text.split(",") if part)
    unknown = [front for front in fronts if front not in FRONTS]
    if not fronts or unknown:
        raise argparse.ArgumentTypeError(f"fronts are a subset of {','.join(FRONTS)}: {text!r}")
    return fronts


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text}")
    return value


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench.ab",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("ref", nargs="?", default="HEAD~1", help="A: any git rev (HEAD~1)")
    parser.add_argument(
        "--rounds", type=positive_int, default=DEFAULT_PLAN.rounds, help="interleaved rounds"
    )
    parser.add_argument(
        "--requests",
        type=positive_int,
        default=DEFAULT_PLAN.requests_per_level,
        help="streams per level and visit",
    )
    parser.add_argument(
        "--seconds",
        type=float,
        default=DEFAULT_PLAN.seconds_per_level,
        help="time bound of each level of a visit",
    )
    parser.add_argument(
        "--levels",
        type=levels_argument,
        help="concurrency levels, comma-separated (default 1,64; --realistic: 64)",
    )
    parser.add_argument(
        "--fronts", type=fronts_argument, default=FRONTS, help="poe,openai (default both)"
    )
    parser.add_argument(
        "--realistic",
        action="store_true",
        help="the emulator at 300 ms TTFT and 75 tokens/s instead of zero latency",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin the servers to a CPU")
    parser.add_argument("--out", type=Path, help="the JSON (default bench/results/ab-<time>.json)")
    parser.add_argument("--logs", type=Path, help="keep server logs and configs in this folder")
    return parser


def plan_of(args: argparse.Namespace) -> AbPlan:
    levels = args.levels or (REALISTIC_LEVELS if args.realistic else DEFAULT_PLAN.levels)
    return AbPlan(
        rounds=args.rounds,
        requests_per_level=args.requests,
        seconds_per_level=args.seconds,
        levels=levels,
        fronts=args.fronts,
        realistic=args.realistic,
    )


def interrupt_on_sigterm(signum: int, frame: FrameType | None) -> None:
    """SIGTERM outside the event loop: as Ctrl-C, so the worktree still goes."""
    raise KeyboardInterrupt


async def cancelled_on_sigterm(work: Awaitable[T]) -> T:
    """``work``, cancelled by SIGTERM (as Ctrl-C cancels it): every server it started is
    stopped on the way out. (A background job started by a script ignores SIGINT, so SIGTERM
    is what stops it.)"""
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    assert task is not None
    previous = signal.getsignal(signal.SIGTERM)
    loop.add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await work
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    plan = plan_of(args)
    load_cpus, server_cpus = cpu_placement(not args.no_pin)
    if load_cpus:
        os.sched_setaffinity(0, load_cpus)
    signal.signal(signal.SIGTERM, interrupt_on_sigterm)
    options = AbOptions(plan=plan, load_cpus=load_cpus, server_cpus=server_cpus)
    try:
        commit, changes = head_state(REPO_ROOT)
        b = SideInfo("B", "working tree", commit, changes)
        with checked_out(REPO_ROOT, args.ref) as a, log_directory(args.logs) as log_dir:
            say(f"A = {args.ref} ({a.short}) checked out in a temporary worktree")
            report = uvloop.run(cancelled_on_sigterm(run_ab(options, a, b, log_dir)))
    except RefError as exc:
        say(str(exc))
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        say("interrupted; every server was stopped and the worktree removed")
        return 130
    except (ServerStartError, RuntimeError, OSError) as exc:
        say(f"FAILED: {type(exc).__name__}: {exc}")
        return 1
    print(render(report))
    out = args.out or RESULTS_DIR / result_name(report.started_at)
    say(f"wrote {write(report, out)}")
    failures = stream_failures(report)
    for failure in failures:
        print(f"bench.ab: FAILED: {failure.describe()}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
