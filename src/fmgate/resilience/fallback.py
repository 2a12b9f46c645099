"""Fallbacks: the bot's own model first, then its configured fallbacks, in order.

For each target (a model id in a region) the call goes through that target's circuit breaker
and the gateway's retry policy (:func:`fmgate.resilience.retry.retry_before_first_output`). The
next target is tried when the current one

* failed with a retryable upstream error (throttled, 5xx, not ready, timed out, its stream
  failed) and its retries are used up, or
* is being skipped because its circuit is open, or
* is busy: its concurrency limit (:mod:`fmgate.resilience.concurrency`) had no slot free
  within the queue timeout (each call, a retry too, takes a slot: one Bedrock call in flight),

and only while nothing has reached the user: once a target produced output, its failure is the
request's failure. Non-retryable errors (a rejected request, an operator error) end the request
at once: another model would reject it too, or the operator must act.

When a fallback answers, an :class:`~fmgate.core.events.AnsweredBy` event comes just before its
first event, so accounting records the model that actually answered.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import partial

from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.errors import GatewayError, ModelBusy, UpstreamUnavailable
from fmgate.core.events import OUTPUT_EVENTS, AnsweredBy, Event, close_stream
from fmgate.core.model_request import ServiceTier
from fmgate.resilience.breaker import Breaker, Breakers, CircuitOpen
from fmgate.resilience.concurrency import (
    AdaptiveLimit,
    ConcurrencyLimits,
    Slot,
    TargetBusy,
    Verdict,
)
from fmgate.resilience.retry import (
    RetryListener,
    RetryPolicy,
    is_retryable,
    retry_before_first_output,
)

logger = logging.getLogger("fmgate.resilience")


@dataclass(frozen=True, slots=True)
class Target:
    """Where one call goes: a model id in a region (on a service tier), and the name users are
    shown for it."""

    model_id: str
    aws_region: str
    label: str
    #: The service tier the call asks for (None: none named, Bedrock's standard tier).
    service_tier: ServiceTier | None = None

    @property
    def capacity_id(self) -> str:
        """What its breaker and learned concurrency limit are kept under: the model id, with
        the tier for priority and flex (``<model>+flex``, as CloudWatch names them), since
        Bedrock throttling flex calls says nothing of the standard tier's room. A static cap
        (``static_caps``, by model id) applies to each tier's limit."""
        if self.service_tier in (None, "default"):
            return self.model_id
        return f"{self.model_id}+{self.service_tier}"


def tier_label(model_id: str, tier: ServiceTier | None) -> str:
    return model_id if tier is None else f"{model_id} ({tier} tier)"


#: Opens one call's event stream to a target (no retries: those are applied here).
TargetCall = Callable[[Target], AsyncIterator[Event]]


def bot_targets(config: ChatBotConfig) -> tuple[Target, ...]:
    """The bot's own model, then its fallbacks: a fallback without a model id calls the bot's
    model, one without a region the bot's region; each asks for its own ``service_tier``."""
    tier = config.service_tier
    own = Target(config.model_id, config.aws_region, tier_label(config.model_id, tier), tier)
    fallbacks = []
    for fallback in config.fallbacks:
        model_id = fallback.model_id or config.model_id
        label = fallback.label or tier_label(model_id, fallback.service_tier)
        region = fallback.aws_region or config.aws_region
        fallbacks.append(Target(model_id, region, label, fallback.service_tier))
    return (own, *fallbacks)


async def guarded_call(
    breaker: Breaker, limit: AdaptiveLimit | None, call: TargetCall, target: Target
) -> AsyncGenerator[Event, None]:
    """One call through ``breaker`` and a slot of ``limit``: raises :class:`CircuitOpen` when
    the target is skipped and :class:`TargetBusy` when no slot freed up in time; tells the
    breaker and the limit how the call went, however it ends."""
    permit = await breaker.acquire()
    failed: bool | None = None
    slot: Slot | None = None
    stream: AsyncIterator[Event] | None = None
    try:
        if limit is not None:
            try:
                slot = await limit.acquire()
            except ModelBusy as busy:
                raise TargetBusy(busy) from None
        stream = call(target)
        async for event in stream:
            if slot is not None:
                slot.answer_started()
            yield event
        failed = False
        if slot is not None:
            slot.observe(Verdict.ANSWERED)
    except GatewayError as error:
        failed = is_retryable(error)
        if slot is not None:
            slot.observe(Verdict.THROTTLED if error.capacity_refusal else Verdict.NEUTRAL)
        raise
    finally:
        if slot is not None:
            slot.release()  # first: nothing below may keep it
        if failed is None:
            await breaker.abandoned(permit)
        elif failed:
            await breaker.failed(permit)
        else:
            await breaker.succeeded(permit)
        if stream is not None:
            await close_stream(stream)


async def stream_with_fallbacks(
    targets: Sequence[Target],
    call: TargetCall,
    *,
    policy: RetryPolicy,
    breakers: Breakers,
    limits: ConcurrencyLimits | None = None,
    on_retry: RetryListener | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> AsyncGenerator[Event, None]:
    """Answer from the first target that can; see the module docstring for the rules.

    Raises the last target's error when none could answer (a retryable
    :class:`~fmgate.core.errors.UpstreamUnavailable` when every circuit was open).
    """
    last_error: GatewayError | None = None
    for index, target in enumerate(targets):
        breaker = breakers.get(target.capacity_id, target.aws_region)
        limit = None
        if limits is not None and limits.enabled:
            limit = limits.get(target.capacity_id, target.aws_region, capped_as=target.model_id)
        started = False
        delivered = False
        attempts = retry_before_first_output(
            partial(guarded_call, breaker, limit, call, target),
            policy,
            on_retry=on_retry,
            sleep=sleep,
        )
        try:
            async for event in attempts:
                if not started and index > 0:
                    yield AnsweredBy(target.model_id, target.aws_region, target.service_tier)
                started = True
                delivered = delivered or isinstance(event, OUTPUT_EVENTS)
                yield event
            return
        except CircuitOpen:
            logger.info("skipping %s in %s: circuit open", target.model_id, target.aws_region)
        except TargetBusy as busy:
            last_error = busy.error
        except GatewayError as error:
            if delivered or not is_retryable(error):
                raise
            last_error = error
            logger.info(
                "%s in %s failed (%s) before answering",
                target.model_id,
                target.aws_region,
                error.code,
            )
        finally:
            await close_stream(attempts)
    if last_error is not None:
        raise last_error
    raise UpstreamUnavailable("every target's circuit is open")
