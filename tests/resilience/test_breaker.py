"""The circuit breaker's states, driven by an explicit clock."""

from __future__ import annotations

import pytest

from fmgate.config.gateway_settings import BreakerSettings
from fmgate.resilience.breaker import (
    BreakerKey,
    BreakerRegistry,
    BreakerState,
    CircuitBreaker,
    CircuitOpen,
)

KEY = BreakerKey("amazon.nova-pro-v1:0", "us-east-1")


class Clock:
    """A clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, opened: list[BreakerKey] | None = None) -> CircuitBreaker:
    settings = BreakerSettings(failure_threshold=3, cooldown_seconds=30)
    return CircuitBreaker(
        KEY, settings, clock=clock, on_open=opened.append if opened is not None else None
    )


def state_of(b: CircuitBreaker) -> BreakerState:
    """Read afresh each time (a property read is not narrowed across calls)."""
    return b.state


async def fail(b: CircuitBreaker, times: int) -> None:
    for _ in range(times):
        await b.failed(await b.acquire())


async def test_opens_after_threshold_consecutive_failures() -> None:
    clock = Clock()
    opened: list[BreakerKey] = []
    b = breaker(clock, opened)
    await fail(b, 2)
    assert state_of(b) is BreakerState.CLOSED
    await fail(b, 1)
    assert state_of(b) is BreakerState.OPEN
    assert opened == [KEY]
    with pytest.raises(CircuitOpen) as refused:
        await b.acquire()
    assert refused.value.key == KEY


async def test_a_success_resets_the_failure_count() -> None:
    b = breaker(Clock())
    await fail(b, 2)
    await b.succeeded(await b.acquire())
    await fail(b, 2)
    assert state_of(b) is BreakerState.CLOSED
    assert b.consecutive_failures == 2


async def test_after_cooldown_one_probe_then_closed_on_success() -> None:
    clock = Clock()
    b = breaker(clock)
    await fail(b, 3)
    clock.now += 29.9
    with pytest.raises(CircuitOpen):
        await b.acquire()
    clock.now += 0.1
    assert state_of(b) is BreakerState.HALF_OPEN
    probe = await b.acquire()
    assert probe.probe
    with pytest.raises(CircuitOpen):  # only one probe at a time
        await b.acquire()
    await b.succeeded(probe)
    assert state_of(b) is BreakerState.CLOSED
    assert not (await b.acquire()).probe


async def test_failed_probe_opens_again_for_a_new_cooldown() -> None:
    clock = Clock()
    opened: list[BreakerKey] = []
    b = breaker(clock, opened)
    await fail(b, 3)
    clock.now += 30
    await b.failed(await b.acquire())
    assert state_of(b) is BreakerState.OPEN
    assert len(opened) == 2
    clock.now += 29
    with pytest.raises(CircuitOpen):
        await b.acquire()
    clock.now += 1
    assert (await b.acquire()).probe


async def test_abandoned_probe_frees_the_probe_slot() -> None:
    clock = Clock()
    b = breaker(clock)
    await fail(b, 3)
    clock.now += 30
    await b.abandoned(await b.acquire())
    assert (await b.acquire()).probe


async def test_results_of_calls_permitted_before_the_circuit_opened_are_ignored() -> None:
    clock = Clock()
    b = breaker(clock)
    early = [await b.acquire() for _ in range(5)]
    for permit in early[:3]:
        await b.failed(permit)
    assert state_of(b) is BreakerState.OPEN
    await b.succeeded(early[3])  # a late success does not close it
    await b.failed(early[4])  # a late failure does not restart the cool-down
    assert state_of(b) is BreakerState.OPEN
    clock.now += 30
    assert (await b.acquire()).probe


async def test_registry_keeps_one_breaker_per_model_and_region() -> None:
    registry = BreakerRegistry(BreakerSettings(failure_threshold=1))
    east = registry.get("amazon.nova-pro-v1:0", "us-east-1")
    assert registry.get("amazon.nova-pro-v1:0", "us-east-1") is east
    west = registry.get("amazon.nova-pro-v1:0", "us-west-2")
    await east.failed(await east.acquire())
    assert west.state is BreakerState.CLOSED
    assert [(s.key.aws_region, s.state) for s in await registry.statuses()] == [
        ("us-east-1", BreakerState.OPEN),
        ("us-west-2", BreakerState.CLOSED),
    ]
