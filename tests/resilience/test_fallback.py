"""Fallback order and rules, on scripted targets (the suite drives the same code end to end)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fmgate.config.gateway_settings import BreakerSettings
from fmgate.config.loader import parse_catalog
from fmgate.core.errors import (
    GatewayError,
    InvalidRequest,
    ModelStreamFailed,
    Throttled,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from fmgate.core.events import AnsweredBy, Done, Event, TextDelta
from fmgate.resilience.breaker import BreakerRegistry, BreakerState
from fmgate.resilience.fallback import Target, bot_targets, stream_with_fallbacks
from fmgate.resilience.retry import RetryPolicy
from tests.harness.catalogs import chat_bot

PRIMARY = Target("us.amazon.nova-pro-v1:0", "us-east-1", "us.amazon.nova-pro-v1:0")
WEST = Target("amazon.nova-pro-v1:0", "us-west-2", "Nova Pro (west)")
LITE = Target("amazon.nova-lite-v1:0", "us-east-1", "Nova Lite")
TARGETS = (PRIMARY, WEST, LITE)
POLICY = RetryPolicy(max_attempts=2, base_delay=0, max_delay=0)


async def no_sleep(delay: float) -> None:
    return None


class Upstream:
    """Per target: errors to raise on the next calls (then answer), and calls seen."""

    def __init__(self, failures: dict[Target, list[GatewayError]] | None = None) -> None:
        self.failures = failures or {}
        self.calls: list[Target] = []

    async def call(self, target: Target) -> AsyncIterator[Event]:
        self.calls.append(target)
        pending = self.failures.get(target, [])
        if pending:
            error = pending[0] if len(pending) == 1 else pending.pop(0)
            if isinstance(error, ModelStreamFailed):
                yield TextDelta("partial ")
            raise error
        yield TextDelta(f"from {target.label}")
        yield Done()


async def run(upstream: Upstream, breakers: BreakerRegistry | None = None) -> list[Event]:
    return [
        event
        async for event in stream_with_fallbacks(
            TARGETS,
            upstream.call,
            policy=POLICY,
            breakers=breakers or BreakerRegistry(),
            sleep=no_sleep,
        )
    ]


async def test_primary_answers_without_any_marker() -> None:
    upstream = Upstream()
    assert await run(upstream) == [TextDelta(f"from {PRIMARY.label}"), Done()]
    assert upstream.calls == [PRIMARY]


@pytest.mark.parametrize(
    "error", [Throttled(), UpstreamUnavailable(), UpstreamTimeout()], ids=lambda e: e.code
)
async def test_retryable_failure_falls_back_after_retries(error: GatewayError) -> None:
    upstream = Upstream({PRIMARY: [error]})
    events = await run(upstream)
    assert events == [
        AnsweredBy(WEST.model_id, WEST.aws_region),
        TextDelta("from Nova Pro (west)"),
        Done(),
    ]
    assert upstream.calls == [PRIMARY, PRIMARY, WEST]


async def test_second_fallback_when_the_first_fails_too() -> None:
    upstream = Upstream({PRIMARY: [Throttled()], WEST: [UpstreamUnavailable()]})
    events = await run(upstream)
    assert events[0] == AnsweredBy(LITE.model_id, LITE.aws_region)
    assert upstream.calls == [PRIMARY, PRIMARY, WEST, WEST, LITE]


async def test_every_target_failing_raises_the_last_error() -> None:
    failures: dict[Target, list[GatewayError]] = {PRIMARY: [Throttled()], WEST: [Throttled()]}
    upstream = Upstream(failures | {LITE: [UpstreamTimeout()]})
    with pytest.raises(UpstreamTimeout):
        await run(upstream)


async def test_rejected_request_is_not_sent_elsewhere() -> None:
    upstream = Upstream({PRIMARY: [InvalidRequest()]})
    with pytest.raises(InvalidRequest):
        await run(upstream)
    assert upstream.calls == [PRIMARY]


async def test_no_fallback_after_output_reached_the_user() -> None:
    upstream = Upstream({PRIMARY: [ModelStreamFailed()]})
    seen: list[Event] = []

    async def consume() -> None:
        async for event in stream_with_fallbacks(
            TARGETS, upstream.call, policy=POLICY, breakers=BreakerRegistry(), sleep=no_sleep
        ):
            seen.append(event)

    with pytest.raises(ModelStreamFailed):
        await consume()
    assert seen == [TextDelta("partial ")]
    assert upstream.calls == [PRIMARY]


async def test_open_circuit_skips_the_target_without_calling_it() -> None:
    breakers = BreakerRegistry(BreakerSettings(failure_threshold=2, cooldown_seconds=60))
    upstream = Upstream({PRIMARY: [UpstreamUnavailable()]})
    await run(upstream, breakers)  # two failed calls: the circuit opens
    assert breakers.get(PRIMARY.model_id, PRIMARY.aws_region).state is BreakerState.OPEN
    upstream.calls.clear()
    events = await run(upstream, breakers)
    assert events[0] == AnsweredBy(WEST.model_id, WEST.aws_region)
    assert upstream.calls == [WEST]


async def test_every_circuit_open_is_a_retryable_unavailable() -> None:
    breakers = BreakerRegistry(BreakerSettings(failure_threshold=1, cooldown_seconds=60))
    for target in TARGETS:
        breaker = breakers.get(target.model_id, target.aws_region)
        await breaker.failed(await breaker.acquire())
    upstream = Upstream()
    with pytest.raises(UpstreamUnavailable) as error:
        await run(upstream, breakers)
    assert error.value.retryable
    assert upstream.calls == []


async def test_a_consumer_that_stops_early_frees_the_half_open_probe() -> None:
    breakers = BreakerRegistry(BreakerSettings(failure_threshold=1, cooldown_seconds=1e-9))
    breaker = breakers.get(PRIMARY.model_id, PRIMARY.aws_region)
    await breaker.failed(await breaker.acquire())
    stream = stream_with_fallbacks(
        TARGETS, Upstream().call, policy=POLICY, breakers=breakers, sleep=no_sleep
    )
    assert await anext(stream) == TextDelta(f"from {PRIMARY.label}")  # the probe is answering
    await stream.aclose()
    assert (await breaker.acquire()).probe  # abandoned, not stuck "in flight"


def test_bot_targets_resolve_regions_and_labels() -> None:
    catalog = parse_catalog(
        """
version: 1
bots:
  - bot_name: resilient
    model_id: us.amazon.nova-pro-v1:0
    aws_region: us-east-2
    fallbacks:
      - {model_id: amazon.nova-pro-v1:0, aws_region: us-west-2, label: Nova Pro (west)}
      - {model_id: amazon.nova-lite-v1:0}
""",
        "fallbacks.yaml",
    )
    assert bot_targets(chat_bot(catalog, "resilient")) == (
        Target("us.amazon.nova-pro-v1:0", "us-east-2", "us.amazon.nova-pro-v1:0"),
        Target("amazon.nova-pro-v1:0", "us-west-2", "Nova Pro (west)"),
        Target("amazon.nova-lite-v1:0", "us-east-2", "amazon.nova-lite-v1:0"),
    )
