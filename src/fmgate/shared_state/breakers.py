"""Circuit breakers whose state lives in Redis, shared by every gateway replica.

Same states and rules as :class:`fmgate.resilience.breaker.CircuitBreaker` (read its module
docstring): consecutive failures counted by all replicas together open the circuit for all of
them; after the cool-down exactly one probe runs, whichever replica takes it; the probe's
success closes the circuit everywhere; results of calls permitted before the circuit last
opened are ignored (generations). The replica whose call opened the circuit calls ``on_open``.

Each transition is one Lua script run atomically in Redis, reading the time from Redis itself
(``TIME``), so replicas whose clocks disagree still agree on the cool-down. One hash per target::

    <prefix>breaker:<model_id>@<aws_region>
        open         "1" while open or half-open
        opened_at    Redis time (ms) the circuit last opened
        probe_until  Redis time (ms) the probe in flight is presumed lost; 0: no probe
        failures     consecutive failures while closed
        generation   grows each time the circuit opens

A probe whose replica died never settles: after ``probe_ttl_seconds`` another probe may run,
and the lost one's late result is ignored (taking over bumps the generation). Keys that see no
transition for a day expire: a closed circuit with no failures is the same as no key.

If Redis cannot be reached, calls are allowed (fail open) with a permit that counts for
nothing; see :mod:`fmgate.shared_state.connection`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Final

from redis.asyncio import Redis

from fmgate.config.gateway_settings import BreakerSettings
from fmgate.resilience.breaker import (
    BreakerKey,
    BreakerState,
    BreakerStatus,
    CircuitOpen,
    OpenListener,
    Permit,
)
from fmgate.shared_state.connection import (
    DEFAULT_RECONNECT_AFTER_SECONDS,
    RedisOutage,
    RedisUnavailable,
)

__all__ = ["DEFAULT_PROBE_TTL_SECONDS", "UNSHARED_GENERATION", "RedisBreaker", "RedisBreakers"]

logger = logging.getLogger("fmgate.resilience")

#: How long a probe may run before another replica presumes it lost and probes itself.
DEFAULT_PROBE_TTL_SECONDS: Final = 300.0

#: A breaker key with no transition for this long expires (at least cool-down + probe TTL).
IDLE_EXPIRY_SECONDS: Final = 86_400.0

#: The generation of permits given while Redis was unavailable: their results count for nothing.
UNSHARED_GENERATION: Final = -1

# Script replies (integers survive the Lua -> Redis conversion as they are).
ACQUIRED: Final = 1
PROBE_ACQUIRED: Final = 2
SKIPPED: Final = 0
IGNORED: Final = 0
OPENED: Final = 1
CLOSED: Final = 2

# Every script starts from the same reading of the state and of Redis's clock.
READ_STATE: Final = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'open', 'opened_at', 'probe_until', 'failures',
                     'generation')
local is_open = s[1] == '1'
local opened_at = tonumber(s[2]) or 0
local probe_until = tonumber(s[3]) or 0
local failures = tonumber(s[4]) or 0
local generation = tonumber(s[5]) or 0
"""

# KEYS[1] breaker; ARGV: cooldown_ms, probe_ttl_ms, idle_ms.
# -> {ACQUIRED, generation, failures} | {PROBE_ACQUIRED, generation, 0} | {SKIPPED, 0, 0}
ACQUIRE_SCRIPT: Final = (
    READ_STATE
    + """
if not is_open then
  return {1, generation, failures}
end
if now - opened_at < tonumber(ARGV[1]) then
  return {0, 0, 0}
end
if probe_until > 0 then
  if now < probe_until then
    return {0, 0, 0}
  end
  -- the probe in flight is presumed lost: its late result must not count
  generation = generation + 1
end
redis.call('HSET', KEYS[1], 'probe_until', now + tonumber(ARGV[2]), 'generation', generation)
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return {2, generation, 0}
"""
)

# KEYS[1] breaker; ARGV: outcome ('succeeded' | 'failed' | 'abandoned'), generation,
# probe ('1' | '0'), failure_threshold, idle_ms.  -> IGNORED | OPENED | CLOSED
SETTLE_SCRIPT: Final = (
    READ_STATE
    + """
if tonumber(ARGV[2]) ~= generation then
  return 0
end
local outcome = ARGV[1]
local probe = ARGV[3] == '1'
local function trip()
  redis.call('HSET', KEYS[1], 'open', '1', 'opened_at', now, 'probe_until', 0, 'failures', 0,
             'generation', generation + 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return 1
end
if outcome == 'abandoned' then
  if probe and is_open then
    redis.call('HSET', KEYS[1], 'probe_until', 0)
  end
  return 0
end
if outcome == 'succeeded' then
  if probe and is_open then
    redis.call('HSET', KEYS[1], 'open', '0', 'probe_until', 0, 'failures', 0)
    redis.call('PEXPIRE', KEYS[1], ARGV[5])
    return 2
  end
  if not is_open and failures > 0 then
    redis.call('HSET', KEYS[1], 'failures', 0)
  end
  return 0
end
if probe then
  return trip()
end
if is_open then
  return 0
end
failures = failures + 1
if failures >= tonumber(ARGV[4]) then
  return trip()
end
redis.call('HSET', KEYS[1], 'failures', failures)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 0
"""
)

# KEYS[1] breaker; ARGV: cooldown_ms.  -> {open, half_open, failures}
STATUS_SCRIPT: Final = (
    READ_STATE
    + """
if not is_open then
  return {0, 0, failures}
end
local half_open = probe_until > now or now - opened_at >= tonumber(ARGV[1])
return {1, half_open and 1 or 0, failures}
"""
)


class BreakerScripts:
    """The breaker scripts registered on one Redis client, with the settings they are run with.

    Each method runs one script through the outage guard (:class:`RedisUnavailable` while Redis
    cannot be reached).
    """

    def __init__(
        self,
        redis: Redis,
        settings: BreakerSettings,
        *,
        probe_ttl_seconds: float,
        outage: RedisOutage,
    ) -> None:
        self._threshold = settings.failure_threshold
        self._cooldown_ms = milliseconds(settings.cooldown_seconds)
        self._probe_ttl_ms = milliseconds(probe_ttl_seconds)
        self._idle_ms = milliseconds(
            max(IDLE_EXPIRY_SECONDS, 2 * (settings.cooldown_seconds + probe_ttl_seconds))
        )
        self._outage = outage
        self._acquire = redis.register_script(ACQUIRE_SCRIPT)
        self._settle = redis.register_script(SETTLE_SCRIPT)
        self._status = redis.register_script(STATUS_SCRIPT)

    async def acquire(self, redis_key: str) -> tuple[int, int, int]:
        """``(verdict, generation, consecutive failures)``: ``ACQUIRED``, ``PROBE_ACQUIRED``
        or ``SKIPPED``."""
        args = (self._cooldown_ms, self._probe_ttl_ms, self._idle_ms)
        verdict, generation, failures = await self._outage.run(
            lambda: self._acquire(keys=[redis_key], args=args)
        )
        return int(verdict), int(generation), int(failures)

    async def settle(self, redis_key: str, outcome: str, permit: Permit) -> int:
        """``IGNORED``, ``OPENED`` or ``CLOSED``: what settling ``permit`` did."""
        args = (outcome, permit.generation, int(permit.probe), self._threshold, self._idle_ms)
        transition = await self._outage.run(lambda: self._settle(keys=[redis_key], args=args))
        return int(transition)

    async def status(self, redis_key: str) -> tuple[bool, bool, int]:
        """``(open, half_open, consecutive_failures)``."""
        is_open, half_open, failures = await self._outage.run(
            lambda: self._status(keys=[redis_key], args=(self._cooldown_ms,))
        )
        return bool(is_open), bool(half_open), int(failures)


class RedisBreaker:
    """The breaker of one target, its state in Redis (satisfies ``Breaker``).

    ``opened`` is called when a call settled here opened the circuit.

    The happy path need not ask Redis every time: after Redis said the circuit is closed with
    no failures, calls for the next ``state_cache_seconds`` are permitted from that reading, and
    their successes (which would reset nothing) are not sent. A failure always goes to Redis and
    drops the reading, so a failing target is watched call by call. The price: a circuit another
    replica opened is seen here up to ``state_cache_seconds`` late (0: ask every time).
    """

    def __init__(
        self,
        key: BreakerKey,
        redis_key: str,
        scripts: BreakerScripts,
        opened: Callable[[BreakerKey], None],
        *,
        state_cache_seconds: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self._redis_key = redis_key
        self._scripts = scripts
        self._opened = opened
        self._cache_seconds = state_cache_seconds
        self._clock = clock
        #: Until when (clock time) the last "closed, no failures" reading may be used.
        self._healthy_until = 0.0
        self._healthy_generation = 0

    async def acquire(self) -> Permit:
        """Leave for one call, or :class:`CircuitOpen` while the target is being skipped."""
        if self._clock() < self._healthy_until:
            return Permit(self._healthy_generation, probe=False)
        try:
            verdict, generation, failures = await self._scripts.acquire(self._redis_key)
        except RedisUnavailable:
            return Permit(UNSHARED_GENERATION, probe=False)
        if verdict == SKIPPED:
            raise CircuitOpen(self.key)
        if verdict == ACQUIRED and failures == 0 and self._cache_seconds > 0:
            self._healthy_until = self._clock() + self._cache_seconds
            self._healthy_generation = generation
        return Permit(generation, probe=verdict == PROBE_ACQUIRED)

    async def succeeded(self, permit: Permit) -> None:
        """The call got an answer (or a non-retryable error): the target is serving."""
        if self._reading_says_nothing_to_reset(permit):
            return
        if await self._settle("succeeded", permit) == CLOSED:
            logger.info("circuit closed for %s in %s", self.key.model_id, self.key.aws_region)

    async def failed(self, permit: Permit) -> None:
        """The call failed with a retryable upstream error."""
        self._healthy_until = 0.0
        if await self._settle("failed", permit) == OPENED:
            self._opened(self.key)

    async def abandoned(self, permit: Permit) -> None:
        """The call ended without a verdict (cancelled); a probe slot is freed."""
        if permit.probe:  # only a probe holds anything in Redis
            await self._settle("abandoned", permit)

    def _reading_says_nothing_to_reset(self, permit: Permit) -> bool:
        return (
            not permit.probe
            and permit.generation == self._healthy_generation
            and self._clock() < self._healthy_until
        )

    async def status(self) -> BreakerStatus:
        """The breaker's state now (closed while Redis is unavailable: calls are allowed)."""
        try:
            is_open, half_open, failures = await self._scripts.status(self._redis_key)
        except RedisUnavailable:
            return BreakerStatus(self.key, BreakerState.CLOSED, 0)
        if not is_open:
            state = BreakerState.CLOSED
        else:
            state = BreakerState.HALF_OPEN if half_open else BreakerState.OPEN
        return BreakerStatus(self.key, state, failures)

    async def _settle(self, outcome: str, permit: Permit) -> int:
        if permit.generation == UNSHARED_GENERATION:
            return IGNORED
        try:
            return await self._scripts.settle(self._redis_key, outcome, permit)
        except RedisUnavailable:
            return IGNORED


class RedisBreakers:
    """Every target's breaker, state in Redis; satisfies ``Breakers``.

    ``redis`` is shared by every replica, ``key_prefix`` starts every key
    (``gateway.shared_state.key_prefix``). ``on_open`` is called in the replica whose call
    opened a circuit. ``probe_ttl_seconds``: how long a probe may run before it is presumed
    lost (give it the longest a model call may take). ``reconnect_after_seconds``: how long
    Redis is skipped after it failed to answer. ``state_cache_seconds``: how long a healthy
    reading is used without asking again (see :class:`RedisBreaker`).
    """

    def __init__(
        self,
        redis: Redis,
        settings: BreakerSettings | None = None,
        *,
        key_prefix: str = "fmgate:",
        on_open: OpenListener | None = None,
        probe_ttl_seconds: float = DEFAULT_PROBE_TTL_SECONDS,
        reconnect_after_seconds: float = DEFAULT_RECONNECT_AFTER_SECONDS,
        state_cache_seconds: float = 0.0,
    ) -> None:
        if probe_ttl_seconds <= 0:
            raise ValueError("probe_ttl_seconds must be positive")
        settings = settings or BreakerSettings()
        self._prefix = key_prefix
        self._cooldown_seconds = settings.cooldown_seconds
        self._on_open = on_open
        outage = RedisOutage("circuit breakers", reconnect_after_seconds=reconnect_after_seconds)
        self._scripts = BreakerScripts(
            redis, settings, probe_ttl_seconds=probe_ttl_seconds, outage=outage
        )
        self._breakers: dict[BreakerKey, RedisBreaker] = {}
        self._state_cache_seconds = state_cache_seconds

    def get(self, model_id: str, aws_region: str) -> RedisBreaker:
        """The breaker of ``model_id`` in ``aws_region`` (this object is local; state is not)."""
        key = BreakerKey(model_id, aws_region)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = RedisBreaker(
                key,
                self.redis_key(key),
                self._scripts,
                self._opened,
                state_cache_seconds=self._state_cache_seconds,
            )
        return breaker

    async def statuses(self) -> list[BreakerStatus]:
        """Every breaker this process has used, sorted by model and region."""
        ordered = sorted(self._breakers, key=lambda key: (key.model_id, key.aws_region))
        return [await self._breakers[key].status() for key in ordered]

    def redis_key(self, key: BreakerKey) -> str:
        """Where ``key``'s state lives (model ids contain ``:``, never ``@``)."""
        return f"{self._prefix}breaker:{key.model_id}@{key.aws_region}"

    def _opened(self, key: BreakerKey) -> None:
        logger.warning(
            "circuit open for %s in %s for %.1fs",
            key.model_id,
            key.aws_region,
            self._cooldown_seconds,
        )
        if self._on_open is not None:
            self._on_open(key)


def milliseconds(seconds: float) -> int:
    """Whole milliseconds, at least one (Redis times and TTLs are integers)."""
    return max(1, round(seconds * 1000))
