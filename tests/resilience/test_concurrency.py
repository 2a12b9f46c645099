"""Concurrency limits learned from Bedrock's refusals: the rules, on a fake clock.

Nothing waits before Bedrock refuses; a refusal sets the limit from what Bedrock was serving,
once per window; accepted calls grow it back (slow start, then carefully); it goes away after a
quiet window; static caps always hold; waiters are let in first come, first served, get "busy"
only past the queue timeout, and never keep a slot when they leave. The same rules through a
real gateway on the emulator: ``test_concurrency_gateway.py``.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import AsyncIterator, Mapping

import pytest

from fmgate.config.gateway_settings import ConcurrencySettings
from fmgate.core.errors import (
    GatewayError,
    ModelBusy,
    ModelNotReady,
    ServiceUnavailable,
    Throttled,
    UpstreamUnavailable,
)
from fmgate.core.events import AnsweredBy, Done, Event, TextDelta
from fmgate.resilience.breaker import BreakerRegistry
from fmgate.resilience.concurrency import AdaptiveLimit, ConcurrencyLimits, Slot, Verdict
from fmgate.resilience.fallback import Target, stream_with_fallbacks
from fmgate.resilience.retry import RetryPolicy

RECENT = 60.0


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def limit_of(
    clock: FakeClock | None = None,
    *,
    cap: int | None = None,
    low: int = 1,
    ratio: float = 0.9,
    queue: float = 5.0,
) -> AdaptiveLimit:
    settings = ConcurrencySettings(
        min_limit=low,
        backoff_ratio=ratio,
        queue_timeout_seconds=queue,
        recent_throttle_seconds=RECENT,
    )
    return AdaptiveLimit("m", "us-east-1", settings, cap=cap, clock=clock or FakeClock())


async def slots(limit: AdaptiveLimit, count: int) -> list[Slot]:
    """``count`` slots, each granted at once (fails if one would have to wait)."""
    return [await asyncio.wait_for(limit.acquire(), 0.5) for _ in range(count)]


def refuse(slot: Slot) -> None:
    slot.observe(Verdict.THROTTLED)
    slot.release()


def finish(slot: Slot) -> None:
    slot.answer_started()
    slot.observe(Verdict.ANSWERED)
    slot.release()


async def until(condition: object, *, rounds: int = 100) -> None:
    """Let other tasks run until ``condition()`` holds (a bounded number of loop turns)."""
    assert callable(condition)
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("condition never held")


def queue_up(limit: AdaptiveLimit, count: int) -> list[asyncio.Task[Slot]]:
    return [asyncio.create_task(limit.acquire()) for _ in range(count)]


# -- before any refusal ----------------------------------------------------------------------


async def test_nothing_waits_before_bedrock_refuses_anything() -> None:
    limit = limit_of()
    held = await slots(limit, 1000)
    assert limit.limit == math.inf
    assert limit.learned is None
    assert (limit.running, limit.waiting, limit.queued) == (1000, 0, 0)
    for slot in held:
        finish(slot)
    assert limit.running == 0
    assert limit.status().limit == math.inf


@pytest.mark.parametrize(
    ("error", "refusal"),
    [
        (Throttled(), True),
        (ModelNotReady(), True),
        (ServiceUnavailable(), True),
        (UpstreamUnavailable(), False),  # a 5xx or a dropped connection says nothing of capacity
        (ModelBusy(), False),  # our own queue, not Bedrock
    ],
    ids=["throttled", "not-ready", "service-unavailable", "other-5xx", "our-busy"],
)
def test_what_counts_as_bedrock_refusing_for_want_of_capacity(
    error: GatewayError, refusal: bool
) -> None:
    assert error.capacity_refusal is refusal


# -- the cut ---------------------------------------------------------------------------------


async def test_a_refusal_sets_the_limit_from_what_bedrock_was_serving() -> None:
    limit = limit_of()
    held = await slots(limit, 10)
    for slot in held[:6]:
        slot.answer_started()  # Bedrock is answering six of them
    refuse(held[9])
    assert limit.learned == pytest.approx(6 * 0.9)
    assert limit.limit == 5  # whole calls
    assert limit.running == 9
    waiting = queue_up(limit, 1)
    await until(lambda: limit.waiting == 1)  # over the limit now: a new call waits
    for slot in held[:9]:
        slot.release()
    (await asyncio.wait_for(waiting[0], 1.0)).release()


async def test_refusals_cut_once_per_window_and_never_below_min_limit() -> None:
    limit = limit_of(low=2)
    held = await slots(limit, 10)
    for slot in held[:5]:
        slot.answer_started()
    for slot in held[5:]:  # admitted together, refused together: one cut
        refuse(slot)
    assert limit.learned == pytest.approx(5 * 0.9)
    for slot in held[:5]:
        finish(slot)
    later = await slots(limit, 2)  # admitted after the cut: may cut again
    refuse(later[0])
    assert limit.learned == 2.0  # nothing answering: min_limit
    refuse(later[1])
    assert limit.learned == 2.0


async def test_calls_bedrock_held_whose_answer_starts_after_the_refusal_count_too() -> None:
    limit = limit_of()
    held = await slots(limit, 10)
    refuse(held[0])  # before any first token came back
    assert limit.learned == 1.0
    for slot in held[1:]:  # ... Bedrock was serving these nine all along
        slot.answer_started()
    assert limit.learned == pytest.approx(9 * 0.9)
    for slot in held[1:]:
        finish(slot)


async def test_a_call_refused_mid_answer_is_not_counted_as_served() -> None:
    limit = limit_of(ratio=1.0)
    held = await slots(limit, 4)
    for slot in held:
        slot.answer_started()
    refuse(held[0])  # e.g. "too many tokens" after part of the answer
    assert limit.learned == 3.0
    for slot in held[1:]:
        slot.release()


# -- growth ----------------------------------------------------------------------------------


async def test_accepted_calls_grow_the_limit_back_slow_start_style_while_calls_wait() -> None:
    limit = limit_of()
    held = await slots(limit, 16)
    refuse(held[0])  # nothing answering: limit 1; half the 16 running then: the ceiling, 8
    for slot in held[1:]:
        slot.release()  # they failed otherwise: nothing learned
    assert limit.learned == 1.0
    running = await slots(limit, 1)
    waiters = queue_up(limit, 20)
    await until(lambda: limit.waiting == 20)
    taken: set[asyncio.Task[Slot]] = set()
    rounds = []
    while limit.limit < 8:  # a round trip: every running call is accepted, then finishes
        for slot in running:
            slot.answer_started()
        for slot in running:
            finish(slot)
        rounds.append(limit.limit)
        granted = len(waiters) - limit.waiting
        await until(lambda: sum(task.done() for task in waiters) == granted)  # noqa: B023
        fresh = [task for task in waiters if task.done() and task not in taken]
        taken.update(fresh)
        running = [task.result() for task in fresh]
    assert rounds == [2, 4, 8]  # doubling per round trip, up to the ceiling
    assert len(running) == 8
    for slot in running:
        slot.answer_started()  # past the ceiling: 1 / limit per accepted call
    assert limit.learned is not None
    assert 8 < limit.learned < 9
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    for slot in running:
        slot.release()
    assert (limit.running, limit.waiting) == (0, 0)


async def test_bedrock_serving_more_than_the_ceiling_means_room_grew_slow_start_again() -> None:
    limit = limit_of(ratio=1.0)
    held = await slots(limit, 5)
    for slot in held[:4]:
        slot.answer_started()
    refuse(held[4])  # Bedrock served four and refused a fifth: limit 4, ceiling 4
    running = held[:4]
    waiters = queue_up(limit, 30)
    await until(lambda: limit.waiting == 30)
    taken: set[asyncio.Task[Slot]] = set()
    steps: list[float] = []
    while len(steps) < 10:
        granted = len(waiters) - limit.waiting
        await until(lambda: sum(task.done() for task in waiters) == granted)  # noqa: B023
        fresh = [task for task in waiters if task.done() and task not in taken]
        taken.update(fresh)
        if not fresh:
            finish(running.pop(0))  # a call ends: its slot goes to the next in line
            continue
        for task in fresh:
            before = limit.learned
            task.result().answer_started()
            assert before is not None
            assert limit.learned is not None
            steps.append(round(limit.learned - before, 3))
            running.append(task.result())
    assert all(step < 0.3 for step in steps[:5])  # 1 / limit: carefully past the ceiling
    assert steps[5:] == [1.0] * 5  # five answering at once, more than the ceiling: slow start
    for task in waiters:
        task.cancel()
    await asyncio.gather(*waiters, return_exceptions=True)
    for slot in running:
        slot.release()
    assert (limit.running, limit.waiting) == (0, 0)


async def test_nothing_grows_while_nobody_waits() -> None:
    limit = limit_of()
    held = await slots(limit, 3)
    refuse(held[0])
    for slot in held[1:]:
        slot.release()
    learned = limit.learned
    for slot in await slots(limit, 1):
        finish(slot)  # admitted after the cut and accepted, but no one was waiting
    assert limit.learned == learned == 1.0


# -- back to no limit ------------------------------------------------------------------------


async def test_the_limit_goes_away_after_a_quiet_window_and_waiters_are_let_in() -> None:
    clock = FakeClock()
    limit = limit_of(clock)
    held = await slots(limit, 3)
    refuse(held[0])
    assert limit.limit == 1
    waiters = queue_up(limit, 5)
    await until(lambda: limit.waiting == 5)
    clock.advance(RECENT - 1)
    assert limit.limit == 1  # still recent
    held[1].release()
    assert limit.waiting == 5  # two running, limit one: nobody let in
    clock.advance(1)
    assert limit.limit == math.inf
    held[2].release()  # the next event lets everyone in, in order
    granted = [await asyncio.wait_for(task, 1.0) for task in waiters]
    assert (limit.running, limit.waiting) == (5, 0)
    for slot in granted:
        slot.release()
    # A refusal after the quiet window cuts afresh.
    again = await slots(limit, 2)
    again[0].answer_started()
    refuse(again[1])
    assert limit.learned == 1.0  # one answering * 0.9, but never below min_limit
    again[0].release()


async def test_each_refusal_restarts_the_quiet_window() -> None:
    clock = FakeClock()
    limit = limit_of(clock)
    held = await slots(limit, 3)
    refuse(held[0])
    clock.advance(RECENT / 2)
    refuse(held[1])  # admitted before the cut: no new cut, but Bedrock is still refusing
    clock.advance(RECENT / 2 + 1)
    assert limit.limit == 1
    clock.advance(RECENT / 2)
    assert limit.limit == math.inf
    held[2].release()


# -- static caps -----------------------------------------------------------------------------


async def test_a_static_cap_holds_without_any_refusal_and_the_learned_limit_below_it() -> None:
    limit = limit_of(cap=3, ratio=1.0)
    held = await slots(limit, 3)
    assert limit.limit == 3
    waiting = queue_up(limit, 2)
    await until(lambda: limit.waiting == 2)
    assert limit.queued == 2
    held[0].answer_started()
    refuse(held[1])
    assert limit.limit == 1  # learned from the refusal, below the cap
    held[0].release()
    held[2].release()
    first = await asyncio.wait_for(waiting[0], 1.0)
    assert limit.waiting == 1
    first.answer_started()  # accepted while one waits: grows, but never past the cap
    second = await asyncio.wait_for(waiting[1], 1.0)
    second.answer_started()
    assert limit.limit <= 3
    first.release()
    second.release()


async def test_static_caps_are_per_model_in_each_region() -> None:
    limits = ConcurrencyLimits(ConcurrencySettings(static_caps={"m": 2}))
    assert limits.get("m", "us-east-1").limit == 2
    assert limits.get("m", "us-west-2").limit == 2
    assert limits.get("other", "us-east-1").limit == math.inf


# -- the queue -------------------------------------------------------------------------------


async def test_waiters_are_let_in_first_come_first_served() -> None:
    limit = limit_of(cap=1)
    first = await limit.acquire()
    order: list[str] = []

    async def wait(name: str) -> None:
        slot = await limit.acquire()
        order.append(name)
        slot.release()

    waiting = [asyncio.create_task(wait(name)) for name in ("a", "b", "c")]
    await until(lambda: limit.waiting == 3)
    assert order == []
    first.release()
    await asyncio.gather(*waiting)
    assert order == ["a", "b", "c"]
    assert (limit.running, limit.waiting) == (0, 0)


async def test_a_wait_past_the_queue_timeout_is_model_busy_and_not_before() -> None:
    limit = limit_of(cap=1, queue=0.05)
    held = await limit.acquire()
    with pytest.raises(ModelBusy) as busy:
        await limit.acquire()
    assert busy.value.retryable
    assert busy.value.code == "busy"
    assert "busy" in busy.value.user_message
    assert (limit.running, limit.waiting, limit.queued) == (1, 0, 1)
    waiter = asyncio.create_task(limit.acquire())
    await until(lambda: limit.waiting == 1)
    held.release()  # freed in time: a slot, not busy
    (await asyncio.wait_for(waiter, 1.0)).release()
    assert (limit.running, limit.waiting) == (0, 0)


async def test_a_cancelled_waiter_never_holds_a_slot() -> None:
    limit = limit_of(cap=1)
    held = await limit.acquire()
    waiter = asyncio.create_task(limit.acquire())
    await until(lambda: limit.waiting == 1)
    held.release()  # the slot is granted to the waiter ...
    waiter.cancel()  # ... which is cancelled before it runs: the slot must come back
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert limit.running == 0
    slot = await asyncio.wait_for(limit.acquire(), 1.0)
    slot.release()


async def test_a_waiter_cancelled_in_line_leaves_no_trace() -> None:
    limit = limit_of(cap=1)
    held = await limit.acquire()
    leaving, staying = queue_up(limit, 2)
    await until(lambda: limit.waiting == 2)
    leaving.cancel()
    await asyncio.gather(leaving, return_exceptions=True)
    assert limit.waiting == 1
    held.release()
    (await asyncio.wait_for(staying, 1.0)).release()
    assert (limit.running, limit.waiting) == (0, 0)


async def test_release_is_idempotent_and_limits_are_per_target() -> None:
    limits = ConcurrencyLimits(ConcurrencySettings())
    east = limits.get("m", "us-east-1")
    assert limits.get("m", "us-east-1") is east
    slot = await east.acquire()
    slot.release()
    slot.release()
    slot.answer_started()  # after release: ignored
    assert east.running == 0
    assert limits.get("m", "us-west-2") is not east
    assert [(s.aws_region, s.running) for s in limits.statuses()] == [
        ("us-east-1", 0),
        ("us-west-2", 0),
    ]


# -- through the fallback loop ---------------------------------------------------------------

PRIMARY = Target("us.amazon.nova-pro-v1:0", "us-east-1", "primary")
WEST = Target("amazon.nova-pro-v1:0", "us-west-2", "west")


class Upstream:
    """Scripted targets: errors for the next calls, then an answer; the running limit seen."""

    def __init__(
        self, limits: ConcurrencyLimits, failures: Mapping[Target, list[GatewayError]]
    ) -> None:
        self.limits = limits
        self.failures = {target: list(errors) for target, errors in failures.items()}
        self.seen: list[tuple[Target, int]] = []

    async def call(self, target: Target) -> AsyncIterator[Event]:
        running = self.limits.get(target.model_id, target.aws_region).running
        self.seen.append((target, running))
        pending = self.failures.get(target, [])
        if pending:
            raise pending.pop(0)
        yield TextDelta(f"from {target.label}")
        yield Done()


async def answer(upstream: Upstream, targets: tuple[Target, ...]) -> list[Event]:
    async def no_sleep(delay: float) -> None:
        return None

    return [
        event
        async for event in stream_with_fallbacks(
            targets,
            upstream.call,
            policy=RetryPolicy(max_attempts=3, base_delay=0, max_delay=0),
            breakers=BreakerRegistry(),
            limits=upstream.limits,
            sleep=no_sleep,
        )
    ]


async def test_each_call_takes_its_own_slot_and_a_refused_one_gives_it_back() -> None:
    limits = ConcurrencyLimits(ConcurrencySettings(static_caps={PRIMARY.model_id: 1}))
    upstream = Upstream(limits, {PRIMARY: [Throttled(), Throttled()]})
    events = await answer(upstream, (PRIMARY, WEST))
    assert events == [TextDelta("from primary"), Done()]
    assert upstream.seen == [(PRIMARY, 1)] * 3  # one slot per call, never two at once
    primary = limits.get(PRIMARY.model_id, PRIMARY.aws_region)
    assert primary.running == 0
    assert primary.learned == 1.0  # the refusals were learned


async def test_a_busy_target_sends_the_call_to_the_next_one_or_reports_busy() -> None:
    settings = ConcurrencySettings(static_caps={PRIMARY.model_id: 1}, queue_timeout_seconds=0.05)
    limits = ConcurrencyLimits(settings)
    primary = limits.get(PRIMARY.model_id, PRIMARY.aws_region)
    held = await primary.acquire()
    upstream = Upstream(limits, {})
    events = await answer(upstream, (PRIMARY, WEST))
    assert events == [AnsweredBy(WEST.model_id, WEST.aws_region), TextDelta("from west"), Done()]
    with pytest.raises(ModelBusy):
        await answer(upstream, (PRIMARY,))
    assert upstream.seen == [(WEST, 1)]  # the busy primary was never called
    held.release()
    assert primary.running == 0


async def test_disabled_limits_take_no_slots() -> None:
    settings = ConcurrencySettings(enabled=False, static_caps={PRIMARY.model_id: 1})
    limits = ConcurrencyLimits(settings)
    upstream = Upstream(limits, {PRIMARY: [Throttled()]})
    assert (await answer(upstream, (PRIMARY,)))[-1] == Done()
    assert upstream.seen == [(PRIMARY, 0), (PRIMARY, 0)]
    assert limits.get(PRIMARY.model_id, PRIMARY.aws_region).learned is None


def test_a_tier_limit_is_learned_apart_but_capped_as_its_model() -> None:
    limits = ConcurrencyLimits(ConcurrencySettings(static_caps={"amazon.nova-pro-v1:0": 4}))
    flex = Target("amazon.nova-pro-v1:0", "us-east-1", "flex", service_tier="flex")
    standard = Target("amazon.nova-pro-v1:0", "us-east-1", "standard", service_tier="default")
    assert (flex.capacity_id, standard.capacity_id) == (
        "amazon.nova-pro-v1:0+flex",
        "amazon.nova-pro-v1:0",
    )
    tier_limit = limits.get(flex.capacity_id, "us-east-1", capped_as=flex.model_id)
    assert tier_limit is not limits.get(standard.capacity_id, "us-east-1")
    assert tier_limit.status().limit == 4
