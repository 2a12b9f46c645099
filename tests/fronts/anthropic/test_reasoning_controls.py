"""Reasoning controls on /v1/messages through the Anthropic SDK: ``output_config.effort`` and
``thinking`` passed to models that take them and refused (Anthropic-shaped 400s) for others;
signed and redacted thinking handed out and taken back, so a tool loop keeps thinking."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import (
    Message,
    MessageParam,
    RedactedThinkingBlock,
    ThinkingBlock,
    ThinkingConfigEnabledParam,
    ToolParam,
    ToolResultBlockParam,
    ToolUseBlock,
)

from fmgate.config.catalog import Catalog
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import REDACT_MARKER, reasoning_signature, reasoning_text
from tests.fakes.poe_api import FakePoeApi
from tests.harness.reasoning_catalog import (
    CLAUDE_37,
    GPT_OSS,
    NOVA_LITE,
    SONNET_4,
    additional_fields,
    reasoning_catalog,
)

CLOCK: ToolParam = {
    "name": "get_time",
    "description": "The time now.",
    "input_schema": {"type": "object", "properties": {"request": {"type": "string"}}},
}
PRIME: MessageParam = {"role": "user", "content": "Is 17 prime?"}


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", "unused-poe-key-0123456789")
    return reasoning_catalog(poe_api)


async def test_an_effort_goes_in_the_models_own_field(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    message = await anthropic_client.messages.create(
        model="gpt-oss", max_tokens=512, messages=[PRIME], output_config={"effort": "low"}
    )
    [call] = await emu.requests(model_id=GPT_OSS)
    assert additional_fields(call) == {"reasoning_effort": "low"}
    thinking, text = message.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking == reasoning_text("Is 17 prime?", "low")
    assert thinking.signature == ""  # gpt-oss signs nothing: nothing to replay
    assert text.type == "text"


@pytest.mark.parametrize(
    ("model", "fields", "says"),
    [
        (
            "claude-thinking",
            {"output_config": {"effort": "high"}},
            "output_config.effort: 'high' is not supported by `claude-thinking`: its model "
            "takes no effort.",
        ),
        (
            "gpt-oss",
            {"output_config": {"effort": "max"}},
            "output_config.effort: 'max' is not supported by `gpt-oss`: it takes 'low', "
            "'medium', 'high'.",
        ),
        (
            "claude-thinking",
            {"thinking": {"type": "adaptive"}},
            "thinking.type: 'adaptive' is not supported by `claude-thinking`: its model takes no "
            "adaptive thinking; use 'enabled' with budget_tokens or 'disabled'.",
        ),
        (
            "nova-lite",
            {"thinking": {"type": "adaptive"}},
            "thinking.type: 'adaptive' is not supported by `nova-lite`: its model takes no "
            "adaptive thinking.",
        ),
    ],
)
async def test_controls_the_model_does_not_take_are_refused_before_bedrock(
    anthropic_client: AsyncAnthropic,
    emu: AsyncEmulatorClient,
    model: str,
    fields: dict[str, Any],
    says: str,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await anthropic_client.messages.create(
            model=model, max_tokens=512, messages=[PRIME], **fields
        )
    assert refused.value.status_code == 400
    assert refused.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": says},
    }
    assert await emu.requests() == []


async def test_the_callers_thinking_decides_where_the_model_takes_it(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    budget: ThinkingConfigEnabledParam = {"type": "enabled", "budget_tokens": 3000}
    asked = await anthropic_client.messages.create(
        model="claude", max_tokens=4096, messages=[PRIME], thinking=budget
    )
    assert isinstance(asked.content[0], ThinkingBlock)
    await anthropic_client.messages.create(
        model="claude-thinking", max_tokens=512, messages=[PRIME], thinking={"type": "disabled"}
    )
    await anthropic_client.messages.create(
        model="nova-lite", max_tokens=512, messages=[PRIME], thinking=budget
    )
    claude_calls = await emu.requests(model_id=CLAUDE_37)
    assert [additional_fields(call).get("thinking") for call in claude_calls] == [budget, None]
    [nova] = await emu.requests(model_id=NOVA_LITE)
    assert additional_fields(nova) == {}  # a model without thinking answers without it


def follow_up(ask: MessageParam, answer: list[Any], use: ToolUseBlock) -> list[MessageParam]:
    result: ToolResultBlockParam = {
        "type": "tool_result",
        "tool_use_id": use.id,
        "content": "12:00",
    }
    calling: MessageParam = {
        "role": "assistant",
        "content": answer,
    }  # the SDK's blocks, as they came
    results: MessageParam = {"role": "user", "content": [result]}
    return [ask, calling, results]


async def test_signed_thinking_comes_back_and_the_tool_loop_keeps_thinking(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    ask: MessageParam = {"role": "user", "content": "use tool get_time"}
    first = await anthropic_client.messages.create(
        model="claude-thinking", max_tokens=4096, messages=[ask], tools=[CLOCK]
    )
    thinking, use = first.content
    assert isinstance(thinking, ThinkingBlock)
    assert isinstance(use, ToolUseBlock)
    assert thinking.signature == reasoning_signature(thinking.thinking)

    second = await anthropic_client.messages.create(
        model="claude-thinking",
        max_tokens=4096,
        messages=follow_up(ask, first.content, use),
        tools=[CLOCK],
    )
    assert second.stop_reason == "end_turn"
    _, again = await emu.requests(model_id=CLAUDE_37)
    assert "thinking" in additional_fields(again)
    signed = again["body"]["messages"][1]["content"][0]["reasoningContent"]["reasoningText"]
    assert signed == {"text": thinking.thinking, "signature": thinking.signature}


async def test_redacted_thinking_streams_as_its_own_block_and_goes_back_as_it_came(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    ask: MessageParam = {"role": "user", "content": f"use tool get_time {REDACT_MARKER}"}
    async with anthropic_client.messages.stream(
        model="claude-thinking", max_tokens=4096, messages=[ask], tools=[CLOCK]
    ) as stream:
        events = [event async for event in stream]
        first = await stream.get_final_message()
    starts = [e.content_block.type for e in events if e.type == "content_block_start"]
    assert starts == ["redacted_thinking", "tool_use"]
    redacted, use = first.content
    assert isinstance(redacted, RedactedThinkingBlock)
    assert isinstance(use, ToolUseBlock)

    second = await anthropic_client.messages.create(
        model="claude-thinking",
        max_tokens=4096,
        messages=follow_up(ask, first.content, use),
        tools=[CLOCK],
    )
    assert second.stop_reason == "end_turn"
    _, again = await emu.requests(model_id=CLAUDE_37)
    assert "thinking" in additional_fields(again)
    sent = again["body"]["messages"][1]["content"][0]["reasoningContent"]
    assert sent == {"redactedContent": redacted.data}  # base64 on the wire, as it came


async def test_thinking_without_its_signature_is_not_replayed(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    ask: MessageParam = {"role": "user", "content": "use tool get_time"}
    first = await anthropic_client.messages.create(
        model="claude-thinking", max_tokens=4096, messages=[ask], tools=[CLOCK]
    )
    thinking, use = first.content
    assert isinstance(thinking, ThinkingBlock)
    assert isinstance(use, ToolUseBlock)
    unsigned = [{"type": "thinking", "thinking": thinking.thinking, "signature": ""}, use]
    answer = await anthropic_client.messages.create(
        model="claude-thinking",
        max_tokens=4096,
        messages=follow_up(ask, unsigned, use),
        tools=[CLOCK],
    )
    assert answer.stop_reason == "end_turn"  # Bedrock's way out: that call goes without thinking
    _, again = await emu.requests(model_id=CLAUDE_37)
    assert "thinking" not in additional_fields(again)
    assert "reasoningContent" not in again["body"]["messages"][1]["content"][0]


@pytest.mark.parametrize("stream", [False, True])
async def test_a_fallbacks_reasoning_is_not_handed_out_to_be_replayed(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, stream: bool
) -> None:
    """Its signature vouches for another model than the bot's: the thinking comes unsigned
    (and its redacted reasoning not at all), so the caller never sends the bot's model
    reasoning it cannot take."""
    await emu.inject("throttle", model_id=CLAUDE_37.removeprefix("us."), count=-1)
    ask: MessageParam = {"role": "user", "content": "use tool get_time"}
    answer: Message
    if stream:
        async with anthropic_client.messages.stream(
            model="claude-falling-back", max_tokens=4096, messages=[ask], tools=[CLOCK]
        ) as streamed:
            answer = await streamed.get_final_message()
    else:
        answer = await anthropic_client.messages.create(
            model="claude-falling-back", max_tokens=4096, messages=[ask], tools=[CLOCK]
        )
    thinking, use = answer.content
    assert isinstance(thinking, ThinkingBlock)
    assert thinking.thinking
    assert thinking.signature == ""
    assert isinstance(use, ToolUseBlock)
    [answered] = await emu.requests(model_id=SONNET_4)
    assert "thinking" in additional_fields(answered)
