"""The phases every path goes through, against one emulator whose timing is switched per phase.

In each of ``plan.rounds`` interleaved rounds (``bench.rounds``), one visit per path
(:func:`measure_round`):

1. warm-up (not recorded);
2. zero-latency emulator ("fast"): latency at concurrency 1, then throughput at each level of
   ``plan.concurrency_levels``, ``plan.round_seconds_per_level`` each; the server's CPU seconds
   over these phases give that round's CPU per 1,000 requests.

Then once per path, after the rounds (:func:`measure_details`):

3. (after a warm-up) realistic emulator (TTFT and token rate of a real model): latency at
   ``plan.realistic_concurrency``;
4. hold: ``plan.hold_streams`` streams opened at once against a slow first token; the server's
   RSS with all of them open minus its RSS just before, scaled to 1,000 streams; none may drop;
5. the server's peak RSS over the whole run (VmHWM).

Server figures need a server process; the direct path has none, so it has no server figures.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Protocol

from bench.loadgen import HoldResult, hold_open, run_load
from bench.procstat import ProcessSample, sample
from bench.stats import PhaseFigures, phase_figures
from bench.streams import StreamClient

MB = 1024 * 1024


class EmulatorTiming(Protocol):
    """Switches the emulator's latency profile between phases (``uncached_tokens_per_second``:
    how fast it reads a prompt's uncached input tokens before the first token; 0 = instantly)."""

    async def set_timing(
        self, ttft_ms: float, tokens_per_second: float, uncached_tokens_per_second: float = 0.0
    ) -> None: ...


@dataclass(frozen=True, slots=True)
class BenchPlan:
    """How much load each phase applies, and its bounds (requests and seconds)."""

    concurrency_levels: tuple[int, ...] = (1, 16, 64, 256)
    requests_per_level: int = 3000
    #: Interleaved rounds: each visits every path once (zero-latency levels, CPU per 1,000).
    rounds: int = 5
    #: Each zero-latency level of a round's visit stops after this (or requests_per_level).
    round_seconds_per_level: float = 4.0
    #: Each phase of the workers phase stops after this (or requests_per_level).
    seconds_per_phase: float = 10.0
    warmup_requests: int = 50
    #: Tokens per reply (the bot's and the direct request's maxTokens).
    max_tokens: int = 32
    #: The zero-latency profile: pure overhead.
    fast_ttft_ms: float = 0.0
    fast_tokens_per_second: float = 0.0  # 0 = as fast as possible
    realistic_ttft_ms: float = 300.0
    realistic_tokens_per_second: float = 75.0
    realistic_concurrency: int = 64
    realistic_requests: int = 320
    realistic_seconds: float = 20.0
    hold_streams: int = 1000
    #: Hold phase: a slow first token and slow tokens keep every stream open for seconds.
    hold_ttft_ms: float = 3000.0
    hold_tokens_per_second: float = 8.0
    hold_open_timeout: float = 30.0
    #: A second, larger hold for the paths that ask for it (fmgate: Poe scale in one process);
    #: 0 = none.
    large_hold_streams: int = 5000
    large_hold_open_timeout: float = 120.0
    #: The workers phase (``bench.workers``): fmgate with each of these ``--workers`` counts,
    #: throughput at each of these levels (zero-latency emulator).
    worker_counts: tuple[int, ...] = (1, 2)
    workers_concurrency_levels: tuple[int, ...] = (64, 256)
    #: The prompt-caching phase (``bench.caching``): turns of each conversation, and the bundled
    #: catalog's Claude bot both of its bots copy (caching off, caching auto).
    caching_turns: int = 20
    caching_source_bot: str = "claude-sonnet-4"


@dataclass(frozen=True, slots=True)
class HoldFigures:
    """Streams held open at once: what completed, and the server's memory."""

    requested: int
    open_at_reading: int
    completed: int
    failures: dict[str, int]
    rss_idle_mb: float
    rss_loaded_mb: float
    rss_per_1000_mb: float

    @property
    def dropped(self) -> int:
        return self.requested - self.completed


@dataclass(slots=True)
class ServerFigures:
    """Resource figures of the server process (tree) of a path (its CPU is per round)."""

    peak_rss_mb: float = 0.0
    idle_rss_mb: float = 0.0
    rss_per_1000_open_streams_mb: float = 0.0
    hold: HoldFigures | None = None
    #: The larger hold (None when the path runs none).
    large_hold: HoldFigures | None = None
    #: CPU the server used, idle, while the other paths were measured (share of one CPU).
    idle_cpu_share: float | None = None


@dataclass(slots=True)
class RoundFigures:
    """One visit of a path in one round: each zero-latency level, and the server's CPU."""

    #: The round (1-based) and the path's place in that round's order (1-based).
    round: int
    position: int
    levels: dict[int, PhaseFigures] = field(default_factory=dict)
    #: utime+stime of the server's tree over the levels per 1,000 streams; None: no server.
    cpu_seconds_per_1000_requests: float | None = None


@dataclass(slots=True)
class PathFigures:
    """Everything measured on one path: its rounds, then its once-per-run phases."""

    name: str
    rounds: list[RoundFigures] = field(default_factory=list)
    realistic: PhaseFigures | None = None
    server: ServerFigures | None = None


async def measure_round(
    client: StreamClient,
    server_pid: int | None,
    emulator: EmulatorTiming,
    plan: BenchPlan,
    round_number: int,
    position: int,
) -> RoundFigures:
    """One visit: warm-up, then each zero-latency level; CPU per 1,000 when ``server_pid``."""
    figures = RoundFigures(round=round_number, position=position)
    await emulator.set_timing(plan.fast_ttft_ms, plan.fast_tokens_per_second)
    await run_load(client, concurrency=8, max_requests=plan.warmup_requests, max_seconds=30.0)
    before = sample(server_pid) if server_pid else None
    requests = 0
    for level in plan.concurrency_levels:
        result = await run_load(
            client,
            concurrency=level,
            max_requests=max(plan.requests_per_level, level),
            max_seconds=plan.round_seconds_per_level,
        )
        requests += len(result.timings)
        figures.levels[level] = phase_figures(result)
    if server_pid and before:
        after = sample(server_pid)
        spent = after.cpu_seconds - before.cpu_seconds
        figures.cpu_seconds_per_1000_requests = spent / max(requests, 1) * 1000
    return figures


async def measure_details(
    client: StreamClient,
    server_pid: int | None,
    emulator: EmulatorTiming,
    plan: BenchPlan,
    figures: PathFigures,
    *,
    large_hold: bool = False,
) -> None:
    """The once-per-run phases into ``figures``: realistic latency; with ``server_pid`` the
    holds (with ``large_hold`` also the plan's larger one) and the peak RSS. A warm-up first:
    the client is new and the server has been idle."""
    await emulator.set_timing(plan.fast_ttft_ms, plan.fast_tokens_per_second)
    await run_load(client, concurrency=8, max_requests=plan.warmup_requests, max_seconds=30.0)
    await emulator.set_timing(plan.realistic_ttft_ms, plan.realistic_tokens_per_second)
    realistic = await run_load(
        client,
        concurrency=plan.realistic_concurrency,
        max_requests=max(plan.realistic_requests, plan.realistic_concurrency),
        max_seconds=plan.realistic_seconds,
        ramp_seconds=plan.realistic_ttft_ms / 1000
        + plan.max_tokens / max(plan.realistic_tokens_per_second, 1.0),
    )
    figures.realistic = phase_figures(realistic)

    if server_pid:
        figures.server = ServerFigures()
        await emulator.set_timing(plan.hold_ttft_ms, plan.hold_tokens_per_second)
        server = figures.server
        server.hold = await hold_streams(
            client, server_pid, plan.hold_streams, plan.hold_open_timeout
        )
        server.idle_rss_mb = server.hold.rss_idle_mb
        server.rss_per_1000_open_streams_mb = server.hold.rss_per_1000_mb
        if large_hold and plan.large_hold_streams:
            server.large_hold = await hold_streams(
                client, server_pid, plan.large_hold_streams, plan.large_hold_open_timeout
            )
        server.peak_rss_mb = sample(server_pid).peak_rss_bytes / MB
    await emulator.set_timing(plan.fast_ttft_ms, plan.fast_tokens_per_second)


async def hold_streams(
    client: StreamClient, server_pid: int, streams: int, open_timeout: float
) -> HoldFigures:
    """Hold ``streams`` streams open at once: RSS idle and loaded, the delta per 1,000 open
    streams, and what did not complete."""
    await asyncio.sleep(0.5)  # let the previous phase's connections and buffers settle
    idle = sample(server_pid)
    readings: list[ProcessSample] = []
    result: HoldResult = await hold_open(
        client,
        streams,
        on_all_open=lambda: readings.append(sample(server_pid)),
        open_timeout=open_timeout,
    )
    loaded = readings[0]
    return HoldFigures(
        requested=result.requested,
        open_at_reading=result.opened,
        completed=result.completed,
        failures=result.failures,
        rss_idle_mb=idle.rss_bytes / MB,
        rss_loaded_mb=loaded.rss_bytes / MB,
        rss_per_1000_mb=(loaded.rss_bytes - idle.rss_bytes) / MB / max(result.opened, 1) * 1000,
    )
