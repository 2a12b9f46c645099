"""Closed-loop load: ``concurrency`` workers each run streams back to back, bounded twice.

A phase stops at ``max_requests`` started streams or ``max_seconds``, whichever comes first,
and streams already started are let finish (each has its own client timeout). Throughput is
completed streams per second of wall time. :func:`hold_open` instead opens ``n`` streams at once
and reports back when all of them are open, so a server's memory can be read under that load.

With ``ramp_seconds`` the workers start evenly spread over that time instead of all at once, so
streams arrive as a steady flow rather than in synchronized bursts (set it to about one stream's
duration for latency phases: otherwise every round queues ``concurrency`` requests at once).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.streams import StreamClient, StreamTiming


@dataclass(frozen=True, slots=True)
class LoadResult:
    """Every stream of one phase, and the phase's wall time in seconds."""

    concurrency: int
    timings: list[StreamTiming]
    wall_seconds: float

    @property
    def completed(self) -> int:
        return sum(1 for timing in self.timings if timing.ok)

    @property
    def failed(self) -> int:
        return len(self.timings) - self.completed

    @property
    def throughput(self) -> float:
        return self.completed / self.wall_seconds if self.wall_seconds > 0 else 0.0


async def run_load(
    client: StreamClient,
    *,
    concurrency: int,
    max_requests: int,
    max_seconds: float,
    ramp_seconds: float = 0.0,
) -> LoadResult:
    """Run up to ``max_requests`` streams, ``concurrency`` at a time, within ``max_seconds``."""
    timings: list[StreamTiming] = []
    started = time.perf_counter()
    deadline = started + max_seconds
    issued = 0

    async def worker(index: int) -> None:
        nonlocal issued
        await asyncio.sleep(ramp_seconds * index / concurrency)
        while issued < max_requests and time.perf_counter() < deadline:
            issued += 1
            timings.append(await client.stream_once())

    await asyncio.gather(*(worker(index) for index in range(min(concurrency, max_requests))))
    return LoadResult(concurrency, timings, time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class HoldResult:
    """``n`` streams opened together: how many opened, and how many then completed."""

    requested: int
    opened: int
    completed: int
    failures: dict[str, int]


async def hold_open(
    client: StreamClient, n: int, on_all_open: Callable[[], None], open_timeout: float
) -> HoldResult:
    """Open ``n`` streams at once; call ``on_all_open`` when all are open; let them finish."""
    opened = 0
    all_open = asyncio.Event()

    def count_open() -> None:
        nonlocal opened
        opened += 1
        if opened == n:
            all_open.set()

    tasks = [asyncio.create_task(client.stream_once(count_open)) for _ in range(n)]
    # On timeout: report how many did open; the memory reading is still taken.
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(all_open.wait(), open_timeout)
    on_all_open()
    opened_at_reading = opened
    timings = await asyncio.gather(*tasks)
    failures: dict[str, int] = {}
    for timing in timings:
        if not timing.ok:
            reason = timing.error or "unknown"
            failures[reason] = failures.get(reason, 0) + 1
    return HoldResult(
        requested=n,
        opened=opened_at_reading,
        completed=sum(1 for timing in timings if timing.ok),
        failures=failures,
    )
