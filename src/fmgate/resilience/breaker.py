"""Circuit breaking per (model, region): stop calling a target that keeps failing.

One :class:`CircuitBreaker` watches one target (a model id in a region). It moves between
three states::

    CLOSED ──(failure_threshold consecutive failures)──> OPEN
    OPEN ──(cooldown_seconds passed; the next call is the probe)──> HALF_OPEN
    HALF_OPEN ──(the probe succeeded)──> CLOSED
    HALF_OPEN ──(the probe failed)──> OPEN (a new cool-down)

A caller asks for a :class:`Permit` before each call (:meth:`CircuitBreaker.acquire`, which
raises :class:`CircuitOpen` while calls are being skipped) and settles it exactly once:
``succeeded``, ``failed`` or ``abandoned`` (the call ended without a verdict, e.g. the client
went away). A failure is a retryable upstream error (throttled, 5xx, not ready, timed out); any
other outcome shows the target is answering, so it counts as a success.

Results of calls permitted before the circuit last opened are ignored: they say nothing new.
This module keeps state in memory, per gateway process (the clock is injectable for tests);
:mod:`fmgate.shared_state.breakers` shares it between replicas through Redis. Both satisfy
:class:`Breakers`, which is all the fallback logic sees.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from fmgate.config.gateway_settings import BreakerSettings

logger = logging.getLogger("fmgate.resilience")

#: Seconds from an arbitrary start, never going backwards (``time.monotonic``).
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class BreakerKey:
    """The target a breaker watches."""

    model_id: str
    aws_region: str


#: Called when a circuit opens (also when a failed probe opens it again).
OpenListener = Callable[[BreakerKey], None]


class BreakerState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitOpen(Exception):
    """The target's circuit is open: the call was not made. Try the next target."""

    def __init__(self, key: BreakerKey) -> None:
        super().__init__(f"circuit open for {key.model_id} in {key.aws_region}")
        self.key = key


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call; settle it with the breaker that gave it."""

    #: The breaker's generation when the call was permitted (it grows each time it opens).
    generation: int
    #: Whether this call is the half-open probe.
    probe: bool


@dataclass(frozen=True, slots=True)
class BreakerStatus:
    """One breaker's state, for status pages."""

    key: BreakerKey
    state: BreakerState
    consecutive_failures: int


class Breaker(Protocol):
    """The breaker of one target, wherever its state lives."""

    key: BreakerKey

    async def acquire(self) -> Permit:
        """Leave for one call, or :class:`CircuitOpen` while the target is being skipped."""
        ...

    async def succeeded(self, permit: Permit) -> None:
        """The call got an answer (or a non-retryable error): the target is serving."""

    async def failed(self, permit: Permit) -> None:
        """The call failed with a retryable upstream error."""

    async def abandoned(self, permit: Permit) -> None:
        """The call ended without a verdict (cancelled); a probe slot is freed."""

    async def status(self) -> BreakerStatus:
        """The breaker's state now."""
        ...


class Breakers(Protocol):
    """Every target's breaker (created on first use), wherever their state lives."""

    def get(self, model_id: str, aws_region: str) -> Breaker: ...

    async def statuses(self) -> list[BreakerStatus]:
        """Every breaker this process has used, sorted by model and region."""
        ...


class CircuitBreaker:
    """The breaker of one target. Not thread-safe: use it from one event loop."""

    def __init__(
        self,
        key: BreakerKey,
        settings: BreakerSettings,
        *,
        clock: Clock = time.monotonic,
        on_open: OpenListener | None = None,
    ) -> None:
        self.key = key
        self._threshold = settings.failure_threshold
        self._cooldown = settings.cooldown_seconds
        self._clock = clock
        self._on_open = on_open
        self._open = False
        self._opened_at = 0.0
        self._probe_in_flight = False
        self._failures = 0
        self._generation = 0

    @property
    def state(self) -> BreakerState:
        if not self._open:
            return BreakerState.CLOSED
        if self._probe_in_flight or self._cooled_down():
            return BreakerState.HALF_OPEN
        return BreakerState.OPEN

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    async def acquire(self) -> Permit:
        """Leave for one call, or :class:`CircuitOpen` while the target is being skipped."""
        if not self._open:
            return Permit(self._generation, probe=False)
        if self._probe_in_flight or not self._cooled_down():
            raise CircuitOpen(self.key)
        self._probe_in_flight = True
        return Permit(self._generation, probe=True)

    async def succeeded(self, permit: Permit) -> None:
        """The call got an answer (or a non-retryable error): the target is serving."""
        if permit.generation != self._generation:
            return
        if permit.probe:
            logger.info("circuit closed for %s in %s", self.key.model_id, self.key.aws_region)
            self._open = False
            self._probe_in_flight = False
        if not self._open:
            self._failures = 0

    async def failed(self, permit: Permit) -> None:
        """The call failed with a retryable upstream error."""
        if permit.generation != self._generation:
            return
        if permit.probe:
            self._trip()
            return
        if self._open:
            return
        self._failures += 1
        if self._failures >= self._threshold:
            self._trip()

    async def abandoned(self, permit: Permit) -> None:
        """The call ended without a verdict (cancelled); a probe slot is freed."""
        if permit.generation == self._generation and permit.probe:
            self._probe_in_flight = False

    async def status(self) -> BreakerStatus:
        return BreakerStatus(self.key, self.state, self._failures)

    def _cooled_down(self) -> bool:
        return self._clock() - self._opened_at >= self._cooldown

    def _trip(self) -> None:
        self._open = True
        self._opened_at = self._clock()
        self._probe_in_flight = False
        self._failures = 0
        self._generation += 1
        logger.warning(
            "circuit open for %s in %s for %.1fs",
            self.key.model_id,
            self.key.aws_region,
            self._cooldown,
        )
        if self._on_open is not None:
            self._on_open(self.key)


class BreakerRegistry:
    """Every target's breaker, created on first use; one registry per gateway."""

    def __init__(
        self,
        settings: BreakerSettings | None = None,
        *,
        clock: Clock = time.monotonic,
        on_open: OpenListener | None = None,
    ) -> None:
        self._settings = settings or BreakerSettings()
        self._clock = clock
        self._on_open = on_open
        self._breakers: dict[BreakerKey, CircuitBreaker] = {}

    def get(self, model_id: str, aws_region: str) -> CircuitBreaker:
        key = BreakerKey(model_id, aws_region)
        breaker = self._breakers.get(key)
        if breaker is None:
            breaker = self._breakers[key] = CircuitBreaker(
                key, self._settings, clock=self._clock, on_open=self._on_open
            )
        return breaker

    async def statuses(self) -> list[BreakerStatus]:
        """Every breaker used so far, sorted by model and region."""
        return [
            await breaker.status()
            for _, breaker in sorted(
                self._breakers.items(), key=lambda item: (item[0].model_id, item[0].aws_region)
            )
        ]
