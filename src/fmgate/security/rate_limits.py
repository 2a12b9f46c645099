"""Per-user concurrency and rate limits, in memory, keyed by (user id, bot).

Two limits apply to each key:

- **concurrency**: at most ``max_concurrent`` requests running at once;
- **rate**: a token bucket holding up to ``burst`` requests, refilled at ``per_minute / 60``
  per second, so a user may send ``burst`` requests at once and then ``per_minute`` a minute.

:meth:`UserLimiter.admit` either grants a :class:`Lease` (release it when the request ends)
or returns a :class:`LimitExceeded` saying which limit and when to try again.
:func:`admitted_stream` wraps a response stream: it asks for admission when the stream starts
and releases the lease however the stream ends (finished, failed, or cancelled by the caller
going away), so a slot is never held by a request that is not running.

:class:`UserLimiter` keeps state in one process (idle keys are swept, so memory follows the
number of *active* users); :class:`fmgate.shared_state.limits.RedisUserLimiter` shares it
between gateway replicas through Redis. Both satisfy :class:`Limiter`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Final, Literal, Protocol

logger = logging.getLogger("fmgate.security")

#: Sweep idle keys once the table has grown to this many entries (and doubles since the last).
SWEEP_THRESHOLD: Final = 1024


@dataclass(frozen=True, slots=True)
class LimitKey:
    """Whose requests are counted together: one user on one bot."""

    user_id: str
    bot: str


@dataclass(frozen=True, slots=True)
class LimitExceeded:
    """A refused request: which limit, and how long until trying again may succeed."""

    key: LimitKey
    limit: Literal["concurrency", "rate"]
    retry_after_seconds: float

    @property
    def user_message(self) -> str:
        """Safe to show: no ids, just what happened and when to retry."""
        if self.limit == "concurrency":
            return (
                "You have too many requests running on this bot at once. "
                "Wait for one to finish, then try again."
            )
        return (
            "You are sending requests too quickly. "
            f"Please try again in {self.retry_after_whole_seconds} seconds."
        )

    @property
    def retry_after_whole_seconds(self) -> int:
        """The wait in whole seconds, at least one (for messages and ``Retry-After``)."""
        return max(1, math.ceil(self.retry_after_seconds))


@dataclass(slots=True)
class _UserState:
    running: int
    tokens: float
    updated_at: float


class Lease(Protocol):
    """A granted request slot."""

    async def release(self) -> None:
        """Give the slot back (idempotent)."""


class Limiter(Protocol):
    """Per-user limits, wherever their state lives."""

    async def admit(self, key: LimitKey) -> Lease | LimitExceeded:
        """Take a slot and a token for ``key``, or say which limit refuses the request."""
        ...


class LocalLease:
    """A slot granted by a :class:`UserLimiter`; :meth:`release` gives it back (idempotent)."""

    __slots__ = ("_key", "_limiter", "_released")

    def __init__(self, limiter: UserLimiter, key: LimitKey) -> None:
        self._limiter = limiter
        self._key = key
        self._released = False

    async def release(self) -> None:
        self.release_now()

    def release_now(self) -> None:
        if not self._released:
            self._released = True
            self._limiter._release(self._key)


class UserLimiter:
    """Concurrency and token-bucket rate limits per :class:`LimitKey` (not thread-safe: one loop).

    ``clock`` returns monotonic seconds (injectable for tests).
    """

    def __init__(
        self,
        *,
        max_concurrent: int,
        per_minute: float,
        burst: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_concurrent < 1 or burst < 1 or per_minute <= 0:
            raise ValueError("limits must be positive")
        self._max_concurrent = max_concurrent
        self._refill_per_second = per_minute / 60.0
        self._burst = float(burst)
        self._clock = clock
        self._states: dict[LimitKey, _UserState] = {}
        self._sweep_at = SWEEP_THRESHOLD

    async def admit(self, key: LimitKey) -> Lease | LimitExceeded:
        """Take a slot and a token for ``key``, or say which limit refuses the request."""
        now = self._clock()
        state = self._states.get(key)
        if state is None:
            self._maybe_sweep(now)
            state = _UserState(running=0, tokens=self._burst, updated_at=now)
            self._states[key] = state
        self._refill(state, now)
        if state.running >= self._max_concurrent:
            return LimitExceeded(key, "concurrency", retry_after_seconds=1.0)
        if state.tokens < 1.0:
            wait = (1.0 - state.tokens) / self._refill_per_second
            return LimitExceeded(key, "rate", retry_after_seconds=wait)
        state.tokens -= 1.0
        state.running += 1
        return LocalLease(self, key)

    def running(self, key: LimitKey) -> int:
        """Requests of ``key`` running now."""
        state = self._states.get(key)
        return state.running if state is not None else 0

    def tracked_keys(self) -> int:
        """Keys held in memory (active or recently active)."""
        return len(self._states)

    def _release(self, key: LimitKey) -> None:
        state = self._states.get(key)
        if state is not None and state.running > 0:
            state.running -= 1

    def _refill(self, state: _UserState, now: float) -> None:
        elapsed = max(0.0, now - state.updated_at)
        state.tokens = min(self._burst, state.tokens + elapsed * self._refill_per_second)
        state.updated_at = now

    def _maybe_sweep(self, now: float) -> None:
        """Forget keys with nothing running and a full bucket: they are as if never seen."""
        if len(self._states) < self._sweep_at:
            return
        for key, state in list(self._states.items()):
            self._refill(state, now)
            if state.running == 0 and state.tokens >= self._burst:
                del self._states[key]
        self._sweep_at = max(SWEEP_THRESHOLD, 2 * len(self._states))


async def admitted_stream(
    limiter: Limiter,
    key: LimitKey,
    stream: AsyncIterator[bytes],
    refusal: Callable[[LimitExceeded], bytes],
) -> AsyncIterator[bytes]:
    """``stream`` if ``key`` is admitted when the response starts, else ``refusal(exceeded)``.

    Admission happens when the first chunk is asked for, so a response that never starts
    never takes a slot; the lease is released however the stream ends.
    """
    admission = await limiter.admit(key)
    if isinstance(admission, LimitExceeded):
        logger.info(
            "request refused: %s limit (retry after %.1fs)",
            admission.limit,
            admission.retry_after_seconds,
        )
        yield refusal(admission)
        return
    try:
        async for chunk in stream:
            yield chunk
    finally:
        await admission.release()
