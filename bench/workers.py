"""The workers phase: ``fmgate serve --workers N`` for each N of ``plan.worker_counts``, one after
the other against the same emulator, closed-loop throughput at each of
``plan.workers_concurrency_levels`` (zero-latency emulator), side by side with the ratio to the
first count.

Only the number of workers changes between the runs: fmgate may use the same CPUs each time (every
CPU of the machine when the run pins processes; the emulator and the load generator keep theirs),
the same catalog, the same client. On a 2-CPU machine the emulator and the load generator share
one CPU that the second worker also needs, so the ratio shows what a second process buys there,
not what it buys on a machine with CPUs to spare.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import run_load
from bench.measure import BenchPlan, EmulatorTiming
from bench.processes import ServerProcess, ServerStartError
from bench.report import WorkersOutcome
from bench.servers import BOT_NAME, BenchCredentials, fmgate_server
from bench.stats import PhaseFigures, phase_figures
from bench.streams import PoeStream


@dataclass(frozen=True, slots=True)
class WorkersSetup:
    """What the phase needs from the run: the emulator, keys, CPUs, the client's pool."""

    emulator_url: str
    credentials: BenchCredentials
    fmgate_cpus: frozenset[int] | None
    max_connections: int


async def measure_workers(
    plan: BenchPlan, setup: WorkersSetup, log_dir: Path, emulator: EmulatorTiming
) -> WorkersOutcome:
    """Each worker count of ``plan`` in turn; a count that fails to start fails the phase."""
    outcome = WorkersOutcome("ok", fmgate_cpus=sorted(setup.fmgate_cpus or []))
    await emulator.set_timing(plan.fast_ttft_ms, plan.fast_tokens_per_second)
    for count in plan.worker_counts:
        try:
            outcome.counts[count] = await measure_count(plan, setup, log_dir, count)
        except ServerStartError as exc:
            return WorkersOutcome("failed", outcome.counts, outcome.fmgate_cpus, f"{exc}")
    return outcome


async def measure_count(
    plan: BenchPlan, setup: WorkersSetup, log_dir: Path, count: int
) -> dict[int, PhaseFigures]:
    """fmgate with ``count`` workers: warm-up, then one closed-loop phase per level."""
    async with fmgate_server(
        log_dir,
        setup.emulator_url,
        setup.credentials,
        plan.max_tokens,
        setup.fmgate_cpus,
        workers=count,
        name=f"fmgate-{count}-workers",
    ) as server:
        return await measure_levels(plan, setup, server)


async def measure_levels(
    plan: BenchPlan, setup: WorkersSetup, server: ServerProcess
) -> dict[int, PhaseFigures]:
    client = PoeStream(
        server.url, BOT_NAME, setup.credentials.poe_access_key, setup.max_connections
    )
    levels: dict[int, PhaseFigures] = {}
    try:
        await run_load(client, concurrency=8, max_requests=plan.warmup_requests, max_seconds=30.0)
        for level in plan.workers_concurrency_levels:
            result = await run_load(
                client,
                concurrency=level,
                max_requests=max(plan.requests_per_level, level),
                max_seconds=plan.seconds_per_phase,
            )
            levels[level] = phase_figures(result)
    finally:
        await client.aclose()
    return levels
