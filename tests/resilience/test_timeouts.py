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
