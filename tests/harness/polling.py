"""Bounded polls: wait until something has happened, instead of sleeping and hoping it has.

``await eventually(condition, "what should hold")`` calls ``condition`` (a plain or an async
function returning a bool) every ``interval`` seconds until it returns true. After ``within``
seconds it fails the test with an AssertionError saying what never held. The timeout is a bound
that keeps a broken test from stalling the run, not a timing assertion: keep it generous.

Sleeps that *are* the behaviour under test (letting a rate window, a cool-down or a TTL pass)
are not barriers and stay sleeps; say so next to them.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Final

#: Longest a poll waits before it fails the test (a bound, not a timing assertion).
POLL_BOUND_SECONDS: Final = 20.0
#: Pause between two checks.
POLL_INTERVAL_SECONDS: Final = 0.01

#: What a poll checks: true once the awaited thing has happened.
Condition = Callable[[], bool | Awaitable[bool]]


async def eventually(
    condition: Condition,
    what: str,
    *,
    within: float = POLL_BOUND_SECONDS,
    interval: float = POLL_INTERVAL_SECONDS,
) -> None:
    """Return once ``condition()`` is true; raise AssertionError naming ``what`` after
    ``within`` seconds. An exception raised by ``condition`` fails the poll at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    checks = 0
    while True:
        result = condition()
        held = await result if inspect.isawaitable(result) else result
        checks += 1
        if held:
            return
        if loop.time() >= deadline:
            raise AssertionError(f"not within {within:g} s ({checks} checks): {what}")
        await asyncio.sleep(interval)
