"""Function tools on ``/v1/responses`` through the official OpenAI SDK: the model calls the
tool, the client sends its ``function_call_output``, the model answers; with the whole
conversation sent again, with ``previous_response_id``, whole and streamed."""

from __future__ import annotations

import json
from typing import Any

import httpx2
import pytest
from openai import AsyncOpenAI
from openai.types.responses import FunctionToolParam, Response, ResponseFunctionToolCall

from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import TEST_API_KEY

WEATHER: FunctionToolParam = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
    },
    "strict": False,
}
ASK = "Please use tool get_weather for Paris"
NOVA_LITE = "amazon.nova-lite-v1:0"


async def respond(client: AsyncOpenAI, stream: bool, **params: Any) -> Response:
    """One response, created whole or accumulated from the SDK's stream."""
    if not stream:
        response: Response = await client.responses.create(model="nova-lite", **params)
        return response
    pieces: dict[str, list[str]] = {}
    async with client.responses.stream(model="nova-lite", **params) as events:
        async for event in events:
            if event.type == "response.function_call_arguments.delta":
                pieces.setdefault(event.item_id, []).append(event.delta)
        final = await events.get_final_response()
    for item in final.output:
        if item.type == "function_call":  # the arguments came in several deltas, as streamed
            assert item.id is not None
            assert len(pieces[item.id]) > 1
            assert "".join(pieces[item.id]) == item.arguments
    return final


def the_call(response: Response) -> ResponseFunctionToolCall:
    [call] = [item for item in response.output if item.type == "function_call"]
    assert isinstance(call, ResponseFunctionToolCall)
    return call


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_two_step_tool_loop_sending_the_conversation_again(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, stream: bool
) -> None:
    first = await respond(openai_client, stream, input=ASK, tools=[WEATHER])
    assert first.status == "completed"
    call = the_call(first)
    assert call.name == "get_weather"
    assert call.id is not None
    assert call.id.startswith("fc_")
    assert call.status == "completed"
    assert isinstance(json.loads(call.arguments), dict)

    second = await respond(
        openai_client,
        stream,
        tools=[WEATHER],
        store=False,
        input=[
            {"role": "user", "content": ASK},
            *[item.model_dump(exclude_none=True) for item in first.output],
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 24 C"},
        ],
    )
    assert second.status == "completed"
    assert [item.type for item in second.output] == ["message"]
    assert "Sunny, 24 C" in second.output_text

    requests = await emu.requests(model_id=NOVA_LITE)
    body = requests[-1]["body"]
    [tool] = body["toolConfig"]["tools"]
    assert tool["toolSpec"]["inputSchema"]["json"] == WEATHER["parameters"]
    _user, assistant, result_turn = body["messages"]
    [use] = [block["toolUse"] for block in assistant["content"] if "toolUse" in block]
    assert (use["toolUseId"], use["name"]) == (call.call_id, "get_weather")
    assert use["input"] == json.loads(call.arguments)
    [result] = [block["toolResult"] for block in result_turn["content"] if "toolResult" in block]
    assert result["toolUseId"] == call.call_id
    assert result["content"] == [{"text": "Sunny, 24 C"}]


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_two_step_tool_loop_with_previous_response_id(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, stream: bool
) -> None:
    first = await respond(
        openai_client, stream, input=ASK, tools=[WEATHER], instructions="Use tools."
    )
    call = the_call(first)
    second = await respond(
        openai_client,
        stream,
        tools=[WEATHER],
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "Rain"}],
    )
    assert second.previous_response_id == first.id
    assert "Rain" in second.output_text
    third = await respond(
        openai_client, stream, previous_response_id=second.id, input="And tomorrow?"
    )
    assert "tomorrow" in third.output_text

    requests = await emu.requests(model_id=NOVA_LITE)
    continued, last = requests[-2]["body"], requests[-1]["body"]
    assert "system" not in continued  # instructions are not carried over, as on OpenAI
    assert [m["role"] for m in continued["messages"]] == ["user", "assistant", "user"]
    assert [m["role"] for m in last["messages"]] == [
        "user",
        "assistant",
        "user",
        "assistant",
        "user",
    ]
    assert last["messages"][-1]["content"] == [{"text": "And tomorrow?"}]
    # The earlier tool turns need definitions on Bedrock: the tools they name are declared.
    [declared] = last["toolConfig"]["tools"]
    assert declared["toolSpec"]["name"] == "get_weather"


@pytest.mark.parametrize(
    ("choice", "sent"),
    [
        ("auto", None),  # Bedrock's default, left out
        ("required", {"any": {}}),
        ({"type": "function", "name": "get_weather"}, {"tool": {"name": "get_weather"}}),
    ],
)
async def test_tool_choice_reaches_converse(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, choice: Any, sent: object
) -> None:
    response = await openai_client.responses.create(
        model="nova-lite", input="What is the weather?", tools=[WEATHER], tool_choice=choice
    )
    [request] = await emu.requests(model_id=NOVA_LITE)
    assert request["body"]["toolConfig"].get("toolChoice") == sent
    if choice != "auto":
        assert the_call(response).name == "get_weather"


async def test_tool_choice_none_offers_no_tools(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    response = await openai_client.responses.create(
        model="nova-lite", input=ASK, tools=[WEATHER], tool_choice="none"
    )
    assert [item.type for item in response.output] == ["message"]
    [request] = await emu.requests(model_id=NOVA_LITE)
    assert "toolConfig" not in request["body"]


@pytest.mark.parametrize(
    ("items", "says"),
    [
        (
            [{"type": "function_call_output", "call_id": "call_9", "output": "x"}],
            "No tool call found for function call output with call_id call_9.",
        ),
        (
            [
                {
                    "type": "function_call",
                    "call_id": "call_9",
                    "name": "get_weather",
                    "arguments": "{}",
                }
            ],
            "No tool output found for function call call_9.",
        ),
        (
            [
                {
                    "type": "function_call",
                    "call_id": "c1",
                    "name": "get_weather",
                    "arguments": "[1]",
                },
                {"type": "function_call_output", "call_id": "c1", "output": "x"},
            ],
            "arguments must be a JSON object",
        ),
    ],
)
async def test_unpaired_or_malformed_tool_items_are_refused(
    api_http: httpx2.AsyncClient, items: list[dict[str, str]], says: str
) -> None:
    response = await api_http.post(
        "/v1/responses",
        json={
            "model": "nova-lite",
            "tools": [WEATHER],
            "input": [{"role": "user", "content": "Hi"}, *items],
        },
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert response.status_code == 400
    assert says in response.json()["error"]["message"]


TIME: FunctionToolParam = {
    "type": "function",
    "name": "get_time",
    "parameters": {"type": "object", "properties": {}},
    "strict": False,
}
TWO_CALLS = "Please use tool get_weather for Paris and use tool get_time there"


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
async def test_parallel_tool_calls_false_keeps_the_first_call_of_the_turn(
    openai_client: AsyncOpenAI, stream: bool
) -> None:
    both = await respond(openai_client, stream, input=TWO_CALLS, tools=[WEATHER, TIME])
    names = [item.name for item in both.output if item.type == "function_call"]
    assert names == ["get_weather", "get_time"]
    one = await respond(
        openai_client, stream, input=TWO_CALLS, tools=[WEATHER, TIME], parallel_tool_calls=False
    )
    assert the_call(one).name == "get_weather"
    assert one.parallel_tool_calls is False
