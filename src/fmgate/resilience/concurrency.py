"""Adaptive concurrency per (model, region): how many calls the gateway lets run at once.

Bedrock throttles per account, model and region, and a throttled model hammered with the same
number of calls only throttles more. Each target gets an :class:`AdaptiveLimit` that learns how
much it can take, AIMD style (as TCP does):

- every call that gets an answer raises the limit by ``1 / limit`` (about +1 per full window);
- a throttled call halves it, once per window: only a call admitted after the last cut can cut
  again, so fifty calls throttled together halve the limit once, not fifty times;
- the limit stays within ``[min_limit, max_limit]`` (``gateway.concurrency``).

Calls over the limit wait in a first-come, first-served queue; one that waits longer than
``queue_timeout_seconds`` gets :class:`~fmgate.core.errors.ModelBusy` (retryable: the bot's next
fallback is tried, else the user is told to try again), instead of hanging.
State lives in the process: each replica learns its own share.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections import deque
from dataclasses import dataclass
from enum import Enum

from fmgate.config.gateway_settings import ConcurrencySettings
from fmgate.core.errors import ModelBusy

logger = logging.getLogger("fmgate.resilience")


class Verdict(Enum):
    """What a call taught the limit."""

    ANSWERED = "answered"
    THROTTLED = "throttled"
    #: Cancelled, or failed in a way that says nothing about the target's capacity.
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """One target's limit, for status pages and metrics."""

    model_id: str
    aws_region: str
    limit: float
    running: int
    waiting: int


class Slot:
    """Leave to run calls to a target; report what they taught, then release it (once)."""

    __slots__ = ("_limit", "_released", "_verdict", "window")

    def __init__(self, limit: AdaptiveLimit, window: int) -> None:
        self._limit = limit
        #: The limit's window when this slot was granted (cuts happen once per window).
        self.window = window
        self._verdict = Verdict.NEUTRAL
        self._released = False

    def observe(self, verdict: Verdict) -> None:
        """Record what a call taught; the last call's verdict is applied on release."""
        self._verdict = verdict

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limit._release(self, self._verdict)


class AdaptiveLimit:
    """The concurrency limit of one target. Use from one event loop."""

    def __init__(self, model_id: str, aws_region: str, settings: ConcurrencySettings) -> None:
        self.model_id = model_id
        self.aws_region = aws_region
        self._settings = settings
        self._limit = float(settings.initial_limit)
        self._running = 0
        self._window = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    @property
    def limit(self) -> float:
        return self._limit

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    async def acquire(self) -> Slot:
        """A slot now if the limit allows, else after waiting in line; :class:`ModelBusy`
        when no slot freed up within ``queue_timeout_seconds``."""
        if self._running < self._capacity() and not self._waiters:
            self._running += 1
            return Slot(self, self._window)
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._settings.queue_timeout_seconds):
                await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return Slot(self, self._window)  # granted just as the wait ran out
            logger.warning(
                "%s in %s busy: no slot in %gs (limit %.1f, %d running)",
                self.model_id,
                self.aws_region,
                self._settings.queue_timeout_seconds,
                self._limit,
                self._running,
            )
            raise ModelBusy(f"no free slot for {self.model_id} in {self.aws_region}") from None
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._running -= 1  # granted, but the caller left: hand it on
                self._wake()
            raise
        finally:
            if not waiter.done():
                waiter.cancel()
            self._drop_finished_waiters()
        return Slot(self, self._window)

    def status(self) -> LimitStatus:
        return LimitStatus(self.model_id, self.aws_region, self._limit, self._running, self.waiting)

    def _capacity(self) -> int:
        return max(self._settings.min_limit, math.floor(self._limit))

    def _release(self, slot: Slot, verdict: Verdict) -> None:
        self._running -= 1
        settings = self._settings
        if verdict is Verdict.ANSWERED:
            self._limit = min(float(settings.max_limit), self._limit + 1.0 / self._limit)
        elif verdict is Verdict.THROTTLED and slot.window == self._window:
            self._window += 1
            self._limit = max(float(settings.min_limit), self._limit / 2.0)
            logger.info(
                "%s in %s throttled: concurrency limit now %.1f",
                self.model_id,
                self.aws_region,
                self._limit,
            )
        self._wake()

    def _wake(self) -> None:
        """Grant slots to waiters, in order, while the limit allows."""
        while self._waiters and self._running < self._capacity():
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            self._running += 1
            waiter.set_result(None)

    def _drop_finished_waiters(self) -> None:
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()


class ConcurrencyLimits:
    """Every target's :class:`AdaptiveLimit`, created on first use; one set per gateway."""

    def __init__(self, settings: ConcurrencySettings | None = None) -> None:
        self._settings = settings or ConcurrencySettings()
        self._limits: dict[tuple[str, str], AdaptiveLimit] = {}

    @property
    def enabled(self) -> bool:
        return self._settings.enabled

    def get(self, model_id: str, aws_region: str) -> AdaptiveLimit:
        key = (model_id, aws_region)
        limit = self._limits.get(key)
        if limit is None:
            limit = self._limits[key] = AdaptiveLimit(model_id, aws_region, self._settings)
        return limit

    def statuses(self) -> list[LimitStatus]:
        return [limit.status() for _, limit in sorted(self._limits.items())]
