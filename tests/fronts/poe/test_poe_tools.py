"""Tools on Poe: fastapi_poe's own tool loop against the gateway on the emulator.

The client sends ``tools``, reads the model's calls from ``json`` events (OpenAI
``chat.completion.chunk`` deltas), runs its executables and sends the query again with
``tool_calls`` and ``tool_results``; the emulator records what Converse received.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

import fastapi_poe as fp
import httpx
import pytest
from fastapi_poe.types import FunctionCallDefinition, FunctionDefinition, ParametersDefinition

from fmgate.bots.tool_use import NO_TOOLS_NOTICE
from fmgate.config.loader import parse_catalog
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from tests.fakes.poe_api import FakePoeApi
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, ask, query, raw_events
from tests.harness.poe_gateway import CATALOG, GatewaySession, pointed_at

NOVA_LITE = "amazon.nova-lite-v1:0"
LLAMA_31 = "us.meta.llama3-1-8b-instruct-v1:0"

#: A bot whose model takes tools in Converse only (ConverseStream refuses them).
TOOL_BOTS = f"""
  - bot_name: llama-tools
    template: chat
    model_id: {LLAMA_31}
    tool_use: whole
"""


def function_tool(name: str, description: str) -> fp.ToolDefinition:
    return fp.ToolDefinition(
        type="function",
        function=FunctionDefinition(
            name=name,
            description=description,
            parameters=ParametersDefinition(
                type="object",
                properties={"request": {"type": "string"}},
                required=["request"],
            ),
        ),
    )


WEATHER = function_tool("get_weather", "The weather where the user is.")
TIME = function_tool("get_time", "The time where the user is.")
ASK_BOTH = "Please use tool get_weather and use tool get_time"


def get_weather(request: str) -> dict[str, object]:
    return {"forecast": "sunny", "celsius": 24, "asked": request}


async def get_time(request: str) -> str:
    return "12:00"


@pytest.fixture
async def session(
    monkeypatch: pytest.MonkeyPatch, gateway_session: GatewaySession, poe_api: FakePoeApi
) -> AsyncIterator[httpx.AsyncClient]:
    """A Poe-client session into a gateway serving the test catalog plus ``TOOL_BOTS``."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    catalog = pointed_at(parse_catalog(CATALOG + TOOL_BOTS, "catalog.yaml"), poe_api)
    async with gateway_session(catalog) as opened:
        yield opened


def converse_bodies(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["body"] for r in records if r["operation"] in ("Converse", "ConverseStream")]


async def tool_loop(session: httpx.AsyncClient, bot: str, request: fp.QueryRequest) -> str:
    """fastapi_poe's whole tool loop; the text it yields."""
    text = ""
    async for partial in fp.stream_request(
        request,
        bot,
        TEST_POE_KEY,
        base_url=BASE_URL,
        session=session,
        tools=[WEATHER, TIME],
        tool_executables=[get_weather, get_time],
        num_tries=1,
    ):
        text += partial.text
    return text


async def test_fastapi_poe_tool_loop_with_two_tools_in_one_turn(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    text = await tool_loop(session, "nova-lite", query(("user", ASK_BOTH)))

    first, second = converse_bodies(await emu.requests(model_id=NOVA_LITE))
    specs = [tool["toolSpec"] for tool in first["toolConfig"]["tools"]]
    assert [spec["name"] for spec in specs] == ["get_weather", "get_time"]
    assert specs[0]["inputSchema"]["json"] == WEATHER.function.parameters.model_dump()
    assert second["toolConfig"] == first["toolConfig"]
    question, calls, results = second["messages"]
    assert question == {"role": "user", "content": [{"text": ASK_BOTH}]}
    uses = [block["toolUse"] for block in calls["content"]]
    assert calls["role"] == "assistant"
    assert [use["name"] for use in uses] == ["get_weather", "get_time"]
    assert all(use["input"] == {"request": ASK_BOTH} for use in uses)
    assert results["role"] == "user"
    assert [block["toolResult"] for block in results["content"]] == [
        {
            "toolUseId": uses[0]["toolUseId"],
            "content": [{"text": json.dumps(get_weather(ASK_BOTH))}],
            "status": "success",
        },
        {
            "toolUseId": uses[1]["toolUseId"],
            "content": [{"text": json.dumps("12:00")}],
            "status": "success",
        },
    ]
    answered = " ".join(json.dumps(x) for x in (get_weather(ASK_BOTH), "12:00"))
    assert text == reply_text(answered, 512)[0]


async def test_tool_calls_stream_as_chat_completion_chunks(session: httpx.AsyncClient) -> None:
    body = query(("user", ASK_BOTH)).model_dump()
    body["tools"] = [WEATHER.model_dump(), TIME.model_dump()]
    events = await raw_events(session, "nova-lite", body)

    names = [name for name, _ in events]
    assert names[0] == "meta"
    assert names[-1] == "done"
    chunks: list[Any] = [data for name, data in events if name == "json"]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)
    assert len({c["id"] for c in chunks}) == 1
    choices = [c["choices"][0] for c in chunks]
    assert all(set(choice) == {"index", "delta", "finish_reason"} for choice in choices)
    assert [choice["finish_reason"] for choice in choices] == [None] * (len(choices) - 1) + [
        "tool_calls"
    ]
    deltas = [d for choice in choices for d in choice["delta"].get("tool_calls", [])]
    opened = [d for d in deltas if "id" in d]
    assert [(d["index"], d["type"], d["function"]) for d in opened] == [
        (0, "function", {"name": "get_weather", "arguments": ""}),
        (1, "function", {"name": "get_time", "arguments": ""}),
    ]
    for index in (0, 1):
        pieces = [d["function"]["arguments"] for d in deltas if d["index"] == index]
        assert len(pieces) > 2  # the arguments stream as the model writes them
        assert json.loads("".join(pieces)) == {"request": ASK_BOTH}


async def test_a_failed_tool_reaches_the_model_as_an_error_result(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    calls = [
        fp.ToolCallDefinition(
            id="tooluse_1",
            type="function",
            function=FunctionCallDefinition(name="get_weather", arguments='{"request": "x"}'),
        ),
        fp.ToolCallDefinition(
            id="tooluse_2",
            type="function",
            function=FunctionCallDefinition(name="get_time", arguments="{}"),
        ),
    ]
    body = query(("user", ASK_BOTH)).model_dump()
    body["tools"] = [WEATHER.model_dump(), TIME.model_dump()]
    body["tool_calls"] = [call.model_dump() for call in calls]
    body["tool_results"] = [
        {"role": "tool", "name": "get_weather", "tool_call_id": "tooluse_1", "content": "down"},
        {
            "role": "tool",
            "name": "get_time",
            "tool_call_id": "tooluse_2",
            "content": "no clock",
            "status": "error",
        },
    ]
    events = await raw_events(session, "nova-lite", body)
    assert [name for name, _ in events if name == "error"] == []

    [sent] = converse_bodies(await emu.requests(model_id=NOVA_LITE))
    _, assistant, results = sent["messages"]
    assert [b["toolUse"]["input"] for b in assistant["content"]] == [{"request": "x"}, {}]
    assert [
        (b["toolResult"]["toolUseId"], b["toolResult"]["status"]) for b in results["content"]
    ] == [
        ("tooluse_1", "success"),
        ("tooluse_2", "error"),
    ]


async def test_custom_tools_are_refused_with_a_clear_message(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    body = query(("user", "hello")).model_dump()
    body["tools"] = [{"type": "custom", "custom": {"name": "sql", "format": {"type": "text"}}}]
    events = await raw_events(session, "nova-lite", body)
    assert [name for name, _ in events] == ["meta", "error", "done"]
    error = events[1][1]
    assert error["allow_retry"] is False
    assert error["error_type"] == "user_caused_error"
    assert "function tools only" in str(error["text"])
    assert "'custom'" in str(error["text"])

    custom = fp.ToolDefinition(type="custom", function=WEATHER.function)
    with pytest.raises(fp.client.BotErrorNoRetry, match="function tools only"):
        async for _ in fp.stream_request(
            query(("user", "hello")),
            "nova-lite",
            TEST_POE_KEY,
            base_url=BASE_URL,
            session=session,
            tools=[custom],
            tool_executables=[get_weather],
            num_tries=1,
        ):
            pass
    assert converse_bodies(await emu.requests()) == []  # nothing reached Bedrock


async def test_a_bot_whose_model_has_no_tools_answers_without_them_and_says_so_once(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    text = await tool_loop(session, "mistral-7b", query(("user", ASK_BOTH)))
    assert text.count(NO_TOOLS_NOTICE) == 1
    assert text.endswith(reply_text(ASK_BOTH, 512)[0])
    [sent] = converse_bodies(await emu.requests(model_id="mistral.mistral-7b-instruct-v0:2"))
    assert "toolConfig" not in sent


async def test_earlier_tool_calls_reach_a_model_without_tools_as_text(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    body = query(("user", ASK_BOTH)).model_dump()
    body["tool_calls"] = [
        {
            "id": "t1",
            "type": "function",
            "function": {"name": "get_time", "arguments": '{"request": "now"}'},
        }
    ]
    body["tool_results"] = [
        {"role": "tool", "name": "get_time", "tool_call_id": "t1", "content": "12:00"}
    ]
    await raw_events(session, "mistral-7b", body)
    [sent] = converse_bodies(await emu.requests(model_id="mistral.mistral-7b-instruct-v0:2"))
    assert sent["messages"] == [
        {"role": "user", "content": [{"text": ASK_BOTH}]},
        {
            "role": "assistant",
            "content": [{"text": '[Called tool get_time with {"request": "now"}]'}],
        },
        {"role": "user", "content": [{"text": "[Result of tool get_time: 12:00]"}]},
    ]


async def test_a_model_with_tools_in_converse_only_is_asked_through_converse(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    text = await tool_loop(session, "llama-tools", query(("user", "use tool get_time")))
    assert text == reply_text(json.dumps("12:00"), 512)[0]
    records = await emu.requests(model_id=LLAMA_31)
    assert [r["operation"] for r in records] == ["Converse", "Converse"]
    plain = await ask(session, "llama-tools", "no tools here")
    assert plain.text == reply_text("no tools here", 512)[0]
    assert (await emu.requests(model_id=LLAMA_31))[-1]["operation"] == "ConverseStream"


async def test_a_tool_message_in_the_chat_is_read_as_tool_output(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    reply = await ask(
        session,
        "nova-lite",
        query(("user", "what did the tool say?"), ("tool", "42"), ("user", "explain")),
    )
    assert reply.error is None
    [sent] = converse_bodies(await emu.requests(model_id=NOVA_LITE))
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [{"text": "what did the tool say?\n\n[Tool output]: 42\n\nexplain"}],
        }
    ]


async def test_results_of_calls_nowhere_in_sight_are_read_as_text(
    session: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    body = query(("user", "what time is it?")).model_dump()
    body["tools"] = [TIME.model_dump()]
    body["tool_results"] = [
        {"role": "tool", "name": "get_time", "tool_call_id": "t9", "content": "12:00"}
    ]
    events = await raw_events(session, "nova-lite", body)
    assert "error" not in [name for name, _ in events]
    [sent] = converse_bodies(await emu.requests(model_id=NOVA_LITE))
    assert sent["messages"] == [
        {"role": "user", "content": [{"text": "what time is it?\n\n[Result of tool t9: 12:00]"}]}
    ]
