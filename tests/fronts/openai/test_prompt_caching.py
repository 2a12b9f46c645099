"""Prompt caching through the official OpenAI SDK: the bot's automatic checkpoints, callers'
``cache_control`` parts (LiteLLM's / OpenRouter's convention) and ``cached_tokens``."""

from __future__ import annotations

from typing import Any

import pytest
from openai import AsyncOpenAI

from fmgate.config.catalog import Catalog
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.caching_catalog import LONG_SYSTEM, cache_points, caching_catalog


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", "unused-poe-key-0123456789")
    return caching_catalog(poe_api)


def cached_tokens(completion: Any) -> int:
    details = completion.usage.prompt_tokens_details
    return int(details.cached_tokens or 0) if details else 0


async def test_a_long_system_prompt_is_read_from_the_cache_the_second_time(
    openai_client: AsyncOpenAI,
) -> None:
    messages: list[Any] = [
        {"role": "system", "content": LONG_SYSTEM},
        {"role": "user", "content": "What does rule7 say?"},
    ]
    first = await openai_client.chat.completions.create(model="claude-cached", messages=messages)
    assert cached_tokens(first) == 0
    second = await openai_client.chat.completions.create(model="claude-cached", messages=messages)
    assert cached_tokens(second) > 1000
    assert second.usage is not None
    assert second.usage.prompt_tokens >= cached_tokens(second)


async def test_cache_control_parts_replace_the_automatic_checkpoints(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    messages: list[Any] = [
        {
            "role": "system",
            "content": [
                {"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}}
            ],
        },
        {"role": "user", "content": "What does rule7 say?"},
    ]
    await openai_client.chat.completions.create(model="claude-cached", messages=messages)
    body = (await emu.requests())[-1]["body"]
    assert [(part, index) for part, index, _ in cache_points(body)] == [("system", 1)]
    second = await openai_client.chat.completions.create(model="claude-cached", messages=messages)
    assert cached_tokens(second) > 1000


@pytest.mark.parametrize("bot", ["mistral-7b", "nova-micro-off"])
async def test_markers_for_a_model_without_caching_are_dropped(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, bot: str
) -> None:
    messages: list[Any] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "What does rule7 say?"},
            ],
        }
    ]
    for _ in range(2):
        completion = await openai_client.chat.completions.create(model=bot, messages=messages)
        assert completion.choices[0].message.content
        assert cache_points((await emu.requests())[-1]["body"]) == []
        assert cached_tokens(completion) == 0
