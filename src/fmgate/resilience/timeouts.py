"""Timeouts on event streams: first output, silence between events, and a whole-answer deadline.

Each wraps a stream and bounds every wait for its next event, in the consumer's own task, so
the time a front spends sending to its client is never counted, and a cancellation never lands
outside the wait it was meant for. When a limit passes, the wrapped stream is cancelled where it
waits (closing its Bedrock response, so the pooled connection is released) and
:class:`~fmgate.core.errors.UpstreamTimeout` is raised: retryable before the first output, an
error event after it.

A stream yields an event per token, so the limit is a :class:`WaitLimit`: one timer per stream,
armed lazily, instead of an ``asyncio.timeout`` (an object and a timer) for every wait.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncGenerator, AsyncIterator

from fmgate.core.errors import UpstreamTimeout
from fmgate.core.events import OUTPUT_EVENTS, Event


class WaitLimit:
    """Bounds one stream's waits for its next event, each by a loop time of its own.

    Its one timer is armed for the earliest limit a wait needs and left alone while later waits
    end sooner than it fires (the usual case: an idle limit moves forward with every event).
    When it fires during a wait whose limit has passed, it cancels the waiting task, as
    ``asyncio.timeout`` does, and the wait raises :class:`UpstreamTimeout`; otherwise it is
    re-armed for the wait in progress, or left unarmed until the next wait.
    """

    __slots__ = ("_armed_for", "_cancelling", "_expired", "_handle", "_loop", "_task", "_when")

    def __init__(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._handle: asyncio.TimerHandle | None = None
        #: The loop time the timer fires at (infinity: not armed).
        self._armed_for = math.inf
        #: The limit of the wait in progress (infinity: not waiting).
        self._when = math.inf
        self._task: asyncio.Task[object] | None = None
        self._cancelling = 0
        self._expired = False

    async def next(self, events: AsyncIterator[Event], when: float, what: str) -> Event:
        """The next event of ``events`` if it arrives before loop time ``when``, else
        :class:`UpstreamTimeout` (``what`` says which limit); ``StopAsyncIteration`` at the end."""
        task = asyncio.current_task()
        assert task is not None, "a wait limit bounds waits in a task"
        self._task, self._when, self._cancelling = task, when, task.cancelling()
        if when < self._armed_for:
            self._arm(when)
        try:
            return await anext(events)
        except asyncio.CancelledError:
            if self._took_back_cancel(task):
                raise UpstreamTimeout(what) from None
            raise
        finally:
            self._when, self._task = math.inf, None
            if self._expired:  # the stream finished the wait anyway: the cancel is ours to undo
                self._took_back_cancel(task)

    def close(self) -> None:
        """Disarm the timer (the stream is done)."""
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None
        self._armed_for = math.inf

    def _took_back_cancel(self, task: asyncio.Task[object]) -> bool:
        """Whether this limit expired, and the task's cancellation was only its own."""
        if not self._expired:
            return False
        self._expired = False
        return task.uncancel() <= self._cancelling

    def _arm(self, when: float) -> None:
        if self._handle is not None:
            self._handle.cancel()
        self._armed_for = when
        self._handle = self._loop.call_at(when, self._fire)

    def _fire(self) -> None:
        fired_for, self._handle, self._armed_for = self._armed_for, None, math.inf
        if self._task is None:
            return  # between waits: the next one arms the timer again
        if self._when <= fired_for:
            self._expired = True
            self._task.cancel()
        else:
            self._arm(self._when)


async def _close(events: AsyncIterator[Event]) -> None:
    if isinstance(events, AsyncGenerator):
        await events.aclose()


async def with_stream_timeouts(
    events: AsyncIterator[Event], *, first_output_seconds: float, idle_seconds: float
) -> AsyncGenerator[Event, None]:
    """``events``, cut with :class:`UpstreamTimeout` when the first output takes longer than
    ``first_output_seconds`` (counted from the first wait: connecting and the model's time to
    first token), or when ``idle_seconds`` pass between two events after that."""
    loop = asyncio.get_running_loop()
    when = loop.time() + first_output_seconds
    what = f"no first output in {first_output_seconds:g}s"
    idle = f"no event for {idle_seconds:g}s"
    started = False
    limit = WaitLimit()
    try:
        while True:
            try:
                event = await limit.next(events, when, what)
            except StopAsyncIteration:
                return
            if not started and isinstance(event, OUTPUT_EVENTS):
                started, what = True, idle
            if started:
                when = loop.time() + idle_seconds
            yield event
    finally:
        limit.close()
        await _close(events)


async def with_deadline(
    events: AsyncIterator[Event], seconds: float
) -> AsyncGenerator[Event, None]:
    """``events``, cut with :class:`UpstreamTimeout` once ``seconds`` have passed in all."""
    deadline = asyncio.get_running_loop().time() + seconds
    what = f"no complete answer in {seconds:g}s"
    limit = WaitLimit()
    try:
        while True:
            try:
                event = await limit.next(events, deadline, what)
            except StopAsyncIteration:
                return
            yield event
    finally:
        limit.close()
        await _close(events)
