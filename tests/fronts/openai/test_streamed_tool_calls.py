"""Streamed tool calls through the OpenAI SDK: each call opens with its index, id and name, then
its arguments arrive piece by piece as the model produces them (OpenAI's streaming convention)."""

from __future__ import annotations

import json

from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam
from openai.types.chat.chat_completion_chunk import ChoiceDeltaToolCall

from tests.fronts.openai.tool_definitions import TIME_TOOL, WEATHER_TOOL, emulator_arguments

ONE_CALL = "Please use tool get_weather for Paris"
TWO_CALLS = "Please use tool get_weather for Paris and use tool get_time there"


def ask(prompt: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": prompt}]


def tool_deltas(chunks: list[ChatCompletionChunk]) -> list[ChoiceDeltaToolCall]:
    return [tc for c in chunks if c.choices for tc in c.choices[0].delta.tool_calls or []]


def arguments_of(deltas: list[ChoiceDeltaToolCall], index: int) -> str:
    return "".join(
        d.function.arguments or "" for d in deltas if d.index == index and d.function is not None
    )


async def test_a_call_opens_with_its_name_then_streams_its_arguments_in_pieces(
    openai_client: AsyncOpenAI,
) -> None:
    stream = await openai_client.chat.completions.create(
        model="nova-lite",
        messages=ask(ONE_CALL),
        tools=[WEATHER_TOOL],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    opening, *pieces = tool_deltas(chunks)
    assert opening.index == 0
    assert opening.id
    assert opening.type == "function"
    assert opening.function is not None
    assert (opening.function.name, opening.function.arguments) == ("get_weather", "")
    assert len(pieces) > 1
    for piece in pieces:
        assert piece.index == 0
        assert piece.id is None
        assert piece.type is None
        assert piece.function is not None
        assert piece.function.name is None
        assert piece.function.arguments
    assert arguments_of(pieces, 0) == emulator_arguments(ONE_CALL)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens > 0

    whole = await openai_client.chat.completions.create(
        model="nova-lite", messages=ask(ONE_CALL), tools=[WEATHER_TOOL]
    )
    [call] = whole.choices[0].message.tool_calls or []
    assert call.type == "function"
    assert call.id == opening.id
    assert call.function.arguments == arguments_of(pieces, 0)


async def test_the_sdk_stream_helper_accumulates_the_whole_arguments(
    openai_client: AsyncOpenAI,
) -> None:
    async with openai_client.chat.completions.stream(
        model="nova-lite", messages=ask(ONE_CALL), tools=[WEATHER_TOOL]
    ) as stream:
        argument_deltas = []
        done = []
        async for event in stream:
            if event.type == "tool_calls.function.arguments.delta":
                argument_deltas.append(event.arguments_delta)
            elif event.type == "tool_calls.function.arguments.done":
                done.append((event.index, event.name, event.arguments))
        final = await stream.get_final_completion()
    assert len(argument_deltas) > 1
    assert done == [(0, "get_weather", emulator_arguments(ONE_CALL))]
    [choice] = final.choices
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather"
    assert call.function.arguments == emulator_arguments(ONE_CALL)
    assert json.loads(call.function.arguments) == {"request": ONE_CALL}


async def test_two_calls_in_one_turn_stream_as_indexes_0_and_1(
    openai_client: AsyncOpenAI,
) -> None:
    tools = [WEATHER_TOOL, TIME_TOOL]
    stream = await openai_client.chat.completions.create(
        model="nova-lite", messages=ask(TWO_CALLS), tools=tools, stream=True
    )
    chunks = [chunk async for chunk in stream]
    deltas = tool_deltas(chunks)
    openings = [d for d in deltas if d.id is not None]
    assert [d.index for d in openings] == [0, 1]
    assert [d.function.name for d in openings if d.function] == ["get_weather", "get_time"]
    assert len({d.id for d in openings}) == 2
    assert arguments_of(deltas, 0) == arguments_of(deltas, 1) == emulator_arguments(TWO_CALLS)
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"

    async with openai_client.chat.completions.stream(
        model="nova-lite", messages=ask(TWO_CALLS), tools=tools
    ) as helper:
        final = await helper.get_final_completion()
    calls = final.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name) for c in calls] == [
        (d.id, d.function.name) for d in openings if d.function
    ]
    assert all(c.function.arguments == emulator_arguments(TWO_CALLS) for c in calls)

    answer = await openai_client.chat.completions.create(
        model="nova-lite",
        tools=tools,
        messages=[
            *ask(TWO_CALLS),
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": c.id,
                        "type": "function",
                        "function": {"name": c.function.name, "arguments": c.function.arguments},
                    }
                    for c in calls
                ],
            },
            {"role": "tool", "tool_call_id": calls[0].id, "content": "Sunny"},
            {"role": "tool", "tool_call_id": calls[1].id, "content": "14:05"},
        ],
    )
    assert answer.choices[0].finish_reason == "stop"
    assert answer.choices[0].message.content


async def test_a_bot_answering_whole_still_streams_the_call_opening_first(
    openai_client: AsyncOpenAI,
) -> None:
    stream = await openai_client.chat.completions.create(
        model="nova-micro-whole", messages=ask(ONE_CALL), tools=[WEATHER_TOOL], stream=True
    )
    chunks = [chunk async for chunk in stream]
    opening, *pieces = tool_deltas(chunks)
    assert opening.function is not None
    assert (opening.index, opening.function.name, opening.function.arguments) == (
        0,
        "get_weather",
        "",
    )
    assert arguments_of(pieces, 0) == emulator_arguments(ONE_CALL)
