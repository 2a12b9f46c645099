"""The per-user limits' rules, run against both implementations: in memory and in Redis.

Real time (Redis reads its own clock, so there is no clock to inject); rates are fast enough
that a refill takes a fraction of a second.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import pytest
from redis.asyncio import Redis

from fmgate.security.rate_limits import (
    Limiter,
    LimitExceeded,
    LimitKey,
    UserLimiter,
    admitted_stream,
)
from fmgate.shared_state.limits import RedisUserLimiter
from tests.harness.polling import eventually

ALICE = LimitKey("alice", "nova-lite")
BOB = LimitKey("bob", "nova-lite")


@dataclass(frozen=True)
class LimiterUnderTest:
    limiter: Limiter
    #: Requests of a key running now.
    running: Callable[[LimitKey], Awaitable[int]]


MakeLimiter = Callable[..., LimiterUnderTest]


@pytest.fixture(params=["memory", "redis"])
def make_limiter(request: pytest.FixtureRequest, key_prefix: str) -> MakeLimiter:
    """Build a limiter of the parametrized kind: ``make_limiter(concurrent=, per_minute=,
    burst=)``."""

    def in_memory(
        *, concurrent: int = 10, per_minute: float = 60, burst: int = 3
    ) -> LimiterUnderTest:
        limiter = UserLimiter(max_concurrent=concurrent, per_minute=per_minute, burst=burst)

        async def running(key: LimitKey) -> int:
            return limiter.running(key)

        return LimiterUnderTest(limiter, running)

    if request.param == "memory":
        return in_memory
    redis: Redis = request.getfixturevalue("shared_redis")

    def in_redis(
        *, concurrent: int = 10, per_minute: float = 60, burst: int = 3
    ) -> LimiterUnderTest:
        limiter = RedisUserLimiter(
            redis,
            max_concurrent=concurrent,
            per_minute=per_minute,
            burst=burst,
            key_prefix=key_prefix,
        )
        return LimiterUnderTest(limiter, limiter.running)

    return in_redis


async def admitted(limits: Limiter, key: LimitKey) -> bool:
    """Whether one request of ``key`` is let in now (it then holds its slot and token)."""
    return not isinstance(await limits.admit(key), LimitExceeded)


async def collect(stream: AsyncIterator[bytes], into: list[bytes]) -> None:
    async for chunk in stream:
        into.append(chunk)


async def test_burst_then_the_sustained_rate(make_limiter: MakeLimiter) -> None:
    limits = make_limiter(per_minute=600, burst=3).limiter  # 10 a second
    leases = [await limits.admit(ALICE) for _ in range(3)]
    assert not [lease for lease in leases if isinstance(lease, LimitExceeded)]
    refused = await limits.admit(ALICE)
    assert isinstance(refused, LimitExceeded)
    assert refused.limit == "rate"
    assert 0 < refused.retry_after_seconds <= 0.1
    assert "1 seconds" in refused.user_message
    # Poll rather than sleep past the refill: a sleep that overran to 0.2 s would refill two.
    await eventually(lambda: admitted(limits, ALICE), "a token refilled for alice")
    assert isinstance(await limits.admit(ALICE), LimitExceeded)  # one token, not the burst


async def test_users_and_bots_are_limited_separately(make_limiter: MakeLimiter) -> None:
    limits = make_limiter(burst=1).limiter
    assert not isinstance(await limits.admit(ALICE), LimitExceeded)
    assert isinstance(await limits.admit(ALICE), LimitExceeded)
    assert not isinstance(await limits.admit(BOB), LimitExceeded)
    assert not isinstance(await limits.admit(LimitKey("alice", "other-bot")), LimitExceeded)


async def test_concurrency_slots_come_back_on_release(make_limiter: MakeLimiter) -> None:
    under_test = make_limiter(concurrent=2, burst=100)
    limits = under_test.limiter
    first, second = await limits.admit(ALICE), await limits.admit(ALICE)
    assert not isinstance(first, LimitExceeded)
    assert not isinstance(second, LimitExceeded)
    refused = await limits.admit(ALICE)
    assert isinstance(refused, LimitExceeded)
    assert refused.limit == "concurrency"
    assert "too many requests running" in refused.user_message
    await first.release()
    await first.release()  # idempotent: gives back one slot, not two
    assert await under_test.running(ALICE) == 1
    assert not isinstance(await limits.admit(ALICE), LimitExceeded)
    assert isinstance(await limits.admit(ALICE), LimitExceeded)


async def test_admitted_stream_releases_on_failure_and_on_cancel(
    make_limiter: MakeLimiter,
) -> None:
    under_test = make_limiter(concurrent=1, burst=100)
    limits = under_test.limiter

    async def failing() -> AsyncIterator[bytes]:
        yield b"a"
        raise RuntimeError("boom")

    chunks: list[bytes] = []
    with pytest.raises(RuntimeError):
        await collect(admitted_stream(limits, ALICE, failing(), lambda _: b"refused"), chunks)
    assert chunks == [b"a"]
    assert await under_test.running(ALICE) == 0

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x"
            await asyncio.sleep(0)

    stream = admitted_stream(limits, ALICE, endless(), lambda _: b"refused")
    assert isinstance(stream, AsyncGenerator)  # so the caller can close it
    assert await anext(stream) == b"x"
    assert await under_test.running(ALICE) == 1
    refused = [
        c async for c in admitted_stream(limits, ALICE, endless(), lambda e: e.limit.encode())
    ]
    assert refused == [b"concurrency"]
    await stream.aclose()  # the caller went away
    assert await under_test.running(ALICE) == 0
