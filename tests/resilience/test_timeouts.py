"""Stream timeouts cut a silent stream and close it; a timely stream passes unchanged."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from fmgate.core.errors import UpstreamTimeout
from fmgate.core.events import Done, Event, TextDelta
from fmgate.resilience.timeouts import with_deadline, with_stream_timeouts


class Script:
    """An event stream that waits where told (a silent upstream) and records its closing."""

    def __init__(self, *steps: Event | float) -> None:
        self.steps = steps
        self.closed = False

    async def events(self) -> AsyncIterator[Event]:
        try:
            for step in self.steps:
                if isinstance(step, float):
                    await asyncio.sleep(step)
                else:
                    yield step
        finally:
            self.closed = True


async def collect(events: AsyncIterator[Event], into: list[Event]) -> None:
    async for event in events:
        into.append(event)


async def test_timely_stream_passes_unchanged() -> None:
    script = Script(TextDelta("a"), TextDelta("b"), Done())
    seen: list[Event] = []
    await collect(
        with_stream_timeouts(script.events(), first_output_seconds=5, idle_seconds=5), seen
    )
    assert seen == [TextDelta("a"), TextDelta("b"), Done()]
    assert script.closed


async def test_no_first_output_is_a_timeout_and_closes_the_stream() -> None:
    script = Script(3600.0, TextDelta("late"))
    seen: list[Event] = []
    with pytest.raises(UpstreamTimeout) as error:
        await collect(
            with_stream_timeouts(script.events(), first_output_seconds=0.05, idle_seconds=5), seen
        )
    assert error.value.retryable
    assert seen == []
    assert script.closed


async def test_silence_after_output_is_a_timeout_after_what_was_delivered() -> None:
    script = Script(TextDelta("a"), 3600.0, TextDelta("never"))
    seen: list[Event] = []
    with pytest.raises(UpstreamTimeout):
        await collect(
            with_stream_timeouts(script.events(), first_output_seconds=5, idle_seconds=0.05), seen
        )
    assert seen == [TextDelta("a")]
    assert script.closed


async def test_deadline_cuts_a_stream_that_keeps_talking_too_long() -> None:
    async def chatty() -> AsyncIterator[Event]:
        while True:
            await asyncio.sleep(0.01)
            yield TextDelta("x")

    seen: list[Event] = []
    with pytest.raises(UpstreamTimeout):
        await collect(with_deadline(chatty(), 0.1), seen)
    assert seen  # it did deliver before the deadline


async def test_a_timeout_raised_by_the_stream_itself_is_not_relabelled() -> None:
    nothing: tuple[Event, ...] = ()

    async def failing() -> AsyncIterator[Event]:
        for event in nothing:
            yield event
        raise TimeoutError("the stream's own")

    with pytest.raises(TimeoutError) as error:
        await collect(with_stream_timeouts(failing(), first_output_seconds=5, idle_seconds=5), [])
    assert not isinstance(error.value, UpstreamTimeout)


async def test_events_sooner_than_the_idle_limit_pass_however_long_the_stream() -> None:
    # The one timer is armed for the first wait's limit and fires mid-stream while events are
    # still flowing: it must re-arm for the wait in progress, not cut the stream.
    async def steady() -> AsyncIterator[Event]:
        for _ in range(12):
            await asyncio.sleep(0.01)
            yield TextDelta("x")
        yield Done()

    seen: list[Event] = []
    await collect(with_stream_timeouts(steady(), first_output_seconds=5, idle_seconds=0.03), seen)
    assert len(seen) == 13


async def test_a_timeout_leaves_the_task_uncancelled() -> None:
    script = Script(TextDelta("a"), 3600.0)
    with pytest.raises(UpstreamTimeout):
        await collect(
            with_stream_timeouts(script.events(), first_output_seconds=5, idle_seconds=0.02), []
        )
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0
    await asyncio.sleep(0.01)  # no cancellation is left pending either


async def test_a_callers_cancel_stays_a_cancel() -> None:
    script = Script(TextDelta("a"), 3600.0)
    seen: list[Event] = []
    consumer = asyncio.create_task(
        collect(with_stream_timeouts(script.events(), first_output_seconds=5, idle_seconds=5), seen)
    )
    await asyncio.sleep(0.02)
    consumer.cancel()
    with pytest.raises(asyncio.CancelledError):
        await consumer
    assert seen == [TextDelta("a")]
    assert script.closed


async def test_nested_limits_each_name_their_own_expiry() -> None:
    # The whole-answer deadline around a per-attempt idle limit, as a chat bot nests them.
    async def chatty() -> AsyncIterator[Event]:
        while True:
            await asyncio.sleep(0.01)
            yield TextDelta("x")

    inner = with_stream_timeouts(chatty(), first_output_seconds=5, idle_seconds=5)
    with pytest.raises(UpstreamTimeout) as error:
        await collect(with_deadline(inner, 0.08), [])
    assert "no complete answer" in str(error.value)

    silent = with_stream_timeouts(
        Script(3600.0).events(), first_output_seconds=0.03, idle_seconds=5
    )
    with pytest.raises(UpstreamTimeout) as first:
        await collect(with_deadline(silent, 5), [])
    assert "no first output" in str(first.value)
