"""Two gateway replicas (two ``RedisBreakers`` with their own clients) sharing one Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from fmgate.config.gateway_settings import BreakerSettings
from fmgate.resilience.breaker import BreakerKey, BreakerState, CircuitOpen, Permit
from fmgate.shared_state.breakers import RedisBreakers

MODEL = "us.amazon.nova-pro-v1:0"
REGION = "us-east-1"
KEY = BreakerKey(MODEL, REGION)
COOLDOWN = 0.2
SETTINGS = BreakerSettings(failure_threshold=3, cooldown_seconds=COOLDOWN)


class Replica:
    """One gateway replica's breakers, and the circuits it saw open."""

    def __init__(self, redis: Redis, key_prefix: str, *, probe_ttl_seconds: float = 300) -> None:
        self.opened: list[BreakerKey] = []
        self.breakers = RedisBreakers(
            redis,
            SETTINGS,
            key_prefix=key_prefix,
            on_open=self.opened.append,
            probe_ttl_seconds=probe_ttl_seconds,
        )
        self.breaker = self.breakers.get(MODEL, REGION)

    async def fail(self, times: int = 1) -> None:
        for _ in range(times):
            await self.breaker.failed(await self.breaker.acquire())

    async def state(self) -> BreakerState:
        return (await self.breaker.status()).state


@pytest.fixture
def replicas(
    shared_redis: Redis, other_replica_redis: Redis, key_prefix: str
) -> tuple[Replica, Replica]:
    return Replica(shared_redis, key_prefix), Replica(other_replica_redis, key_prefix)


async def cooled_down() -> None:
    """Let the cool-down pass: the time window is the behaviour under test, not a barrier
    (the Redis breakers read Redis's own clock, so there is no clock to inject)."""
    await asyncio.sleep(COOLDOWN + 0.05)


async def test_failures_counted_across_replicas_open_the_circuit_for_both(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    await first.fail(2)
    assert (await second.breaker.status()).consecutive_failures == 2
    await second.fail(1)
    for replica in replicas:
        assert await replica.state() is BreakerState.OPEN
        with pytest.raises(CircuitOpen):
            await replica.breaker.acquire()
    assert second.opened == [KEY]  # the replica whose call opened it is told
    assert first.opened == []


async def test_a_success_on_one_replica_resets_the_count_for_both(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    await first.fail(2)
    await second.breaker.succeeded(await second.breaker.acquire())
    await first.fail(2)
    assert await second.state() is BreakerState.CLOSED


async def test_after_cooldown_exactly_one_probe_across_replicas(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    await first.fail(3)
    await cooled_down()
    attempts = [replica.breaker.acquire() for replica in replicas for _ in range(10)]
    results = await asyncio.gather(*attempts, return_exceptions=True)
    probes = [result for result in results if isinstance(result, Permit)]
    refused = [result for result in results if isinstance(result, CircuitOpen)]
    assert len(probes) == 1
    assert probes[0].probe
    assert len(refused) == 19
    assert await second.state() is BreakerState.HALF_OPEN


async def test_probe_success_on_one_replica_closes_the_circuit_for_both(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    await first.fail(3)
    await cooled_down()
    probe = await second.breaker.acquire()
    assert probe.probe
    await second.breaker.succeeded(probe)
    for replica in replicas:
        assert await replica.state() is BreakerState.CLOSED
        assert not (await replica.breaker.acquire()).probe


async def test_failed_probe_opens_again_for_both(replicas: tuple[Replica, Replica]) -> None:
    first, second = replicas
    await first.fail(3)
    await cooled_down()
    await second.fail(1)  # the probe
    assert second.opened == [KEY]
    with pytest.raises(CircuitOpen):
        await first.breaker.acquire()
    await cooled_down()
    assert (await first.breaker.acquire()).probe


async def test_results_permitted_before_another_replica_opened_it_are_ignored(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    early = [await first.breaker.acquire() for _ in range(2)]
    await second.fail(3)
    await first.breaker.succeeded(early[0])  # late success: does not close it
    await first.breaker.failed(early[1])  # late failure: no new cool-down, no second open
    assert await first.state() is BreakerState.OPEN
    assert first.opened == []
    await cooled_down()
    assert (await first.breaker.acquire()).probe


async def test_a_lost_probe_is_taken_over_and_its_late_result_ignored(
    shared_redis: Redis, other_replica_redis: Redis, key_prefix: str
) -> None:
    dying = Replica(shared_redis, key_prefix, probe_ttl_seconds=0.2)
    survivor = Replica(other_replica_redis, key_prefix, probe_ttl_seconds=0.2)
    await survivor.fail(3)
    await cooled_down()
    lost = await dying.breaker.acquire()  # its replica dies before settling it
    assert lost.probe
    with pytest.raises(CircuitOpen):
        await survivor.breaker.acquire()
    await asyncio.sleep(0.25)  # the probe's 0.2 s TTL runs out (a time window, not a barrier)
    probe = await survivor.breaker.acquire()
    assert probe.probe
    await dying.breaker.succeeded(lost)  # too late: it no longer counts
    assert await survivor.state() is BreakerState.HALF_OPEN
    await survivor.breaker.succeeded(probe)
    assert await dying.state() is BreakerState.CLOSED


async def test_each_replica_lists_the_breakers_it_used_with_the_shared_state(
    replicas: tuple[Replica, Replica],
) -> None:
    first, second = replicas
    other = second.breakers.get("amazon.nova-lite-v1:0", "eu-west-1")
    await other.succeeded(await other.acquire())
    await first.fail(3)
    assert [(s.key.model_id, s.state) for s in await first.breakers.statuses()] == [
        (MODEL, BreakerState.OPEN)
    ]
    assert [(s.key.model_id, s.state) for s in await second.breakers.statuses()] == [
        ("amazon.nova-lite-v1:0", BreakerState.CLOSED),
        (MODEL, BreakerState.OPEN),
    ]


async def test_state_lives_under_the_key_prefix_and_expires_when_idle(
    replicas: tuple[Replica, Replica], shared_redis: Redis, key_prefix: str
) -> None:
    first, _ = replicas
    await first.fail(1)
    mine = [key async for key in shared_redis.scan_iter(match=f"{key_prefix}*")]
    assert mine == [f"{key_prefix}breaker:{MODEL}@{REGION}".encode()]
    assert await shared_redis.pttl(mine[0]) > 0


async def script_calls(redis: Redis) -> int:
    """Scripts Redis has run so far (every breaker operation is one)."""
    stats = await redis.info("commandstats")
    return sum(
        int(stats.get(name, {}).get("calls", 0)) for name in ("cmdstat_evalsha", "cmdstat_eval")
    )


async def test_a_healthy_reading_spares_redis_until_it_expires_or_a_call_fails(
    shared_redis: Redis, other_replica_redis: Redis, key_prefix: str
) -> None:
    long_cooldown = BreakerSettings(failure_threshold=3, cooldown_seconds=60)
    cached = RedisBreakers(
        shared_redis, long_cooldown, key_prefix=key_prefix, state_cache_seconds=0.3
    )
    other = RedisBreakers(other_replica_redis, long_cooldown, key_prefix=key_prefix)
    other_breaker = other.get(MODEL, REGION)
    breaker = cached.get(MODEL, REGION)
    await breaker.succeeded(await breaker.acquire())  # reads "closed, no failures"
    before = await script_calls(shared_redis)
    for _ in range(20):
        await breaker.succeeded(await breaker.acquire())
    assert await script_calls(shared_redis) == before  # the happy path asked Redis nothing

    for _ in range(3):  # another replica opens the circuit ...
        await other_breaker.failed(await other_breaker.acquire())
    assert (await other_breaker.status()).state is BreakerState.OPEN
    permit = await breaker.acquire()  # ... seen here only when the reading expires
    await asyncio.sleep(0.35)  # the 0.3 s reading expires (a time window, not a barrier)
    with pytest.raises(CircuitOpen):
        await breaker.acquire()
    await breaker.succeeded(permit)  # a late success from before the opening changes nothing
    assert (await other_breaker.status()).state is BreakerState.OPEN


async def test_a_failure_drops_the_healthy_reading(shared_redis: Redis, key_prefix: str) -> None:
    cached = RedisBreakers(shared_redis, SETTINGS, key_prefix=key_prefix, state_cache_seconds=60)
    breaker = cached.get(MODEL, REGION)
    await breaker.succeeded(await breaker.acquire())
    for _ in range(3):  # each failure is counted in Redis, and the next acquire asks again
        await breaker.failed(await breaker.acquire())
    with pytest.raises(CircuitOpen):
        await breaker.acquire()
