"""``cache_control`` through the official Anthropic SDK: checkpoints where the caller put them,
Anthropic's usage fields, its limits, and models without caching."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam, TextBlockParam, ToolParam

from fmgate.config.catalog import Catalog
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.caching_catalog import LONG_SYSTEM, cache_points, caching_catalog


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", "unused-poe-key-0123456789")
    return caching_catalog(poe_api)


def system(ttl: str | None = None) -> list[TextBlockParam]:
    control: dict[str, Any] = {"type": "ephemeral"}
    if ttl:
        control["ttl"] = ttl
    return [{"type": "text", "text": LONG_SYSTEM, "cache_control": control}]  # type: ignore[typeddict-item]


TOOLS: list[ToolParam] = [
    {
        "name": "lookup",
        "description": "Look a rule up.",
        "input_schema": {"type": "object", "properties": {"rule": {"type": "string"}}},
        "cache_control": {"type": "ephemeral"},
    }
]
QUESTION: list[MessageParam] = [{"role": "user", "content": "What does rule7 say?"}]


async def test_system_and_tool_markers_write_then_read_the_cache(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    first = await anthropic_client.messages.create(
        model="claude-cached", max_tokens=64, system=system(), tools=TOOLS, messages=QUESTION
    )
    body = (await emu.requests())[-1]["body"]
    # Exactly the caller's two: after the tool and after the system prompt (no automatic ones).
    assert [(part, index) for part, index, _ in cache_points(body)] == [("tools", 1), ("system", 1)]
    assert (first.usage.cache_creation_input_tokens or 0) > 1000
    assert first.usage.cache_read_input_tokens == 0
    assert first.usage.cache_creation is not None
    assert first.usage.cache_creation.ephemeral_5m_input_tokens == (
        first.usage.cache_creation_input_tokens
    )
    assert first.usage.cache_creation.ephemeral_1h_input_tokens == 0

    second = await anthropic_client.messages.create(
        model="claude-cached", max_tokens=64, system=system(), tools=TOOLS, messages=QUESTION
    )
    assert second.usage.cache_read_input_tokens == first.usage.cache_creation_input_tokens
    assert second.usage.cache_creation_input_tokens == 0


async def test_a_marker_on_a_message_block_and_usage_in_the_stream(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    messages: list[MessageParam] = [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": LONG_SYSTEM, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": "What does rule7 say?"},
            ],
        }
    ]
    for turn in range(2):
        deltas: list[Any] = []
        async with anthropic_client.messages.stream(
            model="claude-cached", max_tokens=64, messages=messages
        ) as stream:
            async for event in stream:
                if event.type in ("message_start", "message_delta"):
                    deltas.append(event)
        assert [e.type for e in deltas] == ["message_start", "message_delta"]
        usage = deltas[-1].usage
        if turn == 0:
            assert usage.cache_creation_input_tokens > 1000
        else:
            assert usage.cache_read_input_tokens > 1000
        body = (await emu.requests())[-1]["body"]
        # The texts of one message are joined; its checkpoint comes at the message's end.
        assert [(part, index) for part, index, _ in cache_points(body)] == [("messages[0]", 1)]


async def test_a_one_hour_marker_is_reported_as_a_one_hour_write(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    message = await anthropic_client.messages.create(
        model="sonnet-cached", max_tokens=64, system=system("1h"), messages=QUESTION
    )
    [(_, _, point)] = cache_points((await emu.requests())[-1]["body"])
    assert point == {"type": "default", "ttl": "1h"}
    assert message.usage.cache_creation is not None
    assert message.usage.cache_creation.ephemeral_1h_input_tokens > 1000
    assert message.usage.cache_creation.ephemeral_5m_input_tokens == 0


async def test_more_than_four_markers_is_refused_as_anthropic_does(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    marked: list[TextBlockParam] = [
        {"type": "text", "text": f"part {i}", "cache_control": {"type": "ephemeral"}}
        for i in range(5)
    ]
    with pytest.raises(anthropic.BadRequestError) as caught:
        await anthropic_client.messages.create(
            model="claude-cached",
            max_tokens=64,
            messages=[{"role": "user", "content": marked}],
        )
    assert "A maximum of 4 blocks with cache_control may be provided. Found 5." in str(caught.value)
    assert await emu.requests() == []


async def test_a_longer_ttl_after_a_shorter_one_is_refused(
    anthropic_client: AsyncAnthropic,
) -> None:
    with pytest.raises(anthropic.BadRequestError):
        await anthropic_client.messages.create(
            model="sonnet-cached",
            max_tokens=64,
            system=system("5m"),
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "text",
                            "text": "hi",
                            "cache_control": {"type": "ephemeral", "ttl": "1h"},
                        }
                    ],
                }
            ],
        )


@pytest.mark.parametrize("bot", ["mistral-7b", "nova-micro-off"])
async def test_markers_for_a_model_without_caching_are_dropped(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, bot: str
) -> None:
    message = await anthropic_client.messages.create(
        model=bot, max_tokens=64, system=system(), messages=QUESTION
    )
    assert message.content
    record = (await emu.requests())[-1]
    assert cache_points(record["body"]) == []
    assert message.usage.cache_read_input_tokens == 0
    assert message.usage.cache_creation_input_tokens == 0
