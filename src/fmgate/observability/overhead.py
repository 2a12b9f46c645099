"""The gateway's own time in a request: how long it took, minus the time waiting on Bedrock.

A :class:`RequestClock` starts when a request arrives (the front's first line). Each Bedrock call
is marked with :func:`upstream_call` where it is made (``fmgate.bedrock``: from handing the
request to aiobotocore to the end of its answer, a streamed one included; a video job from its
start to its result). The marks find the request's clock through a context variable, which the
front binds for the request (:func:`bind_clock`), so nothing between the front and Bedrock
passes it along. Calls that overlap count once (the clock keeps the union of their intervals).

What the clock gives, observed once per request by the finisher (``fmgate_gateway_overhead_*``):

    before_upstream   arrival -> the first Bedrock call handed to aiobotocore: what the
                      gateway adds to the time to first token
    own               arrival -> the request's end, minus the time a Bedrock call was open

The hot path pays two ``perf_counter`` reads per Bedrock call, never anything per token.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar


class RequestClock:
    """Where one request's time went: the gateway's, or a Bedrock call's."""

    __slots__ = ("_open", "_open_since", "_upstream", "arrived", "first_call")

    def __init__(self, arrived: float | None = None) -> None:
        #: ``perf_counter`` when the request arrived.
        self.arrived = time.perf_counter() if arrived is None else arrived
        #: ``perf_counter`` when the first Bedrock call began (None: no call was made).
        self.first_call: float | None = None
        self._upstream = 0.0
        self._open = 0
        self._open_since = 0.0

    def call_started(self) -> None:
        now = time.perf_counter()
        if self.first_call is None:
            self.first_call = now
        if self._open == 0:
            self._open_since = now
        self._open += 1

    def call_ended(self) -> None:
        self._open -= 1
        if self._open == 0:
            self._upstream += time.perf_counter() - self._open_since

    @property
    def before_upstream_seconds(self) -> float | None:
        """Arrival to the first Bedrock call, or None when the request made none."""
        return None if self.first_call is None else self.first_call - self.arrived

    def upstream_seconds(self, until: float) -> float:
        """Time with at least one Bedrock call open up to ``until`` (a call still open counts
        up to then)."""
        if self._open > 0:
            return self._upstream + max(0.0, until - self._open_since)
        return self._upstream

    def own_seconds(self, until: float) -> float:
        """Arrival to ``until``, minus the time waiting on Bedrock."""
        return max(0.0, until - self.arrived - self.upstream_seconds(until))


_current_clock: ContextVar[RequestClock | None] = ContextVar("fmgate_clock", default=None)


def bind_clock(clock: RequestClock) -> None:
    """Mark Bedrock calls made by the current task (and tasks it starts) on ``clock``."""
    _current_clock.set(clock)


@contextmanager
def upstream_call() -> Iterator[None]:
    """A Bedrock call in progress for the current request's clock (none bound: nothing)."""
    clock = _current_clock.get()
    if clock is None:
        yield
        return
    clock.call_started()
    try:
        yield
    finally:
        clock.call_ended()
