"""Redis down: breakers and limits fail open with one warning per failure streak; Redis back:
state is shared again. A redis-server of the test's own (it is stopped and restarted)."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from fmgate.config.gateway_settings import BreakerSettings
from fmgate.resilience.breaker import BreakerState, CircuitOpen
from fmgate.security.rate_limits import LimitExceeded, LimitKey
from fmgate.shared_state.breakers import UNSHARED_GENERATION, RedisBreakers
from fmgate.shared_state.limits import RedisUserLimiter
from tests.harness.redis_server import RedisServer, redis_server
from tests.shared_state.redis_clients import connect

MODEL = "amazon.nova-pro-v1:0"
REGION = "us-east-1"
ALICE = LimitKey("alice", "nova-lite")
#: Short, so the test sees Redis again soon after it is back.
RECONNECT_AFTER = 0.05


@pytest.fixture
def own_server() -> Iterator[RedisServer]:
    with redis_server() as server:
        yield server


@pytest.fixture
async def clients(own_server: RedisServer, key_prefix: str) -> AsyncIterator[tuple[Redis, Redis]]:
    first = await connect(own_server.url, key_prefix)
    second = await connect(own_server.url, key_prefix)
    yield first, second
    await first.aclose()
    await second.aclose()


def breakers(
    redis: Redis, key_prefix: str, reconnect_after: float = RECONNECT_AFTER
) -> RedisBreakers:
    return RedisBreakers(
        redis,
        BreakerSettings(failure_threshold=2, cooldown_seconds=60),
        key_prefix=key_prefix,
        reconnect_after_seconds=reconnect_after,
    )


def limiter(
    redis: Redis, key_prefix: str, reconnect_after: float = RECONNECT_AFTER
) -> RedisUserLimiter:
    return RedisUserLimiter(
        redis,
        max_concurrent=1,
        per_minute=0.001,
        burst=100,
        key_prefix=key_prefix,
        reconnect_after_seconds=reconnect_after,
    )


def warnings_in(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "fmgate.shared_state.connection" and record.levelno == logging.WARNING
    ]


async def test_redis_down_fails_open_with_one_warning_then_shares_again(
    own_server: RedisServer,
    clients: tuple[Redis, Redis],
    key_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    first, second = breakers(clients[0], key_prefix), breakers(clients[1], key_prefix)
    limits = limiter(clients[0], key_prefix)
    breaker = first.get(MODEL, REGION)
    for _ in range(2):
        await breaker.failed(await breaker.acquire())
    held = await limits.admit(ALICE)
    assert not isinstance(held, LimitExceeded)
    assert isinstance(await limits.admit(ALICE), LimitExceeded)

    own_server.stop()
    for _ in range(5):  # the open circuit and the full slot no longer hold anyone back
        permit = await breaker.acquire()
        assert permit.generation == UNSHARED_GENERATION
        await breaker.failed(permit)  # counts for nothing, and raises nothing
        lease = await limits.admit(ALICE)
        assert not isinstance(lease, LimitExceeded)
        await lease.release()
    await held.release()  # cannot reach Redis: the slot would expire by itself
    assert (await breaker.status()).state is BreakerState.CLOSED
    assert await limits.running(ALICE) == 0
    await asyncio.sleep(RECONNECT_AFTER * 2)  # past the back-off: Redis is tried again
    await breaker.acquire()
    assert len(warnings_in(caplog)) == 2  # one per failure streak: breakers, limits
    assert any("circuit breakers" in line for line in warnings_in(caplog))
    assert any("user limits" in line for line in warnings_in(caplog))

    own_server.start()  # empty: nothing was persisted
    await asyncio.sleep(RECONNECT_AFTER * 2)  # the back-off again: Redis is tried again
    other = second.get(MODEL, REGION)
    await breaker.failed(await breaker.acquire())
    await other.failed(await other.acquire())
    with pytest.raises(CircuitOpen):  # failures of both replicas counted together again
        await breaker.acquire()
    assert isinstance(await limits.admit(ALICE), type(held))
    assert isinstance(await limits.admit(ALICE), LimitExceeded)
    assert len(warnings_in(caplog)) == 2
    assert [r for r in caplog.records if "available again" in r.getMessage()]
    assert own_server.password not in caplog.text
    assert own_server.password not in "\n".join(str(r.exc_info) for r in caplog.records)


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on loopback that accepts connections and never answers: a hung Redis."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        port = listener.getsockname()[1]
        yield f"redis://:hung-redis-password-123@127.0.0.1:{port}/0"


async def test_a_redis_that_never_answers_times_out_and_fails_open(
    silent_server: str, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    redis = await connect(silent_server, key_prefix)
    try:
        breaker = breakers(redis, key_prefix, reconnect_after=60).get(MODEL, REGION)
        limits = limiter(redis, key_prefix, reconnect_after=60)
        assert (await breaker.acquire()).generation == UNSHARED_GENERATION
        assert not isinstance(await limits.admit(ALICE), LimitExceeded)
        for _ in range(10):  # within the back-off: Redis is not waited for again
            await breaker.acquire()
        assert ["TimeoutError" in line for line in warnings_in(caplog)] == [True, True]
        assert "hung-redis-password-123" not in caplog.text
    finally:
        await redis.aclose()


async def test_a_full_redis_fails_open(
    own_server: RedisServer,
    clients: tuple[Redis, Redis],
    key_prefix: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    redis = clients[0]
    breaker = breakers(redis, key_prefix).get(MODEL, REGION)
    await redis.config_set("maxmemory", 1)  # writes are refused: OOM
    for _ in range(3):  # the failures cannot be recorded: the circuit stays closed
        await breaker.failed(await breaker.acquire())
    assert ["OutOfMemoryError" in line for line in warnings_in(caplog)] == [True]
    await redis.config_set("maxmemory", 0)
    await asyncio.sleep(RECONNECT_AFTER * 2)  # past the back-off: Redis is tried again
    for _ in range(2):
        await breaker.failed(await breaker.acquire())
    with pytest.raises(CircuitOpen):
        await breaker.acquire()
