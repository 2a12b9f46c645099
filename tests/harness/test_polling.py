"""``eventually``: returns as soon as its condition holds, fails with its message when it never
does."""

from __future__ import annotations

import pytest

from tests.harness.polling import eventually


async def test_returns_once_a_plain_condition_holds() -> None:
    checks: list[int] = []

    def third_time() -> bool:
        checks.append(1)
        return len(checks) == 3

    await eventually(third_time, "the third check", interval=0)
    assert len(checks) == 3


async def test_awaits_an_async_condition() -> None:
    async def holds() -> bool:
        return True

    await eventually(holds, "an async condition")


async def test_a_condition_that_never_holds_fails_with_what_was_awaited() -> None:
    with pytest.raises(AssertionError, match="the door opens"):
        await eventually(lambda: False, "the door opens", within=0.05)
