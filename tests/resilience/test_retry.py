"""retry_before_first_output and the backoff rules, with plain async generators."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import pytest

from fmgate.core.errors import (
    AccessDenied,
    ContextTooLong,
    GatewayError,
    ModelStreamFailed,
    Throttled,
    UpstreamUnavailable,
)
from fmgate.core.events import Done, Event, Notice, TextDelta, Usage
from fmgate.resilience.retry import (
    RetryPolicy,
    backoff_delay,
    is_retryable,
    retry_before_first_output,
)

POLICY = RetryPolicy(max_attempts=3, base_delay=1.0, max_delay=3.0)


class Script:
    """Attempts that fail with the listed errors (None: succeed), counting opens and closes."""

    def __init__(self, *failures: GatewayError | None, output_first: bool = False) -> None:
        self.failures = list(failures)
        self.output_first = output_first
        self.opened = 0
        self.closed = 0

    async def attempt(self) -> AsyncIterator[Event]:
        self.opened += 1
        failure = self.failures.pop(0) if self.failures else None
        try:
            yield Notice("starting")
            if self.output_first:
                yield TextDelta("partial")
            if failure is not None:
                raise failure
            yield TextDelta("hello")
            yield Usage(input_tokens=1, output_tokens=1)
            yield Done()
        finally:
            self.closed += 1


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


async def collect(stream: AsyncIterator[Event], into: list[Event] | None = None) -> list[Event]:
    """Every event of ``stream``, appended to ``into`` as they come (kept when it fails)."""
    seen = into if into is not None else []
    async for event in stream:
        seen.append(event)
    return seen


@pytest.mark.parametrize(
    ("error", "retryable"),
    [
        (Throttled(), True),
        (UpstreamUnavailable(), True),
        (ModelStreamFailed(), True),
        (AccessDenied(), False),
        (ContextTooLong(), False),
    ],
)
def test_is_retryable_follows_the_error_class(error: GatewayError, retryable: bool) -> None:
    assert is_retryable(error) is retryable


def test_backoff_is_full_jitter_under_an_exponential_cap() -> None:
    rng = random.Random(7)
    policy = RetryPolicy(max_attempts=10, base_delay=0.5, max_delay=4.0)
    for attempt, cap in [(1, 0.5), (2, 1.0), (3, 2.0), (4, 4.0), (8, 4.0)]:
        delays = [backoff_delay(attempt, policy, rng) for _ in range(200)]
        assert all(0.0 <= d <= cap for d in delays)
        assert max(delays) > cap * 0.8  # jitter spreads over the whole range


async def test_retries_until_success_and_reports_each_retry() -> None:
    script = Script(Throttled(), UpstreamUnavailable(), None)
    sleeps = Sleeps()
    retries: list[tuple[str, int, float]] = []

    events = await collect(
        retry_before_first_output(
            script.attempt,
            POLICY,
            on_retry=lambda e, n, d: retries.append((e.code, n, d)),
            sleep=sleeps,
            rng=random.Random(1),
        )
    )

    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("hello")]
    assert events[-1] == Done()
    assert script.opened == script.closed == 3
    assert [(code, n) for code, n, _ in retries] == [("throttled", 1), ("unavailable", 2)]
    assert sleeps.delays == [d for _, _, d in retries]
    assert 0 <= sleeps.delays[0] <= 1.0
    assert 0 <= sleeps.delays[1] <= 2.0


async def test_gives_up_after_max_attempts_with_the_last_error() -> None:
    last = Throttled("third")
    script = Script(Throttled("first"), Throttled("second"), last)

    with pytest.raises(Throttled) as caught:
        await collect(retry_before_first_output(script.attempt, POLICY, sleep=Sleeps()))

    assert caught.value is last
    assert script.opened == script.closed == 3


async def test_no_retry_once_output_was_yielded() -> None:
    script = Script(ModelStreamFailed(), output_first=True)
    seen: list[Event] = []

    with pytest.raises(ModelStreamFailed):
        await collect(retry_before_first_output(script.attempt, POLICY, sleep=Sleeps()), seen)

    assert seen == [Notice("starting"), TextDelta("partial")]
    assert script.opened == 1


async def test_no_retry_for_errors_the_user_or_operator_must_fix() -> None:
    script = Script(AccessDenied())

    with pytest.raises(AccessDenied):
        await collect(retry_before_first_output(script.attempt, POLICY, sleep=Sleeps()))

    assert script.opened == 1


async def test_consumer_stopping_early_closes_the_attempt() -> None:
    script = Script(None)
    stream = retry_before_first_output(script.attempt, POLICY, sleep=Sleeps())

    async for event in stream:
        if isinstance(event, TextDelta):
            break
    await stream.aclose()  # type: ignore[attr-defined]

    assert script.opened == script.closed == 1
