"""``tool_choice`` and ``parallel_tool_calls`` through the OpenAI SDK, as Bedrock receives them."""

from __future__ import annotations

from typing import Any

import httpx2
import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolChoiceOptionParam

from fmgate_emulator import AsyncEmulatorClient
from tests.fronts.openai.tool_definitions import TIME_TOOL, WEATHER_TOOL, emulator_arguments
from tests.harness.api_gateway import TEST_API_KEY

NOVA_LITE = "amazon.nova-lite-v1:0"
TOOLS = [WEATHER_TOOL, TIME_TOOL]
PLAIN = "What should I wear in Paris today?"
TWO_CALLS = "Please use tool get_weather for Paris and use tool get_time there"


def ask(prompt: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": prompt}]


async def last_converse_body(emu: AsyncEmulatorClient) -> dict[str, Any]:
    requests = await emu.requests(model_id=NOVA_LITE)
    body: dict[str, Any] = requests[-1]["body"]
    return body


@pytest.mark.parametrize(
    ("choice", "converse_choice", "called"),
    [
        ("required", {"any": {}}, "get_weather"),
        (
            {"type": "function", "function": {"name": "get_time"}},
            {"tool": {"name": "get_time"}},
            "get_time",
        ),
    ],
)
async def test_required_and_a_named_function_make_the_model_call_a_tool(
    openai_client: AsyncOpenAI,
    emu: AsyncEmulatorClient,
    choice: ChatCompletionToolChoiceOptionParam,
    converse_choice: dict[str, object],
    called: str,
) -> None:
    completion = await openai_client.chat.completions.create(
        model="nova-lite", messages=ask(PLAIN), tools=TOOLS, tool_choice=choice
    )
    [result] = completion.choices
    assert result.finish_reason == "tool_calls"
    [call] = result.message.tool_calls or []
    assert call.type == "function"
    assert call.function.name == called
    body = await last_converse_body(emu)
    assert body["toolConfig"]["toolChoice"] == converse_choice


async def test_auto_leaves_the_choice_to_the_model(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    completion = await openai_client.chat.completions.create(
        model="nova-lite", messages=ask(PLAIN), tools=TOOLS, tool_choice="auto"
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None
    body = await last_converse_body(emu)
    assert len(body["toolConfig"]["tools"]) == 2
    assert "toolChoice" not in body["toolConfig"]  # Converse's default is auto


async def test_none_offers_the_model_no_tools(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    completion = await openai_client.chat.completions.create(
        model="nova-lite", messages=ask(TWO_CALLS), tools=TOOLS, tool_choice="none"
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None
    assert completion.choices[0].message.content
    body = await last_converse_body(emu)
    assert "toolConfig" not in body


async def test_a_function_not_in_tools_is_400_naming_tool_choice(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="nova-lite",
            messages=ask(PLAIN),
            tools=TOOLS,
            tool_choice={"type": "function", "function": {"name": "get_tide"}},
        )
    assert caught.value.status_code == 400
    assert caught.value.param == "tool_choice"
    assert "get_tide" in caught.value.message
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["type"] == "invalid_request_error"
    assert await emu.requests(model_id=NOVA_LITE) == []


async def test_required_without_tools_is_400(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(
            model="nova-lite", messages=ask(PLAIN), tool_choice="required"
        )
    assert caught.value.param == "tool_choice"


@pytest.mark.parametrize(
    "choice", ["any", {"type": "allowed_tools", "allowed_tools": {"mode": "auto", "tools": []}}]
)
async def test_a_tool_choice_of_another_form_is_400(
    api_http: httpx2.AsyncClient, choice: object
) -> None:
    response = await api_http.post(
        "/v1/chat/completions",
        json={"model": "nova-lite", "messages": ask(PLAIN), "tools": TOOLS, "tool_choice": choice},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert (error["type"], error["param"]) == ("invalid_request_error", "tool_choice")
    assert "'required'" in error["message"]


async def test_parallel_tool_calls_false_keeps_the_first_call_of_the_turn(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    whole = await openai_client.chat.completions.create(
        model="nova-lite", messages=ask(TWO_CALLS), tools=TOOLS, parallel_tool_calls=False
    )
    [call] = whole.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert (call.function.name, call.function.arguments) == (
        "get_weather",
        emulator_arguments(TWO_CALLS),
    )
    assert whole.choices[0].finish_reason == "tool_calls"
    # One model call, which (as parallel_tool_calls=True below shows) made two tool calls.
    assert len(await emu.requests(model_id=NOVA_LITE)) == 1

    stream = await openai_client.chat.completions.create(
        model="nova-lite",
        messages=ask(TWO_CALLS),
        tools=TOOLS,
        parallel_tool_calls=False,
        stream=True,
    )
    chunks = [chunk async for chunk in stream]
    deltas = [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]
    assert {d.index for d in deltas} == {0}
    assert [d.id for d in deltas if d.id] == [call.id]
    assert "".join(d.function.arguments or "" for d in deltas if d.function) == (
        call.function.arguments
    )

    answer = await openai_client.chat.completions.create(
        model="nova-lite",
        tools=TOOLS,
        parallel_tool_calls=False,
        messages=[
            *ask(TWO_CALLS),
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
            {"role": "tool", "tool_call_id": call.id, "content": "Sunny"},
        ],
    )
    assert answer.choices[0].finish_reason == "stop"


async def test_parallel_tool_calls_true_keeps_every_call(openai_client: AsyncOpenAI) -> None:
    whole = await openai_client.chat.completions.create(
        model="nova-lite", messages=ask(TWO_CALLS), tools=TOOLS, parallel_tool_calls=True
    )
    calls = whole.choices[0].message.tool_calls or []
    assert [c.function.name for c in calls if c.type == "function"] == ["get_weather", "get_time"]
