"""``reasoning_effort`` on Chat Completions, through the OpenAI SDK: the thinking budget Bedrock
receives (the same rule as the Responses API's ``reasoning.effort``)."""

from __future__ import annotations

import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam
from openai.types.shared import ReasoningEffort

from fmgate_emulator import AsyncEmulatorClient

CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Think it over"}]


@pytest.mark.parametrize(
    ("effort", "budget"),
    [("minimal", 1024), ("low", 1024), ("medium", 2048), ("high", 4096)],
)
async def test_the_effort_sets_the_thinking_budget_bedrock_receives(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, effort: ReasoningEffort, budget: int
) -> None:
    stream = await openai_client.chat.completions.create(
        model="claude-thinking", messages=MESSAGES, reasoning_effort=effort, stream=True
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].choices[0].finish_reason == "stop"
    [call] = await emu.requests(model_id=CLAUDE_37)
    thinking = call["body"]["additionalModelRequestFields"]["thinking"]
    assert thinking == {"type": "enabled", "budget_tokens": budget}


async def test_without_an_effort_the_bot_thinks_with_its_own_budget(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    await openai_client.chat.completions.create(model="claude-thinking", messages=MESSAGES)
    [call] = await emu.requests(model_id=CLAUDE_37)
    assert call["body"]["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 2048


async def test_a_bot_that_does_not_reason_refuses_an_effort_but_none(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await openai_client.chat.completions.create(
            model="nova-lite", messages=MESSAGES, reasoning_effort="high"
        )
    assert refused.value.param == "reasoning_effort"
    assert "does not reason on request" in refused.value.message
    assert await emu.requests() == []
    answered = await openai_client.chat.completions.create(
        model="nova-lite", messages=MESSAGES, reasoning_effort="none"
    )
    assert answered.choices[0].message.content


async def test_a_thinking_bot_refuses_no_effort_at_all(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await openai_client.chat.completions.create(
            model="claude-thinking", messages=MESSAGES, reasoning_effort="none"
        )
    assert refused.value.param == "reasoning_effort"
    assert "always reasons" in refused.value.message
