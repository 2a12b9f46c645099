"""The request clock: the gateway's own time is what is left when Bedrock's calls are taken out
(overlapping calls once), and calls are marked only for the request bound to the task."""

from __future__ import annotations

import asyncio
import time

import pytest

from fmgate.observability.overhead import RequestClock, bind_clock, upstream_call


class Now:
    """``time.perf_counter`` as the test sets it."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.value = 100.0
        monkeypatch.setattr(time, "perf_counter", lambda: self.value)


@pytest.fixture
def now(monkeypatch: pytest.MonkeyPatch) -> Now:
    return Now(monkeypatch)


def test_no_call_no_overhead_figures(now: Now) -> None:
    clock = RequestClock()
    assert clock.before_upstream_seconds is None
    now.value += 2
    assert clock.own_seconds(now.value) == 2


def test_time_before_between_and_after_calls_is_the_gateways(now: Now) -> None:
    clock = RequestClock(arrived=now.value)
    now.value += 0.004  # body, parsing, admission, building the request
    clock.call_started()
    now.value += 1.0  # Bedrock
    clock.call_ended()
    now.value += 0.25  # retry backoff
    clock.call_started()
    now.value += 2.0
    clock.call_ended()
    now.value += 0.001  # the last events rendered
    assert clock.before_upstream_seconds == pytest.approx(0.004)
    assert clock.upstream_seconds(now.value) == pytest.approx(3.0)
    assert clock.own_seconds(now.value) == pytest.approx(0.255)


def test_overlapping_calls_count_once(now: Now) -> None:
    clock = RequestClock(arrived=now.value)
    clock.call_started()
    now.value += 1.0
    clock.call_started()  # a second call while the first runs (several images at once)
    now.value += 1.0
    clock.call_ended()
    now.value += 1.0
    clock.call_ended()
    assert clock.upstream_seconds(now.value) == pytest.approx(3.0)
    assert clock.own_seconds(now.value) == pytest.approx(0.0)


def test_a_call_still_open_counts_up_to_the_end(now: Now) -> None:
    clock = RequestClock(arrived=now.value)
    now.value += 0.5
    clock.call_started()
    now.value += 4.0
    assert clock.upstream_seconds(now.value) == pytest.approx(4.0)
    assert clock.own_seconds(now.value) == pytest.approx(0.5)


async def test_calls_are_marked_on_the_clock_bound_to_the_task_and_tasks_it_starts() -> None:
    with upstream_call():  # no request bound: nothing to mark, nothing fails
        pass
    clock = RequestClock()

    async def request() -> None:
        bind_clock(clock)
        with upstream_call():
            await asyncio.sleep(0)

        async def waiter() -> None:  # a task started by the request (a video job's waiter)
            with upstream_call():
                await asyncio.sleep(0)

        await asyncio.create_task(waiter())

    other = RequestClock()

    async def unrelated() -> None:
        bind_clock(other)

    await asyncio.gather(request(), unrelated())
    assert clock.first_call is not None
    assert other.first_call is None
    with upstream_call():  # the test's own task never bound a clock
        pass
    assert other.first_call is None
