"""Process saturation: when this gateway process is too busy for more work, refuse it at once.

Two signals, both read per request as a plain number (``gateway.overload``):

    open streams     requests being answered right now, every front, streamed or whole
                     (counted from the bot's start to its end)           vs max_streams
    event-loop lag   how late the loop runs a timer: a small task sleeps SAMPLE_SECONDS and
                     measures how much later it woke; smoothed (EWMA)    vs max_loop_lag_seconds

Over either limit the process is *saturated*: each front refuses new requests with a fast,
retryable answer in its own shape (``fmgate.fronts.pipeline``, ``fmgate.fronts.poe.routes``)
and ``/readyz`` answers 503, so callers retry elsewhere and the load balancer sends traffic to
other replicas. Requests already running are left alone: refusing new work is what lets them
end well instead of every request slowing down together.

The request path pays a comparison of an int and a float (:meth:`OverloadGuard.saturation`);
sampling, smoothing and logging run in the monitor task (:meth:`OverloadGuard.monitoring`),
which logs when saturation begins and ends and then at most once per LOG_EVERY_SECONDS.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from fmgate.config.gateway_settings import OverloadSettings

logger = logging.getLogger("fmgate.overload")

#: How often the monitor samples the loop's lag (seconds).
SAMPLE_SECONDS = 0.1
#: Weight of each new sample in the smoothed lag (time constant about SAMPLE_SECONDS / 0.25).
SMOOTHING = 0.25
#: Longest interval between two "still saturated" log lines.
LOG_EVERY_SECONDS = 10.0

Reason = Literal["streams", "loop_lag"]

#: Called for every refused request: (reason, front).
RefusalListener = Callable[[Reason, str], None]

#: Called with every lag sample, in seconds.
LagListener = Callable[[float], None]


def ignore_refusal(reason: Reason, front: str) -> None:
    """The default refusal listener."""


def ignore_sample(seconds: float) -> None:
    """The default lag listener."""


@dataclass(frozen=True, slots=True)
class Saturation:
    """Why the process takes no new request right now, and the figures that say so."""

    reason: Reason
    open_streams: int
    loop_lag_seconds: float

    def as_json(self) -> dict[str, object]:
        return {
            "reason": self.reason,
            "open_streams": self.open_streams,
            "loop_lag_seconds": round(self.loop_lag_seconds, 4),
        }


class OverloadGuard:
    """This process's load against ``gateway.overload``: one per gateway."""

    def __init__(
        self,
        settings: OverloadSettings | None = None,
        *,
        on_refused: RefusalListener = ignore_refusal,
        on_lag_sample: LagListener = ignore_sample,
    ) -> None:
        settings = settings or OverloadSettings()
        self.retry_after_seconds = settings.retry_after_seconds
        self._max_streams = settings.max_streams
        self._max_lag = settings.max_loop_lag_seconds
        self._on_refused = on_refused
        self._on_lag_sample = on_lag_sample
        #: Requests being answered now (see :meth:`stream_opened`).
        self.open_streams = 0
        #: The event loop's smoothed lag, in seconds.
        self.loop_lag_seconds = 0.0
        self._refused = 0

    def stream_opened(self) -> None:
        """A request's answer began; pair with :meth:`stream_closed`."""
        self.open_streams += 1

    def stream_closed(self) -> None:
        self.open_streams -= 1

    def saturation(self) -> Saturation | None:
        """Why the process is saturated now, or None (cheap: the request path asks it)."""
        if self._max_streams is not None and self.open_streams >= self._max_streams:
            return Saturation("streams", self.open_streams, self.loop_lag_seconds)
        if self._max_lag is not None and self.loop_lag_seconds > self._max_lag:
            return Saturation("loop_lag", self.open_streams, self.loop_lag_seconds)
        return None

    def check(self, front: str) -> Saturation | None:
        """:meth:`saturation` for a new request of ``front``; a refusal is counted."""
        saturation = self.saturation()
        if saturation is not None:
            self._refused += 1
            self._on_refused(saturation.reason, front)
        return saturation

    def sample(self, late_seconds: float) -> None:
        """One lag sample: how late the monitor's timer ran."""
        self.loop_lag_seconds += SMOOTHING * (late_seconds - self.loop_lag_seconds)
        self._on_lag_sample(late_seconds)

    @asynccontextmanager
    async def monitoring(self) -> AsyncIterator[OverloadGuard]:
        """Sample the loop's lag (and log saturation) while the ``async with`` block runs."""
        task = asyncio.get_running_loop().create_task(self._monitor(), name="fmgate-overload")
        try:
            yield self
        finally:
            task.cancel()
            await asyncio.wait((task,))

    async def _monitor(self) -> None:
        loop = asyncio.get_running_loop()
        log = SaturationLog()
        while True:
            expected = loop.time() + SAMPLE_SECONDS
            await asyncio.sleep(SAMPLE_SECONDS)
            self.sample(max(0.0, loop.time() - expected))
            log.update(self.saturation(), self._refused)


class SaturationLog:
    """Saturation in the log: when it begins, every LOG_EVERY_SECONDS while it lasts, when it
    ends; never a line per request."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._saturated = False
        self._logged_at = 0.0
        self._refused_at_log = 0

    def update(self, saturation: Saturation | None, refused_total: int) -> None:
        now = self._clock()
        refused = refused_total - self._refused_at_log
        if saturation is None:
            if self._saturated:
                self._saturated = False
                logger.info("no longer saturated; %d new requests were refused since", refused)
                self._logged(now, refused_total)
            return
        figures = (saturation.reason, saturation.open_streams, saturation.loop_lag_seconds)
        if not self._saturated:
            self._saturated = True
            logger.warning(
                "saturated (%s: %d open streams, event loop %.3f s late): refusing new requests",
                *figures,
            )
            self._logged(now, refused_total)
        elif now - self._logged_at >= LOG_EVERY_SECONDS:
            logger.warning(
                "still saturated (%s: %d open streams, event loop %.3f s late): "
                "%d new requests refused in the last %.0f s",
                *figures,
                refused,
                now - self._logged_at,
            )
            self._logged(now, refused_total)

    def _logged(self, now: float, refused_total: int) -> None:
        self._logged_at = now
        self._refused_at_log = refused_total
