"""Per-user concurrency and rate limits whose state lives in Redis, shared by every replica.

The same two limits as :class:`fmgate.security.rate_limits.UserLimiter` (read its module
docstring), counted across all gateway replicas: at most ``max_concurrent`` requests of one
:class:`LimitKey` running at once, and a token bucket of ``burst`` refilled at
``per_minute / 60`` a second.

One Lua script admits a request atomically, reading the time from Redis (``TIME``) so replicas
with skewed clocks agree. Two keys per (user, bot); the user id is hashed (ids can be long and
are personal data), and the braces are a Redis Cluster hash tag keeping both in one slot::

    <prefix>limit:{<bot>/<sha256(user_id)[:32]>}:bucket   hash: tokens, updated_at (ms)
    <prefix>limit:{<bot>/<sha256(user_id)[:32]>}:leases   sorted set: lease id -> expiry (ms)

A lease is a member of the sorted set scored by its expiry (``lease_ttl_seconds`` after it was
granted; never renewed). The admit script drops expired leases before counting, so the slots of
a replica that died mid-request come back after the TTL. Both keys expire when idle (the bucket
once it would be full again, the leases with the newest lease), so memory follows the active
users.

If Redis cannot be reached, requests are admitted (fail open) with a lease that holds nothing;
see :mod:`fmgate.shared_state.connection`.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Final

from redis.asyncio import Redis
from redis.commands.core import AsyncScript

from fmgate.security.rate_limits import Lease, LimitExceeded, LimitKey
from fmgate.shared_state.connection import (
    DEFAULT_RECONNECT_AFTER_SECONDS,
    RedisOutage,
    RedisUnavailable,
)

__all__ = [
    "DEFAULT_LEASE_TTL_SECONDS",
    "RedisLease",
    "RedisUserLimiter",
    "UnsharedLease",
]

#: How long a lease holds its slot unless released (the longest a request may run).
DEFAULT_LEASE_TTL_SECONDS: Final = 300.0

#: Seconds to wait after a concurrency refusal (as the in-memory limiter says).
CONCURRENCY_RETRY_AFTER_SECONDS: Final = 1.0

# Script replies: {ADMITTED} | {CONCURRENCY_REFUSED} | {RATE_REFUSED, "<seconds to wait>"}.
ADMITTED: Final = 0
CONCURRENCY_REFUSED: Final = 1
RATE_REFUSED: Final = 2

# KEYS: bucket, leases. ARGV: max_concurrent, burst, refill_per_ms, lease_ttl_ms, lease_id.
ADMIT_SCRIPT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local max_concurrent = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local refill_per_ms = tonumber(ARGV[3])
local lease_ttl_ms = tonumber(ARGV[4])

redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
if redis.call('ZCARD', KEYS[2]) >= max_concurrent then
  return {1}
end

local s = redis.call('HMGET', KEYS[1], 'tokens', 'updated_at')
local tokens = tonumber(s[1]) or burst
local updated_at = tonumber(s[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - updated_at) * refill_per_ms)
if tokens < 1 then
  return {2, string.format('%.6f', (1 - tokens) / refill_per_ms / 1000)}
end

tokens = tokens - 1
redis.call('HSET', KEYS[1], 'tokens', string.format('%.17g', tokens), 'updated_at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil((burst - tokens) / refill_per_ms) + 1000)
redis.call('ZADD', KEYS[2], now + lease_ttl_ms, ARGV[5])
redis.call('PEXPIRE', KEYS[2], lease_ttl_ms + 1000)
return {0}
"""

# KEYS: leases.  -> the number of unexpired leases.
RUNNING_SCRIPT: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. now, '+inf')
"""


class RedisLease:
    """A granted slot recorded in Redis; :meth:`release` gives it back (idempotent).

    If Redis cannot be reached to release it, the slot comes back when the lease expires.
    """

    __slots__ = ("_lease_id", "_leases_key", "_limiter", "_released")

    def __init__(self, limiter: RedisUserLimiter, leases_key: str, lease_id: str) -> None:
        self._limiter = limiter
        self._leases_key = leases_key
        self._lease_id = lease_id
        self._released = False

    async def release(self) -> None:
        if not self._released:
            self._released = True
            await self._limiter.release(self._leases_key, self._lease_id)


class UnsharedLease:
    """The lease of a request admitted while Redis was unavailable: it holds no slot."""

    __slots__ = ()

    async def release(self) -> None:
        return None


class RedisUserLimiter:
    """Concurrency and token-bucket limits per :class:`LimitKey`, shared through Redis.

    Satisfies ``Limiter``. ``key_prefix`` starts every key (``gateway.shared_state.key_prefix``);
    ``lease_ttl_seconds`` is the longest a slot stays taken by a request whose replica never
    released it (give it at least the longest a request may run);
    ``reconnect_after_seconds`` is how long Redis is skipped after it failed to answer.
    """

    def __init__(
        self,
        redis: Redis,
        *,
        max_concurrent: int,
        per_minute: float,
        burst: int,
        key_prefix: str = "fmgate:",
        lease_ttl_seconds: float = DEFAULT_LEASE_TTL_SECONDS,
        reconnect_after_seconds: float = DEFAULT_RECONNECT_AFTER_SECONDS,
    ) -> None:
        if max_concurrent < 1 or burst < 1 or per_minute <= 0:
            raise ValueError("limits must be positive")
        if lease_ttl_seconds <= 0:
            raise ValueError("lease_ttl_seconds must be positive")
        self._redis = redis
        self._prefix = key_prefix
        self._args = (
            max_concurrent,
            burst,
            repr(per_minute / 60_000.0),
            max(1, round(lease_ttl_seconds * 1000)),
        )
        self._outage = RedisOutage("user limits", reconnect_after_seconds=reconnect_after_seconds)
        self._admit: AsyncScript = redis.register_script(ADMIT_SCRIPT)
        self._running: AsyncScript = redis.register_script(RUNNING_SCRIPT)

    async def admit(self, key: LimitKey) -> Lease | LimitExceeded:
        """Take a slot and a token for ``key``, or say which limit refuses the request."""
        bucket_key, leases_key = self.redis_keys(key)
        lease_id = uuid.uuid4().hex
        try:
            reply = await self._outage.run(
                lambda: self._admit(keys=[bucket_key, leases_key], args=(*self._args, lease_id))
            )
        except RedisUnavailable:
            return UnsharedLease()
        verdict = int(reply[0])
        if verdict == CONCURRENCY_REFUSED:
            return LimitExceeded(key, "concurrency", CONCURRENCY_RETRY_AFTER_SECONDS)
        if verdict == RATE_REFUSED:
            return LimitExceeded(key, "rate", retry_after_seconds=float(reply[1]))
        return RedisLease(self, leases_key, lease_id)

    async def running(self, key: LimitKey) -> int:
        """Unexpired leases of ``key`` across every replica (0 while Redis is unavailable)."""
        _, leases_key = self.redis_keys(key)
        try:
            count = await self._outage.run(lambda: self._running(keys=[leases_key]))
        except RedisUnavailable:
            return 0
        return int(count)

    async def release(self, leases_key: str, lease_id: str) -> None:
        """Give back one lease's slot (it expires by itself if Redis cannot be reached)."""
        try:
            await self._outage.run(lambda: self._redis.zrem(leases_key, lease_id))
        except RedisUnavailable:
            return

    def redis_keys(self, key: LimitKey) -> tuple[str, str]:
        """``(bucket, leases)``: where ``key``'s state lives."""
        user = hashlib.sha256(key.user_id.encode()).hexdigest()[:32]
        base = f"{self._prefix}limit:{{{key.bot}/{user}}}"
        return f"{base}:bucket", f"{base}:leases"
