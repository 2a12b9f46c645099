"""Per-user limits shared by two gateway replicas (two ``RedisUserLimiter``) through one Redis."""

from __future__ import annotations

import asyncio

import pytest
from redis.asyncio import Redis

from fmgate.security.rate_limits import Lease, LimitExceeded, LimitKey
from fmgate.shared_state.limits import RedisUserLimiter

ALICE = LimitKey("alice@example.com", "nova-lite")
BOB = LimitKey("bob", "nova-lite")


def limiter(
    redis: Redis,
    key_prefix: str,
    *,
    concurrent: int = 10,
    per_minute: float = 60,
    burst: int = 100,
    lease_ttl_seconds: float = 300,
) -> RedisUserLimiter:
    return RedisUserLimiter(
        redis,
        max_concurrent=concurrent,
        per_minute=per_minute,
        burst=burst,
        key_prefix=key_prefix,
        lease_ttl_seconds=lease_ttl_seconds,
    )


async def admitted(limits: RedisUserLimiter, key: LimitKey = ALICE) -> Lease:
    admission = await limits.admit(key)
    assert not isinstance(admission, LimitExceeded), admission
    return admission


async def refused(limits: RedisUserLimiter, key: LimitKey = ALICE) -> LimitExceeded:
    admission = await limits.admit(key)
    assert isinstance(admission, LimitExceeded)
    return admission


async def test_concurrency_is_counted_across_replicas(
    shared_redis: Redis, other_replica_redis: Redis, key_prefix: str
) -> None:
    first = limiter(shared_redis, key_prefix, concurrent=2)
    second = limiter(other_replica_redis, key_prefix, concurrent=2)
    lease = await admitted(first)
    await admitted(second)
    for limits in (first, second):
        refusal = await refused(limits)
        assert refusal.limit == "concurrency"
        assert refusal.retry_after_seconds == 1.0
    assert await second.running(ALICE) == 2
    await lease.release()  # released on one replica, free on the other
    await lease.release()  # idempotent: gives back one slot, not two
    assert await second.running(ALICE) == 1
    await admitted(second)
    await refused(first)


async def test_the_token_bucket_is_shared_across_replicas(
    shared_redis: Redis, other_replica_redis: Redis, key_prefix: str
) -> None:
    first = limiter(shared_redis, key_prefix, burst=3, per_minute=0.001)
    second = limiter(other_replica_redis, key_prefix, burst=3, per_minute=0.001)
    for limits in (first, first, second):
        await (await admitted(limits)).release()
    for limits in (first, second):
        refusal = await refused(limits)
        assert refusal.limit == "rate"
        assert refusal.retry_after_seconds > 50_000  # one request per 60,000 s
    await admitted(second, BOB)  # another user has a bucket of their own
    await admitted(first, LimitKey(ALICE.user_id, "other-bot"))  # so has another bot


async def test_the_bucket_refills_at_the_sustained_rate(
    shared_redis: Redis, key_prefix: str
) -> None:
    limits = limiter(shared_redis, key_prefix, burst=1, per_minute=600)  # 10 a second
    await admitted(limits)
    refusal = await refused(limits)
    assert 0 < refusal.retry_after_seconds <= 0.1
    await asyncio.sleep(0.15)  # the refill itself (burst 1: sleeping longer refills no more)
    await admitted(limits)


async def test_leases_of_a_dead_replica_expire_after_their_ttl(
    shared_redis: Redis, other_replica_redis: Redis, key_prefix: str
) -> None:
    dying = limiter(shared_redis, key_prefix, concurrent=1, lease_ttl_seconds=0.2)
    survivor = limiter(other_replica_redis, key_prefix, concurrent=1, lease_ttl_seconds=0.2)
    await admitted(dying)  # never released: its replica dies mid-request
    assert (await refused(survivor)).limit == "concurrency"
    await asyncio.sleep(0.25)  # the lease's 0.2 s TTL runs out (a time window, not a barrier)
    assert await survivor.running(ALICE) == 0
    await admitted(survivor)


async def test_keys_hide_the_user_id_and_expire_when_idle(
    shared_redis: Redis, key_prefix: str
) -> None:
    limits = limiter(shared_redis, key_prefix, burst=5, per_minute=60)
    lease = await admitted(limits)
    keys = sorted([key.decode() async for key in shared_redis.scan_iter(match=f"{key_prefix}*")])
    assert [key.rsplit(":", 1)[1] for key in keys] == ["bucket", "leases"]
    assert all(key.startswith(f"{key_prefix}limit:{{nova-lite/") for key in keys)
    assert not [key for key in keys if ALICE.user_id in key]
    # The bucket lives until it would be full again (1 s for one token), the leases set until
    # its newest lease would expire.
    bucket_ttl, leases_ttl = [await shared_redis.pttl(key) for key in keys]
    assert 0 < bucket_ttl <= 2_000
    assert 1_000 < leases_ttl <= 301_000
    await lease.release()
    assert await shared_redis.exists(keys[1]) == 0  # the last lease gone, the set is gone


async def test_limits_must_be_positive(shared_redis: Redis) -> None:
    with pytest.raises(ValueError, match="positive"):
        RedisUserLimiter(shared_redis, max_concurrent=0, per_minute=1, burst=1)
    with pytest.raises(ValueError, match="positive"):
        RedisUserLimiter(shared_redis, max_concurrent=1, per_minute=1, burst=1, lease_ttl_seconds=0)
