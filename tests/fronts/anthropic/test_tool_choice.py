"""tool_choice on /v1/messages through the Anthropic SDK: auto, any, a named tool and none reach
Converse as it takes them; a forced choice the model cannot take is a 400 Bedrock never sees."""

from __future__ import annotations

from typing import Any

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam, ToolChoiceParam, ToolParam, ToolUseBlock

from fmgate_emulator import AsyncEmulatorClient

NOVA_LITE = "amazon.nova-lite-v1:0"
TOOLS: list[ToolParam] = [
    {"name": "get_weather", "input_schema": {"type": "object"}},
    {"name": "get_time", "description": "The time now.", "input_schema": {"type": "object"}},
]
#: No "use tool" phrase: the emulated model calls a tool only when the choice forces it.
HELLO: list[MessageParam] = [{"role": "user", "content": "Hello there"}]


async def converse_body(emu: AsyncEmulatorClient, model_id: str = NOVA_LITE) -> dict[str, Any]:
    [record] = await emu.requests(model_id=model_id)
    body: dict[str, Any] = record["body"]
    return body


@pytest.mark.parametrize(
    ("choice", "tool_choice", "called"),
    [
        ({"type": "any"}, {"any": {}}, "get_weather"),
        ({"type": "tool", "name": "get_time"}, {"tool": {"name": "get_time"}}, "get_time"),
        (
            {"type": "any", "disable_parallel_tool_use": True},  # accepted; Converse has no switch
            {"any": {}},
            "get_weather",
        ),
    ],
)
async def test_a_forced_choice_reaches_converse_and_the_model_calls_the_tool(
    anthropic_client: AsyncAnthropic,
    emu: AsyncEmulatorClient,
    choice: ToolChoiceParam,
    tool_choice: dict[str, Any],
    called: str,
) -> None:
    message = await anthropic_client.messages.create(
        model="nova-lite", max_tokens=256, messages=HELLO, tools=TOOLS, tool_choice=choice
    )
    assert message.stop_reason == "tool_use"
    [use] = [block for block in message.content if isinstance(block, ToolUseBlock)]
    assert use.name == called
    assert (await converse_body(emu))["toolConfig"]["toolChoice"] == tool_choice


async def test_auto_is_bedrocks_default_and_none_offers_no_tools(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    ask: list[MessageParam] = [{"role": "user", "content": "Please use tool get_time"}]
    auto = await anthropic_client.messages.create(
        model="nova-lite", max_tokens=256, messages=ask, tools=TOOLS, tool_choice={"type": "auto"}
    )
    assert auto.stop_reason == "tool_use"
    assert "toolChoice" not in (await converse_body(emu))["toolConfig"]
    await emu.reset()
    none = await anthropic_client.messages.create(
        model="nova-lite", max_tokens=256, messages=ask, tools=TOOLS, tool_choice={"type": "none"}
    )
    assert none.stop_reason == "end_turn"
    assert "toolConfig" not in await converse_body(emu)


@pytest.mark.parametrize(
    ("model", "choice", "said"),
    [
        (
            "mistral-7b",
            {"type": "any"},
            "Model mistral-7b does not support tool_choice 'any' (Bedrock cannot force its tool "
            "use); it supports 'auto', 'none'.",
        ),
        (
            "mistral-7b",
            {"type": "tool", "name": "get_time"},
            "Model mistral-7b does not support tool_choice 'tool'",
        ),
        (
            "nova-lite",
            {"type": "tool", "name": "get_news"},
            "tool_choice names the tool 'get_news', which is not in tools.",
        ),
        (
            "claude-thinking",
            {"type": "any"},
            "tool_choice 'any' is not supported with extended thinking; use 'auto' or 'none'.",
        ),
    ],
)
async def test_a_choice_the_model_or_the_tools_cannot_take_is_a_400_bedrock_never_sees(
    anthropic_client: AsyncAnthropic,
    emu: AsyncEmulatorClient,
    model: str,
    choice: ToolChoiceParam,
    said: str,
) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await anthropic_client.messages.create(
            model=model, max_tokens=256, messages=HELLO, tools=TOOLS, tool_choice=choice
        )
    assert refused.value.status_code == 400
    error = refused.value.body["error"]  # type: ignore[index]
    assert error["type"] == "invalid_request_error"
    assert said in error["message"]
    assert await emu.requests() == []


async def test_server_tools_bedrock_cannot_run_are_refused(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await anthropic_client.messages.create(
            model="nova-lite",
            max_tokens=256,
            messages=HELLO,
            tools=[{"type": "web_search_20250305", "name": "web_search"}],
        )
    assert "tools.0: tools of type 'web_search_20250305' are not supported" in str(
        refused.value.message
    )
    assert await emu.requests() == []
