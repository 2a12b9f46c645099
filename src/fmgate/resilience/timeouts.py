"""Timeouts on event streams: first output, silence between events, and a whole-answer deadline.

Each wraps a stream and bounds every wait for its next event (``asyncio.timeout_at`` around
``anext``, in the consumer's own task), so the time a front spends sending to its client is
never counted, and a cancellation never lands outside the wait it was meant for. When a limit
passes, the wrapped stream is cancelled where it waits (closing its Bedrock response, so the
pooled connection is released) and :class:`~fmgate.core.errors.UpstreamTimeout` is raised: retryable
before the first output, an error event after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator

from fmgate.core.errors import UpstreamTimeout
from fmgate.core.events import OUTPUT_EVENTS, Event


async def _next_before(events: AsyncIterator[Event], when: float, what: str) -> Event:
    """The next event if it arrives before loop time ``when``; ``StopAsyncIteration`` at the end."""
    limit = asyncio.timeout_at(when)
    try:
        async with limit:
            return await anext(events)
    except TimeoutError as exc:
        if limit.expired():
            raise UpstreamTimeout(what) from exc
        raise


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
    first_output_by = loop.time() + first_output_seconds
    started = False
    try:
        while True:
            if started:
                when, what = loop.time() + idle_seconds, f"no event for {idle_seconds:g}s"
            else:
                when, what = first_output_by, f"no first output in {first_output_seconds:g}s"
            try:
                event = await _next_before(events, when, what)
            except StopAsyncIteration:
                return
            started = started or isinstance(event, OUTPUT_EVENTS)
            yield event
    finally:
        await _close(events)


async def with_deadline(
    events: AsyncIterator[Event], seconds: float
) -> AsyncGenerator[Event, None]:
    """``events``, cut with :class:`UpstreamTimeout` once ``seconds`` have passed in all."""
    deadline = asyncio.get_running_loop().time() + seconds
    what = f"no complete answer in {seconds:g}s"
    try:
        while True:
            try:
                event = await _next_before(events, deadline, what)
            except StopAsyncIteration:
                return
            yield event
    finally:
        await _close(events)
