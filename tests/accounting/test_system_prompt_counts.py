"""The system prompts' counts behind the billing split: once per prompt, bounded, never failing
a request, tried again after a failure."""

from __future__ import annotations

import asyncio
import logging

import pytest

from fmgate.accounting.system_prompt_counts import SystemPromptCounts
from fmgate.core.errors import Throttled
from fmgate.core.events import SystemPrompt

MODEL = "anthropic.claude-3-7-sonnet-20250219-v1:0"
PROMPT = SystemPrompt(MODEL, "a" * 64)
OTHER = SystemPrompt(MODEL, "b" * 64)


class CountTokens:
    """A count that answers ``tokens`` once released (or fails), and says how often it ran."""

    def __init__(self, tokens: int = 42) -> None:
        self.tokens = tokens
        self.calls = 0
        self.release = asyncio.Event()
        self.release.set()
        self.failure: Exception | None = None

    async def __call__(self) -> int:
        self.calls += 1
        await self.release.wait()
        if self.failure is not None:
            raise self.failure
        return self.tokens


async def test_no_system_prompt_is_zero_tokens_without_counting() -> None:
    counts = SystemPromptCounts()
    count = CountTokens()
    none = SystemPrompt(MODEL, None)
    counts.request(none, count)
    assert await counts.wait(none, 1.0) == 0
    assert count.calls == 0


async def test_concurrent_requests_for_one_prompt_share_one_count() -> None:
    counts = SystemPromptCounts()
    count = CountTokens()
    count.release.clear()
    for _ in range(20):
        counts.request(PROMPT, count)
    waiting = [asyncio.create_task(counts.wait(PROMPT, 1.0)) for _ in range(20)]
    await asyncio.sleep(0)
    count.release.set()
    assert await asyncio.gather(*waiting) == [42] * 20
    counts.request(PROMPT, count)  # known now: not counted again
    assert counts.tokens(PROMPT) == 42
    assert count.calls == 1


async def test_a_wait_is_bounded_and_the_count_is_kept_when_it_ends() -> None:
    counts = SystemPromptCounts()
    count = CountTokens()
    count.release.clear()
    counts.request(PROMPT, count)
    assert await counts.wait(PROMPT, 0.01) is None
    count.release.set()
    assert await counts.wait(PROMPT, 1.0) == 42


async def test_a_prompt_never_asked_for_is_not_known() -> None:
    assert await SystemPromptCounts().wait(PROMPT, 0.01) is None


async def test_the_least_recently_used_prompt_goes_first() -> None:
    counts = SystemPromptCounts(capacity=2)
    prompts = [SystemPrompt(MODEL, str(n)) for n in range(3)]
    for prompt in prompts[:2]:
        counts.request(prompt, CountTokens())
        await counts.wait(prompt, 1.0)
    assert counts.tokens(prompts[0]) == 42  # used: prompts[1] is now the oldest
    counts.request(prompts[2], CountTokens())
    await counts.wait(prompts[2], 1.0)
    assert counts.size == 2
    assert counts.tokens(prompts[1]) is None
    assert counts.tokens(prompts[0]) == counts.tokens(prompts[2]) == 42


async def test_a_failed_count_is_logged_once_and_tried_again_later(
    caplog: pytest.LogCaptureFixture,
) -> None:
    now = [100.0]
    counts = SystemPromptCounts(retry_after_seconds=30.0, clock=lambda: now[0])
    count = CountTokens()
    count.failure = Throttled("CountTokens throttled")
    with caplog.at_level(logging.WARNING, logger="fmgate.accounting.system_prompts"):
        counts.request(PROMPT, count)
        assert await counts.wait(PROMPT, 1.0) is None
        counts.request(PROMPT, count)  # within the retry delay: left alone
        assert await counts.wait(PROMPT, 1.0) is None
    [logged] = caplog.records
    assert "CountTokens failed for a system prompt on" in logged.getMessage()
    assert "throttled" in logged.getMessage()
    assert count.calls == 1

    now[0] += 31.0
    count.failure = None
    counts.request(PROMPT, count)
    assert await counts.wait(PROMPT, 1.0) == 42
    assert count.calls == 2


async def test_a_count_that_takes_too_long_fails_like_any_other() -> None:
    counts = SystemPromptCounts(count_timeout_seconds=0.01)
    count = CountTokens()
    count.release.clear()
    counts.request(PROMPT, count)
    assert await counts.wait(PROMPT, 1.0) is None
    assert counts.tokens(PROMPT) is None


async def test_closing_stops_the_counts_under_way() -> None:
    counts = SystemPromptCounts()
    count = CountTokens()
    count.release.clear()
    counts.request(PROMPT, count)
    counts.request(OTHER, count)
    await asyncio.sleep(0)
    await counts.aclose()
    assert await counts.wait(PROMPT, 0.01) is None
