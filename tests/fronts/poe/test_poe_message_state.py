"""State Poe keeps for us: the ``data`` event a bot message stores, and the exact Converse history
rebuilt from the ``metadata`` Poe sends back.

The test plays Poe: it keeps each answer's last ``data`` event with the bot message and sends it
back as that message's ``metadata``; the emulator checks, as Bedrock does for Claude with
thinking and tools, that the tool-calling turn comes back led by its signed reasoning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import fastapi_poe as fp
import httpx

from fmgate.fronts.poe.message_state import (
    MAX_STATE_CHARS,
    MessageState,
    Reasoning,
    StateTurn,
    ToolUse,
    decode_state,
    encode_state,
)
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import REDACT_MARKER, reasoning_signature, reasoning_text
from tests.harness.poe_client import query, raw_events

THINKING_BOT = "claude-thinking"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
CLOCK_TOOL = {
    "type": "function",
    "function": {
        "name": "get_time",
        "description": "The time now.",
        "parameters": {"type": "object", "properties": {"request": {"type": "string"}}},
    },
}


@dataclass
class Answer:
    """One streamed answer as Poe would keep it."""

    text: str = ""
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    metadata: str | None = None
    errors: list[dict[str, Any]] = field(default_factory=list)


async def poe_request(
    session: httpx.AsyncClient, bot: str, messages: list[fp.ProtocolMessage], **fields: Any
) -> Answer:
    """A query as Poe sends it; the answer's text, its aggregated tool calls, its last state."""
    body = query(*messages).model_dump()
    body.update(fields)
    answer = Answer()
    calls: dict[int, dict[str, Any]] = {}
    for name, data in await raw_events(session, bot, body):
        if name == "text":
            answer.text += str(data["text"])
        elif name == "data":
            answer.metadata = str(data["metadata"])
        elif name == "error":
            answer.errors.append(data)
        elif name == "json":
            for delta in data["choices"][0]["delta"].get("tool_calls", []):  # type: ignore[index]
                call = calls.setdefault(delta["index"], {"function": {"arguments": ""}})
                if "id" in delta:
                    call.update(id=delta["id"], type=delta["type"])
                    call["function"]["name"] = delta["function"]["name"]
                call["function"]["arguments"] += delta["function"]["arguments"]
    answer.tool_calls = [calls[i] for i in sorted(calls)]
    return answer


def user(text: str) -> fp.ProtocolMessage:
    return fp.ProtocolMessage(role="user", content=text)


def bot_message(answer: Answer) -> fp.ProtocolMessage:
    return fp.ProtocolMessage(role="bot", content=answer.text, metadata=answer.metadata)


def converse_bodies(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [r["body"] for r in records if r["operation"] in ("Converse", "ConverseStream")]


async def tool_round(
    session: httpx.AsyncClient, history: list[fp.ProtocolMessage], ask: str
) -> list[fp.ProtocolMessage]:
    """One user turn of a tool loop, as Poe keeps it: the call, then the follow-up with the
    tool's result (the same bot message, whose last state replaces the first)."""
    asked = [*history, user(ask)]
    calling = await poe_request(session, THINKING_BOT, asked, tools=[CLOCK_TOOL])
    assert calling.errors == []
    [call] = calling.tool_calls
    results = [{"role": "tool", "name": "get_time", "tool_call_id": call["id"], "content": "12:00"}]
    answered = await poe_request(
        session,
        THINKING_BOT,
        [*asked, bot_message(calling)],
        tools=[CLOCK_TOOL],
        tool_calls=[call],
        tool_results=results,
    )
    assert answered.errors == []
    assert answered.metadata is not None
    return [*asked, bot_message(answered)]


async def test_thinking_with_tools_keeps_working_across_three_turns_through_metadata(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    history: list[fp.ProtocolMessage] = []
    for turn in range(3):
        history = await tool_round(poe, history, f"use tool get_time, turn {turn}")

    bodies = converse_bodies(await emu.requests(model_id=CLAUDE_37.removeprefix("us.")))
    assert len(bodies) == 6
    assert all("thinking" in b["additionalModelRequestFields"] for b in bodies)
    last = bodies[-1]["messages"]
    # Three loops: user, calling turn, results, answer; then the next user turn...
    assert [m["role"] for m in last] == ["user", "assistant", "user", "assistant"] * 2 + [
        "user",
        "assistant",
        "user",
    ]
    for calling in last[1::4]:
        reasoning, tool_use = calling["content"]
        signed = reasoning["reasoningContent"]["reasoningText"]
        assert signed["signature"] == reasoning_signature(signed["text"])
        assert tool_use["toolUse"]["name"] == "get_time"
    for answer in last[3::4]:
        reasoning, text = answer["content"]
        assert "reasoningContent" in reasoning
        assert text["text"].startswith("Echo: ")  # the model's own words, not Poe's rendering
        assert "Thinking" not in text["text"]


async def test_a_follow_up_without_the_state_goes_without_thinking(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    """fastapi_poe's own client sends the follow-up without the bot message: Bedrock would
    refuse the calling turn without its reasoning, so the call goes without thinking."""
    ask = [user("use tool get_time")]
    calling = await poe_request(poe, THINKING_BOT, ask, tools=[CLOCK_TOOL])
    [call] = calling.tool_calls
    result = {"role": "tool", "name": "get_time", "tool_call_id": call["id"], "content": "12:00"}
    answered = await poe_request(
        poe, THINKING_BOT, ask, tools=[CLOCK_TOOL], tool_calls=[call], tool_results=[result]
    )
    assert answered.errors == []
    first, second = converse_bodies(await emu.requests(model_id=CLAUDE_37.removeprefix("us.")))
    assert "thinking" in first["additionalModelRequestFields"]
    assert "thinking" not in second.get("additionalModelRequestFields", {})
    assert answered.metadata is not None
    state = MessageState.model_validate_json(answered.metadata)
    assert [t.role for t in state.turns] == ["assistant", "user", "assistant"]
    assert state.turns[0].reasoning == ()  # it never came back


async def test_redacted_reasoning_goes_back_as_it_came(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    ask = [user(f"use tool get_time {REDACT_MARKER}")]
    calling = await poe_request(poe, THINKING_BOT, ask, tools=[CLOCK_TOOL])
    assert "Thinking" not in calling.text  # nothing readable to show
    [call] = calling.tool_calls
    result = {"role": "tool", "name": "get_time", "tool_call_id": call["id"], "content": "12:00"}
    answered = await poe_request(
        poe,
        THINKING_BOT,
        [*ask, bot_message(calling)],
        tools=[CLOCK_TOOL],
        tool_calls=[call],
        tool_results=[result],
    )
    assert answered.errors == []
    _, second = converse_bodies(await emu.requests(model_id=CLAUDE_37.removeprefix("us.")))
    assert "thinking" in second["additionalModelRequestFields"]
    redacted = second["messages"][1]["content"][0]["reasoningContent"]["redactedContent"]
    assert isinstance(redacted, str)  # a blob: base64 on the wire


async def test_a_plain_answer_keeps_no_state_and_a_thinking_one_replays_exactly(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    plain = await poe_request(poe, "nova-lite", [user("hello")])
    assert plain.metadata is None

    first = await poe_request(poe, THINKING_BOT, [user("think first")])
    assert "> **Thinking…**" in first.text
    assert first.metadata is not None
    second = await poe_request(
        poe, THINKING_BOT, [user("think first"), bot_message(first), user("and again")]
    )
    assert second.errors == []
    _, body = converse_bodies(await emu.requests(model_id=CLAUDE_37.removeprefix("us.")))
    thought = reasoning_text("think first")
    assert body["messages"][1] == {
        "role": "assistant",
        "content": [
            {
                "reasoningContent": {
                    "reasoningText": {"text": thought, "signature": reasoning_signature(thought)}
                }
            },
            {"text": "Echo: think first (a deterministic reply from the fmgate Bedrock emulator)"},
        ],
    }


async def test_foreign_or_broken_metadata_is_ignored(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    state = MessageState(
        fmgate=1,
        bot="another-bot",
        model=CLAUDE_37,
        turns=(StateTurn(role="assistant", text="I am another bot's state"),),
    )
    for metadata in (
        "not json",
        json.dumps({"fmgate": 1, "bot": THINKING_BOT}),
        state.model_dump_json(),
        state.model_copy(update={"bot": THINKING_BOT, "model": "us.other.model"}).model_dump_json(),
        "x" * (MAX_STATE_CHARS + 1),
    ):
        shown = fp.ProtocolMessage(role="bot", content="what Poe shows", metadata=metadata)
        answer = await poe_request(poe, THINKING_BOT, [user("hi"), shown, user("next")])
        assert answer.errors == []
    for body in converse_bodies(await emu.requests(model_id=CLAUDE_37.removeprefix("us."))):
        assert body["messages"][1] == {"role": "assistant", "content": [{"text": "what Poe shows"}]}


def test_state_is_checked_and_bounded() -> None:
    models = {CLAUDE_37}
    call = ToolUse(id="tooluse_1", name="get_time", input={"request": "now"})
    state = MessageState(
        fmgate=1,
        bot=THINKING_BOT,
        model=CLAUDE_37,
        turns=(
            StateTurn(
                role="assistant",
                reasoning=(Reasoning(text="x" * 30_000, signature="sig"),),
                text="y" * MAX_STATE_CHARS,
                tool_uses=(call,),
            ),
        ),
    )
    encoded = encode_state(state)
    assert encoded is not None
    assert len(encoded) <= MAX_STATE_CHARS
    kept = decode_state(encoded, THINKING_BOT, models)
    assert kept is not None
    [turn] = kept.turns
    assert (turn.reasoning, turn.text, turn.tool_uses) == ((), "", (call,))  # degraded to fit
    assert decode_state(encoded, "other-bot", models) is None
    assert decode_state(encoded, THINKING_BOT, {"another-model"}) is None
    assert decode_state('{"fmgate": 2}', THINKING_BOT, models) is None
    huge = state.model_copy(
        update={"turns": (StateTurn(role="assistant", tool_uses=(call,) * 2000),)}
    )
    assert encode_state(huge) is None


async def test_results_alone_pair_with_the_calls_the_state_ends_with(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    ask = [user("use tool get_time")]
    calling = await poe_request(poe, THINKING_BOT, ask, tools=[CLOCK_TOOL])
    [call] = calling.tool_calls
    result = {"role": "tool", "name": "get_time", "tool_call_id": call["id"], "content": "12:00"}
    answered = await poe_request(
        poe, THINKING_BOT, [*ask, bot_message(calling)], tools=[CLOCK_TOOL], tool_results=[result]
    )
    assert answered.errors == []
    _, second = converse_bodies(await emu.requests(model_id=CLAUDE_37.removeprefix("us.")))
    assert "thinking" in second["additionalModelRequestFields"]
    assert [next(iter(b)) for b in second["messages"][1]["content"]] == [
        "reasoningContent",
        "toolUse",
    ]
