"""Tool use through the Anthropic SDK: tool_use blocks out, tool_result blocks back in."""

from __future__ import annotations

import json

from anthropic import AsyncAnthropic
from anthropic.types import MessageParam, ToolParam, ToolUseBlock

from fmgate_emulator import AsyncEmulatorClient

WEATHER_TOOL: ToolParam = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
}
ASK: MessageParam = {"role": "user", "content": "Please use tool get_weather for Paris"}


async def test_tool_use_round_trip_streamed(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    async with anthropic_client.messages.stream(
        model="nova-lite", max_tokens=256, messages=[ASK], tools=[WEATHER_TOOL]
    ) as stream:
        first = await stream.get_final_message()
    assert first.stop_reason == "tool_use"
    [use] = [block for block in first.content if isinstance(block, ToolUseBlock)]
    assert use.name == "get_weather"
    assert isinstance(use.input, dict)
    assert use.input

    second = await anthropic_client.messages.create(
        model="nova-lite",
        max_tokens=256,
        tools=[WEATHER_TOOL],
        messages=[
            ASK,
            {"role": "assistant", "content": first.content},  # the SDK's blocks, as they came
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": use.id, "content": "Sunny, 24 degrees"}
                ],
            },
        ],
    )
    assert second.stop_reason == "end_turn"
    assert second.content

    body = (await emu.requests(model_id="amazon.nova-lite-v1:0"))[-1]["body"]
    _, assistant, user = body["messages"]
    [sent_use] = [b["toolUse"] for b in assistant["content"] if "toolUse" in b]
    assert (sent_use["toolUseId"], sent_use["name"], sent_use["input"]) == (
        use.id,
        "get_weather",
        use.input,
    )
    [result] = [b["toolResult"] for b in user["content"] if "toolResult" in b]
    assert result["toolUseId"] == use.id
    assert result["content"] == [{"text": "Sunny, 24 degrees"}]


async def test_tool_input_streams_as_several_input_json_deltas(
    anthropic_client: AsyncAnthropic,
) -> None:
    async with anthropic_client.messages.stream(
        model="nova-lite", max_tokens=256, messages=[ASK], tools=[WEATHER_TOOL]
    ) as stream:
        events = [event async for event in stream]
        final = await stream.get_final_message()
    [start] = [e for e in events if e.type == "content_block_start"]
    assert start.content_block.type == "tool_use"
    assert start.content_block.input == {}  # the input follows as it streams
    pieces = [
        e.delta.partial_json
        for e in events
        if e.type == "content_block_delta" and e.delta.type == "input_json_delta"
    ]
    assert len(pieces) > 3  # as Bedrock streamed it, not one piece at the end
    expected = {"request": "Please use tool get_weather for Paris"}  # the emulator's input
    assert json.loads("".join(pieces)) == expected
    [use] = [block for block in final.content if isinstance(block, ToolUseBlock)]
    assert (use.id, use.name, use.input) == (start.content_block.id, "get_weather", expected)
    stops = [e.index for e in events if e.type == "content_block_stop"]
    assert stops == [start.index]


async def test_whole_message_tool_use(anthropic_client: AsyncAnthropic) -> None:
    message = await anthropic_client.messages.create(
        model="nova-lite", max_tokens=256, messages=[ASK], tools=[WEATHER_TOOL]
    )
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["tool_use"]
