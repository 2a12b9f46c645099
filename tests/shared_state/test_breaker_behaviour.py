"""The breaker's rules, run against both implementations: in memory and in Redis.

Real time with a short cool-down (Redis reads its own clock, so there is no clock to inject).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest
from redis.asyncio import Redis

from fmgate.config.gateway_settings import BreakerSettings
from fmgate.resilience.breaker import (
    Breaker,
    BreakerKey,
    BreakerRegistry,
    Breakers,
    BreakerState,
    CircuitOpen,
    OpenListener,
)
from fmgate.shared_state.breakers import RedisBreakers

MODEL = "amazon.nova-pro-v1:0"
REGION = "us-east-1"
KEY = BreakerKey(MODEL, REGION)
COOLDOWN = 0.2

MakeBreakers = Callable[[BreakerSettings, OpenListener | None], Breakers]


@pytest.fixture(params=["memory", "redis"])
def make_breakers(request: pytest.FixtureRequest, key_prefix: str) -> MakeBreakers:
    """Build a ``Breakers`` of the parametrized kind."""
    if request.param == "memory":
        return lambda settings, on_open: BreakerRegistry(settings, on_open=on_open)
    redis: Redis = request.getfixturevalue("shared_redis")
    return lambda settings, on_open: RedisBreakers(
        redis, settings, key_prefix=key_prefix, on_open=on_open
    )


def settings(threshold: int = 3) -> BreakerSettings:
    return BreakerSettings(failure_threshold=threshold, cooldown_seconds=COOLDOWN)


async def fail(breaker: Breaker, times: int) -> None:
    for _ in range(times):
        await breaker.failed(await breaker.acquire())


async def state_of(breaker: Breaker) -> BreakerState:
    return (await breaker.status()).state


async def cooled_down() -> None:
    """Let the cool-down pass: the time window is the behaviour under test, not a barrier
    (the Redis breakers read Redis's own clock, so there is no clock to inject)."""
    await asyncio.sleep(COOLDOWN + 0.05)


async def test_opens_after_threshold_consecutive_failures(make_breakers: MakeBreakers) -> None:
    opened: list[BreakerKey] = []
    breaker = make_breakers(settings(), opened.append).get(MODEL, REGION)
    await fail(breaker, 2)
    assert await state_of(breaker) is BreakerState.CLOSED
    await fail(breaker, 1)
    assert await state_of(breaker) is BreakerState.OPEN
    assert opened == [KEY]
    with pytest.raises(CircuitOpen) as refused:
        await breaker.acquire()
    assert refused.value.key == KEY


async def test_a_success_resets_the_failure_count(make_breakers: MakeBreakers) -> None:
    breaker = make_breakers(settings(), None).get(MODEL, REGION)
    await fail(breaker, 2)
    await breaker.succeeded(await breaker.acquire())
    await fail(breaker, 2)
    status = await breaker.status()
    assert status.state is BreakerState.CLOSED
    assert status.consecutive_failures == 2


async def test_after_cooldown_one_probe_then_closed_on_success(
    make_breakers: MakeBreakers,
) -> None:
    breaker = make_breakers(settings(), None).get(MODEL, REGION)
    await fail(breaker, 3)
    with pytest.raises(CircuitOpen):
        await breaker.acquire()
    await cooled_down()
    assert await state_of(breaker) is BreakerState.HALF_OPEN
    probe = await breaker.acquire()
    assert probe.probe
    with pytest.raises(CircuitOpen):  # only one probe at a time
        await breaker.acquire()
    assert await state_of(breaker) is BreakerState.HALF_OPEN
    await breaker.succeeded(probe)
    assert await state_of(breaker) is BreakerState.CLOSED
    assert not (await breaker.acquire()).probe


async def test_failed_probe_opens_again_for_a_new_cooldown(make_breakers: MakeBreakers) -> None:
    opened: list[BreakerKey] = []
    breaker = make_breakers(settings(), opened.append).get(MODEL, REGION)
    await fail(breaker, 3)
    await cooled_down()
    await breaker.failed(await breaker.acquire())
    assert await state_of(breaker) is BreakerState.OPEN
    assert opened == [KEY, KEY]
    with pytest.raises(CircuitOpen):
        await breaker.acquire()
    await cooled_down()
    assert (await breaker.acquire()).probe


async def test_abandoned_probe_frees_the_probe_slot(make_breakers: MakeBreakers) -> None:
    breaker = make_breakers(settings(), None).get(MODEL, REGION)
    await fail(breaker, 3)
    await cooled_down()
    await breaker.abandoned(await breaker.acquire())
    assert (await breaker.acquire()).probe


async def test_results_of_calls_permitted_before_the_circuit_opened_are_ignored(
    make_breakers: MakeBreakers,
) -> None:
    breaker = make_breakers(settings(), None).get(MODEL, REGION)
    early = [await breaker.acquire() for _ in range(5)]
    for permit in early[:3]:
        await breaker.failed(permit)
    assert await state_of(breaker) is BreakerState.OPEN
    await breaker.succeeded(early[3])  # a late success does not close it
    await breaker.failed(early[4])  # a late failure does not restart the cool-down
    assert await state_of(breaker) is BreakerState.OPEN
    await cooled_down()
    assert (await breaker.acquire()).probe


async def test_one_breaker_per_model_and_region(make_breakers: MakeBreakers) -> None:
    breakers = make_breakers(settings(threshold=1), None)
    east = breakers.get(MODEL, "us-east-1")
    assert breakers.get(MODEL, "us-east-1") is east
    west = breakers.get(MODEL, "us-west-2")
    await east.failed(await east.acquire())
    assert await state_of(west) is BreakerState.CLOSED
    assert [(s.key.aws_region, s.state) for s in await breakers.statuses()] == [
        ("us-east-1", BreakerState.OPEN),
        ("us-west-2", BreakerState.CLOSED),
    ]
