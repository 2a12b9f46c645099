"""Adaptive concurrency per model: AIMD limits, a bounded queue, and 'busy' instead of hanging."""

from __future__ import annotations

import asyncio

import pytest

from fmgate.config.gateway_settings import ConcurrencySettings
from fmgate.core.errors import ModelBusy
from fmgate.resilience.concurrency import AdaptiveLimit, ConcurrencyLimits, Verdict
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.load import (
    assert_well_formed,
    ledger_rows,
    load,
    metric,
    models_of,
    outcomes_of,
)
from tests.harness.polling import eventually
from tests.resilience.catalog import LONELY, PRIMARY, WEST, OpenServed

STREAM = "ConverseStream"


def limit_of(initial: int, *, low: int = 1, high: int = 64, queue: float = 5.0) -> AdaptiveLimit:
    settings = ConcurrencySettings(
        initial_limit=initial, min_limit=low, max_limit=high, queue_timeout_seconds=queue
    )
    return AdaptiveLimit("m", "us-east-1", settings)


async def test_answers_grow_the_limit_by_about_one_per_window() -> None:
    limit = limit_of(4)
    for _ in range(4):
        slot = await limit.acquire()
        slot.observe(Verdict.ANSWERED)
        slot.release()
    assert 4.9 < limit.limit < 5.0  # +1/4 +1/4.25 +... : just under one whole step
    assert limit.running == 0


async def test_throttles_halve_the_limit_once_per_window() -> None:
    limit = limit_of(16)
    slots = [await limit.acquire() for _ in range(10)]
    for slot in slots:  # all admitted in the same window: one cut, not ten
        slot.observe(Verdict.THROTTLED)
        slot.release()
    assert limit.limit == 8.0
    later = await limit.acquire()  # admitted after the cut: may cut again
    later.observe(Verdict.THROTTLED)
    later.release()
    assert limit.limit == 4.0


async def test_limit_stays_within_its_bounds() -> None:
    limit = limit_of(2, low=2, high=3)
    for _ in range(3):
        slot = await limit.acquire()
        slot.observe(Verdict.THROTTLED)
        slot.release()
    assert limit.limit == 2.0
    for _ in range(50):
        slot = await limit.acquire()
        slot.observe(Verdict.ANSWERED)
        slot.release()
    assert limit.limit == 3.0


async def test_calls_over_the_limit_wait_in_line_first_come_first_served() -> None:
    limit = limit_of(1, high=1)
    first = await limit.acquire()
    order: list[str] = []

    async def wait(name: str) -> None:
        slot = await limit.acquire()
        order.append(name)
        slot.release()

    waiting = [asyncio.create_task(wait(name)) for name in ("a", "b", "c")]
    await eventually(lambda: limit.waiting == 3, "the three callers wait in line")
    assert order == []
    first.release()
    await asyncio.gather(*waiting)
    assert order == ["a", "b", "c"]
    assert (limit.running, limit.waiting) == (0, 0)


async def test_a_wait_past_the_queue_timeout_is_model_busy() -> None:
    limit = limit_of(1, high=1, queue=0.05)
    held = await limit.acquire()
    with pytest.raises(ModelBusy) as busy:
        await limit.acquire()
    assert busy.value.retryable
    assert busy.value.code == "busy"
    assert "busy" in busy.value.user_message
    held.release()
    assert (limit.running, limit.waiting) == (0, 0)
    (await limit.acquire()).release()  # the timed-out waiter left no trace


async def test_a_cancelled_waiter_never_holds_a_slot() -> None:
    limit = limit_of(1, high=1)
    held = await limit.acquire()
    waiter = asyncio.create_task(limit.acquire())
    await eventually(lambda: limit.waiting == 1, "the waiter is in line")
    held.release()  # the slot is granted to the waiter ...
    waiter.cancel()  # ... which is cancelled before it runs: the slot must come back
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limit.running == 0
    slot = await asyncio.wait_for(limit.acquire(), 1.0)
    slot.release()


async def test_release_is_idempotent_and_limits_are_per_target() -> None:
    limits = ConcurrencyLimits(ConcurrencySettings(initial_limit=2))
    east = limits.get("m", "us-east-1")
    assert limits.get("m", "us-east-1") is east
    slot = await east.acquire()
    slot.release()
    slot.release()
    assert east.running == 0
    assert limits.get("m", "us-west-2") is not east
    assert [(s.aws_region, s.running) for s in limits.statuses()] == [
        ("us-east-1", 0),
        ("us-west-2", 0),
    ]


async def test_requests_beyond_a_full_queue_get_a_busy_message_not_a_hang(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "slow_first_token", model_id=LONELY, operation=STREAM, count=-1, delay_seconds=1.0
    )
    async with served(limit=2, max_limit=2, queue=0.2, threshold=1000) as s:
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


async def test_a_busy_primary_sends_the_overflow_to_the_fallback(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "slow_first_token", model_id=PRIMARY, operation=STREAM, count=-1, delay_seconds=1.0
    )
    async with served(limit=1, max_limit=1, queue=0.2, threshold=1000) as s:
        outcomes = await load(s, "resilient", 2)
        rows = await ledger_rows(s, outcomes)
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.error is None
    assert models_of(rows) == {PRIMARY: 1, WEST: 1}


async def test_a_throttle_burst_lowers_the_primarys_limit(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", model_id=PRIMARY, operation=STREAM, count=40)
    async with served(limit=32, threshold=1000) as s:
        outcomes = await load(s, "resilient", 40)
        limit = s.gateway.dependencies.limits.get(PRIMARY, "us-east-1")
        west = s.gateway.dependencies.limits.get(WEST, "us-west-2")
        for outcome in outcomes:
            assert_well_formed(outcome)
            assert outcome.error is None
        assert limit.limit < 32  # cut at least once
        assert west.limit > 32  # the fallback answered: its limit grew
        assert (limit.running, west.running) == (0, 0)
        exported = metric(s.gateway, "fmgate_concurrency_limit", model=PRIMARY, region="us-east-1")
        waiting = metric(s.gateway, "fmgate_concurrency_waiting", model=WEST, region="us-west-2")
    assert exported == limit.limit  # /metrics shows what the limit learned
    assert waiting == 0
