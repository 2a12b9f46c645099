"""Concurrency limits through a real gateway on the emulator: Poe front, aiobotocore, ledger.

A healthy Bedrock gets every request at once; under an emulated quota on calls at once
(``concurrency_quota``) the limit settles near the quota, the excess waits in line (busy only
past the queue timeout), and when the quota is raised or cleared the limit follows.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from fmgate.resilience.concurrency import AdaptiveLimit
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from tests.harness.load import (
    SCENARIO_LIMIT_SECONDS,
    Outcome,
    Served,
    ask,
    assert_well_formed,
    ledger_rows,
    load,
    metric,
    models_of,
    outcomes_of,
)
from tests.resilience.catalog import LONELY, PRIMARY, WEST, OpenServed

STREAM = "ConverseStream"
REGION = "us-east-1"
#: What every answer to ``load``'s "hello" says (the catalog's max_tokens is 64).
ANSWER = reply_text("hello", 64)[0]
#: The emulated Bedrock quota: calls at once for the lonely bot's model.
QUOTA = 20


@dataclass(slots=True)
class Timed:
    outcome: Outcome
    seconds: float


async def timed_load(served: Served, bot: str, count: int, *, first: int = 0) -> list[Timed]:
    """``load``, with each request's duration as its client saw it."""

    async def one(index: int) -> Timed:
        started = time.monotonic()
        outcome = await ask(served.session, bot, f"user-{first + index}")
        return Timed(outcome, time.monotonic() - started)

    async with asyncio.timeout(SCENARIO_LIMIT_SECONDS):
        return list(await asyncio.gather(*(one(i) for i in range(count))))


@dataclass(slots=True)
class Samples:
    """A target's limit and running calls, read every few milliseconds."""

    limits: list[float] = field(default_factory=list)
    running: list[int] = field(default_factory=list)


@asynccontextmanager
async def sampled(limit: AdaptiveLimit) -> AsyncIterator[Samples]:
    samples = Samples()

    async def sample() -> None:
        while True:
            samples.limits.append(limit.limit)
            samples.running.append(limit.running)
            await asyncio.sleep(0.01)

    task = asyncio.create_task(sample())
    try:
        yield samples
    finally:
        task.cancel()


def lonely_limit(served: Served) -> AdaptiveLimit:
    return served.gateway.dependencies.limits.get(LONELY, REGION)


def answered(outcomes: list[Outcome]) -> list[Outcome]:
    for outcome in outcomes:
        assert_well_formed(outcome)
    return [outcome for outcome in outcomes if outcome.error is None]


def error_codes(outcomes: list[Outcome]) -> list[str]:
    return [str(o.error["text"]) for o in outcomes if o.error is not None]


# -- (a) a healthy Bedrock ---------------------------------------------------------------------


async def test_a_healthy_bedrock_gets_every_stream_at_once_and_nobody_waits(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.set_timing(ttft_ms=200, tokens_per_second=20)  # about 0.8 s per answer
    async with served(pool=512) as s:
        limit = lonely_limit(s)
        async with sampled(limit) as samples:
            outcomes = await load(s, "lonely", 320)
        rows = await ledger_rows(s, outcomes)
        queued = metric(s.gateway, "fmgate_concurrency_queued_total", model=LONELY)
        exported = metric(s.gateway, "fmgate_concurrency_limit", model=LONELY)
    assert [o.text for o in answered(outcomes)] == [ANSWER] * 320
    assert outcomes_of(rows) == {"ok": 320}
    assert (limit.queued, queued) == (0, 0)  # nobody waited for a slot
    assert limit.limit == exported == math.inf
    assert max(samples.running) > 150  # they really ran side by side
    assert (await emu.counters())["quota_refusals"] == 0


# -- (b) a quota on calls at once --------------------------------------------------------------


async def test_under_a_quota_the_excess_is_busy_only_after_the_queue_timeout(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    """3N requests, answers slower than the queue timeout: N answered, 2N busy at the timeout."""
    queue = 0.7
    await emu.set_timing(ttft_ms=200, tokens_per_second=5)  # about 2.6 s per answer
    await emu.inject("concurrency_quota", model_id=LONELY, quota=QUOTA)
    async with served(queue=queue, threshold=1000) as s:
        limit = lonely_limit(s)
        results = await timed_load(s, "lonely", 3 * QUOTA)
        outcomes = [result.outcome for result in results]
        rows = await ledger_rows(s, outcomes)
    ok = answered(outcomes)
    assert [o.text for o in ok] == [ANSWER] * QUOTA  # as many as Bedrock takes, in full
    assert outcomes_of(rows) == {"ok": QUOTA, "busy": 2 * QUOTA}  # the excess, and only it
    assert all("busy" in text for text in error_codes(outcomes))
    for result in results:
        if result.outcome.error is not None:
            assert queue <= result.seconds < queue + 1.5  # busy at the timeout, not before
    # Bedrock refused each excess request at most once: then it waited here, not at Bedrock.
    assert 1 <= (await emu.counters())["quota_refusals"] <= 2 * QUOTA
    assert limit.learned is not None
    assert QUOTA / 2 <= limit.learned <= 2 * QUOTA  # learned from the N Bedrock was serving
    assert limit.queued >= 2 * QUOTA


async def test_under_a_quota_the_limit_settles_near_it_and_every_request_is_answered(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    """5N requests, room in the queue: all answered at Bedrock's pace, the limit near N."""
    await emu.set_timing(ttft_ms=200, tokens_per_second=20)  # about 0.8 s per answer
    await emu.inject("concurrency_quota", model_id=LONELY, quota=QUOTA)
    async with served(queue=10.0, attempts=3, threshold=1000) as s:
        limit = lonely_limit(s)
        async with sampled(limit) as samples:
            outcomes = await load(s, "lonely", 5 * QUOTA)
        rows = await ledger_rows(s, outcomes)
    ok = answered(outcomes)
    assert {o.text for o in ok} == {ANSWER}
    counts = outcomes_of(rows)
    assert "busy" not in counts  # the queue never ran out of patience
    # Only Bedrock sheds load: a request fails only after Bedrock refused all three tries.
    assert set(counts) <= {"ok", "throttled"}
    assert counts["ok"] >= 5 * QUOTA - 3
    learned = [value for value in samples.limits if not math.isinf(value)]
    settled = sorted(learned[len(learned) // 4 :])  # after the first refusals sank in
    assert QUOTA / 2 <= settled[len(settled) // 2] <= 2 * QUOTA  # the median: near the quota
    assert max(samples.running[len(samples.running) // 4 :]) <= 2 * QUOTA  # after the burst
    refusals = (await emu.counters())["quota_refusals"]
    assert refusals <= 5 * QUOTA  # the first burst's excess, then a few careful probes


# -- (c) the quota raised, then cleared --------------------------------------------------------


async def test_when_the_quota_is_raised_or_cleared_the_limit_follows(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.set_timing(ttft_ms=200, tokens_per_second=20)  # about 0.8 s per answer
    await emu.inject("concurrency_quota", model_id=LONELY, quota=QUOTA)
    async with served(queue=10.0, attempts=3, recent=2.0, threshold=1000) as s:
        limit = lonely_limit(s)
        pressure = asyncio.create_task(load(s, "lonely", 6 * QUOTA))
        async with asyncio.timeout(10.0):  # Bedrock refused: a limit, and calls waiting
            while limit.learned is None or limit.waiting < QUOTA:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
        # Bedrock now takes three times as many: accepted calls grow the limit past the old quota.
        await emu.inject("concurrency_quota", model_id=LONELY, quota=3 * QUOTA)
        async with sampled(limit) as after_raise:
            first = await pressure
        assert max(after_raise.running) > 1.5 * QUOTA
        # No refusal for recent_throttle_seconds: no limit at all.
        async with asyncio.timeout(5.0):
            while not math.isinf(limit.limit):  # noqa: ASYNC110 - a rule of time
                await asyncio.sleep(0.05)
        await emu.clear_faults()
        queued_before = limit.queued
        second = await load(s, "lonely", 3 * QUOTA, first=1000)
        assert limit.queued == queued_before  # nobody waited
        rows = await ledger_rows(s, first + second)
    assert [o.text for o in answered(first + second)] == [ANSWER] * 9 * QUOTA
    assert outcomes_of(rows) == {"ok": 9 * QUOTA}


# -- the fallback when a target is busy or refusing --------------------------------------------


async def test_a_static_cap_busy_primary_sends_the_overflow_to_the_fallback(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "slow_first_token", model_id=PRIMARY, operation=STREAM, count=-1, delay_seconds=1.0
    )
    async with served(caps={PRIMARY: 1}, queue=0.2, threshold=1000) as s:
        outcomes = await load(s, "resilient", 2)
        rows = await ledger_rows(s, outcomes)
        primary = s.gateway.dependencies.limits.get(PRIMARY, REGION)
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.error is None
    assert models_of(rows) == {PRIMARY: 1, WEST: 1}
    assert (primary.limit, primary.queued, primary.running) == (1, 1, 0)


async def test_a_static_cap_without_fallback_answers_busy_not_a_hang(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "slow_first_token", model_id=LONELY, operation=STREAM, count=-1, delay_seconds=1.0
    )
    async with served(caps={LONELY: 2}, queue=0.2, threshold=1000) as s:
        outcomes = await load(s, "lonely", 6)
        rows = await ledger_rows(s, outcomes)
    busy = [o for o in outcomes if o.error is not None]
    for outcome in outcomes:
        assert_well_formed(outcome)
    assert len(busy) == 4
    for outcome in busy:
        assert outcome.error is not None
        assert outcome.error["allow_retry"] is True
        assert "busy" in str(outcome.error["text"])
    assert outcomes_of(rows) == {"ok": 2, "busy": 4}


async def test_a_throttle_burst_sets_the_primarys_limit_and_metrics_show_it(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", model_id=PRIMARY, operation=STREAM, count=40)
    async with served(threshold=1000) as s:
        outcomes = await load(s, "resilient", 40)
        primary = s.gateway.dependencies.limits.get(PRIMARY, REGION)
        west = s.gateway.dependencies.limits.get(WEST, "us-west-2")
        for outcome in outcomes:
            assert_well_formed(outcome)
            assert outcome.error is None
        assert primary.learned is not None  # Bedrock refused: limited
        assert west.limit == math.inf  # never refused: not limited
        assert (primary.running, west.running) == (0, 0)
        exported = metric(s.gateway, "fmgate_concurrency_limit", model=PRIMARY, region=REGION)
        unlimited = metric(s.gateway, "fmgate_concurrency_limit", model=WEST, region="us-west-2")
        waiting = metric(s.gateway, "fmgate_concurrency_waiting", model=WEST, region="us-west-2")
    assert exported == primary.limit  # /metrics shows what the limit learned
    assert unlimited == math.inf
    assert waiting == 0
