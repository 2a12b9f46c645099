"""Tool calls through the OpenAI SDK: the model's call comes back, the result goes in."""

from __future__ import annotations

import json

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from fmgate_emulator import AsyncEmulatorClient
from tests.fronts.openai.tool_definitions import WEATHER_TOOL

ASK: ChatCompletionMessageParam = {
    "role": "user",
    "content": "Please use tool get_weather for Paris",
}


async def test_tool_call_round_trip(openai_client: AsyncOpenAI, emu: AsyncEmulatorClient) -> None:
    first = await openai_client.chat.completions.create(
        model="nova-lite", messages=[ASK], tools=[WEATHER_TOOL]
    )
    [choice] = first.choices
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    [call] = choice.message.tool_calls
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments), dict)

    second = await openai_client.chat.completions.create(
        model="nova-lite",
        tools=[WEATHER_TOOL],
        messages=[
            ASK,
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": call.id,
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": call.function.arguments},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 24 degrees"},
        ],
    )
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content

    requests = await emu.requests(model_id="amazon.nova-lite-v1:0")
    body = requests[-1]["body"]
    [tool] = body["toolConfig"]["tools"]
    assert tool["toolSpec"]["name"] == "get_weather"
    assert tool["toolSpec"]["inputSchema"]["json"] == WEATHER_TOOL["function"]["parameters"]
    _, assistant, user = body["messages"]
    [use] = [b["toolUse"] for b in assistant["content"] if "toolUse" in b]
    assert (use["toolUseId"], use["name"]) == (call.id, "get_weather")
    assert use["input"] == json.loads(call.function.arguments)
    [result] = [b["toolResult"] for b in user["content"] if "toolResult" in b]
    assert result["toolUseId"] == call.id
    assert result["content"] == [{"text": "Sunny, 24 degrees"}]
    assert result["status"] == "success"
