"""Concurrency per (model, region), learned from what Bedrock refuses.

Bedrock says when a model has no room for another call: ``ThrottlingException``,
``ModelNotReadyException``, ``ServiceUnavailableException`` (errors whose
``capacity_refusal`` is set). Each target gets an :class:`AdaptiveLimit` that keys on that
signal alone — never on latency, which for a model's stream is the length of its answer:

- **No refusal lately, no limit.** While the target refused nothing for
  ``recent_throttle_seconds``, no call waits (running calls are still counted).
- **A refusal sets the limit** to what Bedrock was serving for us when it said no — the running
  calls whose answer had started (or starts later: Bedrock already held them) — times
  ``backoff_ratio``, never below ``min_limit``. Once per window: only a call admitted after the
  last cut can cut again, so fifty calls refused together cut once.
- **Growth while calls wait:** each call Bedrock accepts (its answer starts) adds 1 while the
  limit is below the *ceiling* — the calls Bedrock held when it last refused, or half of all
  running then (TCP's slow start: doubling per round trip) — and ``1 / limit`` above it (about
  one more per round trip: probing past the last refusal carefully). Once Bedrock is seen
  serving more calls at once than the ceiling, its room has grown: slow start again, up to the
  next refusal.
- **Back to no limit** once ``recent_throttle_seconds`` pass without a refusal.
- A **static cap** (``static_caps``, e.g. the operator's Bedrock quota) always applies, with
  queueing; the learned limit applies below it.

A slot is one Bedrock call, held until its stream ends (as Bedrock counts it); a retry takes a
new one. Calls over the limit wait first come, first served, and are let in as slots free up or
the limit grows; one that waits longer than ``queue_timeout_seconds`` gets
:class:`~fmgate.core.errors.ModelBusy` (retryable: the bot's next fallback is tried, else the
user is told to try again). A waiter that goes away never keeps a slot.
State lives in the process: each replica learns its own share.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum

from fmgate.config.gateway_settings import ConcurrencySettings
from fmgate.core.errors import ModelBusy

logger = logging.getLogger("fmgate.resilience")

#: Seconds from an arbitrary origin, never going back (``time.monotonic``; tests pass a fake).
Clock = Callable[[], float]


class Verdict(Enum):
    """What a call taught the limit."""

    ANSWERED = "answered"
    #: Bedrock refused it for want of capacity (throttled, model not ready, unavailable).
    THROTTLED = "throttled"
    #: Cancelled, or failed in a way that says nothing about the target's capacity.
    NEUTRAL = "neutral"


@dataclass(frozen=True, slots=True)
class LimitStatus:
    """One target's limit, for status pages and metrics."""

    model_id: str
    aws_region: str
    #: Calls allowed at once now: the learned limit, a static cap, or ``math.inf`` (no limit).
    limit: float
    running: int
    waiting: int
    #: Calls that had to wait for a slot since start (those that gave up included).
    queued: int


class TargetBusy(Exception):
    """No slot freed up within the queue timeout: the call was not made. Try the next target;
    ``error`` is what to report when none is left."""

    def __init__(self, error: ModelBusy) -> None:
        super().__init__(str(error))
        self.error = error


class Slot:
    """Leave to make one call to a target; say when its answer starts and how it went, then
    release it (once)."""

    __slots__ = ("_limit", "_released", "_started", "_verdict", "window")

    def __init__(self, limit: AdaptiveLimit, window: int) -> None:
        self._limit = limit
        #: The limit's window when this slot was granted (cuts happen once per window).
        self.window = window
        self._verdict = Verdict.NEUTRAL
        self._started = False
        self._released = False

    @property
    def started(self) -> bool:
        return self._started

    def answer_started(self) -> None:
        """The call's answer began (its first event): Bedrock accepted it. Idempotent."""
        if not self._started and not self._released:
            self._started = True
            self._limit._accepted(self)

    def observe(self, verdict: Verdict) -> None:
        """Record what the call taught; applied on release."""
        self._verdict = verdict

    def release(self) -> None:
        if not self._released:
            self._released = True
            self._limit._release(self, self._verdict)


class AdaptiveLimit:
    """The concurrency limit of one target (see the module docstring). Use from one event loop."""

    def __init__(
        self,
        model_id: str,
        aws_region: str,
        settings: ConcurrencySettings,
        *,
        cap: int | None = None,
        clock: Clock = time.monotonic,
    ) -> None:
        self.model_id = model_id
        self.aws_region = aws_region
        self._settings = settings
        self._cap = cap
        self._clock = clock
        #: The learned limit; ``None`` while Bedrock has refused nothing lately.
        self._learned: float | None = None
        #: Below this the learned limit grows by 1 per accepted call, above it by 1 / limit.
        self._ceiling = 0.0
        #: Calls Bedrock held for us at the last cut (late starters included).
        self._held = 0
        self._last_refusal = -math.inf
        self._running = 0
        #: Running calls whose answer has started.
        self._answering = 0
        self._window = 0
        self._queued = 0
        self._waiters: deque[asyncio.Future[int]] = deque()

    @property
    def limit(self) -> float:
        """Calls allowed at once now (``math.inf``: no limit)."""
        return min(self._learned_capacity(), self._cap_capacity())

    @property
    def learned(self) -> float | None:
        """The limit learned from refusals, unrounded; ``None`` when there is none now."""
        return None if self._expired() else self._learned

    @property
    def running(self) -> int:
        return self._running

    @property
    def waiting(self) -> int:
        return sum(1 for waiter in self._waiters if not waiter.done())

    @property
    def queued(self) -> int:
        return self._queued

    def status(self) -> LimitStatus:
        return LimitStatus(
            self.model_id, self.aws_region, self.limit, self._running, self.waiting, self._queued
        )

    async def acquire(self) -> Slot:
        """A slot now if the limit allows, else after waiting in line; :class:`ModelBusy`
        when no slot freed up within ``queue_timeout_seconds``."""
        self._forget_old_refusals()
        self._wake()  # the limit may have gone since the last call
        if self._running < self.limit and not self._someone_waiting():
            self._running += 1
            return Slot(self, self._window)
        self._queued += 1
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout(self._settings.queue_timeout_seconds):
                window = await waiter
        except TimeoutError:
            if waiter.done() and not waiter.cancelled():
                return Slot(self, waiter.result())  # granted just as the wait ran out
            logger.warning(
                "%s in %s busy: no slot in %gs (limit %g, %d running)",
                self.model_id,
                self.aws_region,
                self._settings.queue_timeout_seconds,
                self.limit,
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
        return Slot(self, window)

    # -- what calls teach ---------------------------------------------------------------------

    def _accepted(self, slot: Slot) -> None:
        self._answering += 1
        self._forget_old_refusals()
        learned = self._learned
        if learned is not None and slot.window < self._window:
            # Bedrock already held this call when it last refused: the cut counted it short.
            self._held += 1
            self._ceiling = max(self._ceiling, float(self._held))
            self._learned = max(learned, self._cut_to(self._held))
        elif learned is not None and self._someone_waiting():
            if self._answering > self._ceiling:
                self._ceiling = math.inf  # more room than when Bedrock refused: probe fast
            step = 1.0 if learned < self._ceiling else 1.0 / learned
            self._learned = min(learned + step, float(self._cap or math.inf))
        self._wake()

    def _release(self, slot: Slot, verdict: Verdict) -> None:
        self._forget_old_refusals()
        running_then = self._running
        self._running -= 1
        if slot.started:
            self._answering -= 1
        if verdict is Verdict.THROTTLED:
            self._refused(slot, running_then)
        self._wake()

    def _refused(self, slot: Slot, running_then: int) -> None:
        self._last_refusal = self._clock()
        if self._learned is not None and slot.window != self._window:
            return  # admitted before the last cut: that cut already answered this refusal
        self._window += 1
        self._held = self._answering
        self._ceiling = max(float(self._held), running_then / 2.0)
        self._learned = self._cut_to(self._held)
        logger.info(
            "%s in %s refused a call with %d answering, %d running: concurrency limit now %g",
            self.model_id,
            self.aws_region,
            self._held,
            running_then,
            self.limit,
        )

    def _cut_to(self, held: int) -> float:
        cut = max(float(self._settings.min_limit), held * self._settings.backoff_ratio)
        return min(cut, float(self._cap or math.inf))

    # -- state --------------------------------------------------------------------------------

    def _expired(self) -> bool:
        quiet = self._clock() - self._last_refusal
        return self._learned is not None and quiet >= self._settings.recent_throttle_seconds

    def _forget_old_refusals(self) -> None:
        if self._expired():
            self._learned = None
            self._ceiling = 0.0
            self._held = 0
            logger.info(
                "%s in %s: no refusal in %gs, concurrency no longer limited",
                self.model_id,
                self.aws_region,
                self._settings.recent_throttle_seconds,
            )

    def _learned_capacity(self) -> float:
        learned = self.learned
        if learned is None:
            return math.inf
        return float(max(self._settings.min_limit, math.floor(learned)))

    def _cap_capacity(self) -> float:
        return math.inf if self._cap is None else float(self._cap)

    def _someone_waiting(self) -> bool:
        return any(not waiter.done() for waiter in self._waiters)

    def _wake(self) -> None:
        """Grant slots to waiters, in order, while the limit allows."""
        capacity = self.limit
        while self._waiters and self._running < capacity:
            waiter = self._waiters.popleft()
            if waiter.done():
                continue
            self._running += 1
            waiter.set_result(self._window)

    def _drop_finished_waiters(self) -> None:
        while self._waiters and self._waiters[0].done():
            self._waiters.popleft()


class ConcurrencyLimits:
    """Every target's :class:`AdaptiveLimit`, created on first use; one set per gateway."""

    def __init__(
        self, settings: ConcurrencySettings | None = None, *, clock: Clock = time.monotonic
    ) -> None:
        self._settings = settings or ConcurrencySettings()
        self._clock = clock
        self._limits: dict[tuple[str, str], AdaptiveLimit] = {}

    @property
    def enabled(self) -> bool:
        return self._settings.enabled

    def get(self, model_id: str, aws_region: str, *, capped_as: str | None = None) -> AdaptiveLimit:
        """The limit kept under ``model_id`` in a region; its static cap is that of
        ``capped_as`` (the model of a per-tier limit, ``<model>+flex``) or ``model_id``."""
        key = (model_id, aws_region)
        limit = self._limits.get(key)
        if limit is None:
            cap = self._settings.static_caps.get(capped_as or model_id)
            limit = AdaptiveLimit(model_id, aws_region, self._settings, cap=cap, clock=self._clock)
            self._limits[key] = limit
        return limit

    def statuses(self) -> list[LimitStatus]:
        return [limit.status() for _, limit in sorted(self._limits.items())]
