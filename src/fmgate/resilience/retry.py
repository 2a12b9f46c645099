"""Retrying Bedrock calls: which errors, how long to wait, and when it is too late.

botocore's own retries are switched off (:mod:`fmgate.bedrock.client`); the gateway retries
here, where it knows what the user has already seen:

* only errors whose class says ``retryable`` (throttling, 5xx, timeouts, connection trouble,
  a model stream that failed) — never a rejected request or an operator error;
* only while nothing the user can see (text, reasoning, a tool call, media) has been passed on:
  once a stream has produced output, a retry would repeat or contradict it, so the error
  propagates unchanged and the front reports it;
* at most ``max_attempts`` calls in all, waiting ``backoff_delay`` between them: exponential
  backoff with full jitter, capped at ``max_delay``.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from fmgate.core.errors import GatewayError
from fmgate.core.events import OUTPUT_EVENTS, Event

#: Called before each retry with the error, the number of the attempt that failed (1-based)
#: and the delay before the next one.
RetryListener = Callable[[GatewayError, int, float], None]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to retry."""

    #: Calls in all, the first included (1 = never retry).
    max_attempts: int = 3
    #: Delay cap of the first retry, in seconds; doubles with each further attempt.
    base_delay: float = 0.25
    #: Largest delay between two attempts, in seconds.
    max_delay: float = 8.0


def is_retryable(error: GatewayError) -> bool:
    """Whether trying the same request again may succeed (the error class declares it)."""
    return error.retryable


def backoff_delay(attempt: int, policy: RetryPolicy, rng: random.Random) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based): full jitter.

    A uniform draw from ``[0, min(max_delay, base_delay * 2 ** (attempt - 1))]``.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2.0 ** max(attempt - 1, 0))
    return rng.uniform(0.0, ceiling)


def may_retry(error: GatewayError, attempt: int, policy: RetryPolicy, delivered: bool) -> bool:
    """Whether to make another attempt after ``attempt`` failed with ``error``."""
    return not delivered and is_retryable(error) and attempt < policy.max_attempts


async def retry_before_first_output(
    open_stream: Callable[[], AsyncIterator[Event]],
    policy: RetryPolicy,
    *,
    on_retry: RetryListener | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    rng: random.Random | None = None,
) -> AsyncIterator[Event]:
    """Yield ``open_stream()``'s events; start it over on a retryable error before any output.

    Events that are not output (``Progress``, ``Notice``) may be yielded again by a new attempt.
    Each attempt's stream is closed before the next starts (and when the consumer stops early),
    so a pooled connection is never left behind.
    """
    attempt = 1
    while True:
        stream = open_stream()
        delivered = False
        try:
            async for event in stream:
                delivered = delivered or isinstance(event, OUTPUT_EVENTS)
                yield event
            return
        except GatewayError as error:
            if not may_retry(error, attempt, policy, delivered):
                raise
            if rng is None:  # seeded on the first retry only: seeding costs more than a call
                rng = random.Random()
            delay = backoff_delay(attempt, policy, rng)
            if on_retry is not None:
                on_retry(error, attempt, delay)
        finally:
            # An async generator holds its connection until closed; other iterators own none.
            if isinstance(stream, AsyncGenerator):
                await stream.aclose()
        await sleep(delay)
        attempt += 1
