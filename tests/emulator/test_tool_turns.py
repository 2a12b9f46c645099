"""The emulator's tool rules, through boto3 and aiobotocore: which models take tools, how calls
and results pair up, and the reasoning blocks extended thinking wants back."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator.content import REDACT_MARKER, reasoning_signature
from tests.emulator.sdk import user

NOVA_LITE = "amazon.nova-lite-v1:0"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
TOOLS = {
    "tools": [
        {"toolSpec": {"name": "weather", "inputSchema": {"json": {"type": "object"}}}},
        {"toolSpec": {"name": "clock", "inputSchema": {"json": {"type": "object"}}}},
    ]
}
THINKING = {"thinking": {"type": "enabled", "budget_tokens": 1024}}


def message_of(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
    return str(excinfo.value.response["Error"]["Message"])


def assistant(*blocks: dict[str, Any]) -> dict[str, Any]:
    return {"role": "assistant", "content": list(blocks)}


def tool_turn(*blocks: dict[str, Any]) -> dict[str, Any]:
    """A user turn of tool results only."""
    return {"role": "user", "content": list(blocks)}


def tool_use(tool_use_id: str, name: str = "clock") -> dict[str, Any]:
    return {"toolUse": {"toolUseId": tool_use_id, "name": name, "input": {}}}


def tool_result(tool_use_id: str, text: str = "12:00") -> dict[str, Any]:
    return {"toolResult": {"toolUseId": tool_use_id, "content": [{"text": text}]}}


def test_a_model_without_tool_use_refuses_tool_config(bedrock: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.converse(
            modelId="mistral.mistral-7b-instruct-v0:2", messages=[user("hi")], toolConfig=TOOLS
        )
    assert message_of(excinfo) == "This model doesn't support tool use."


async def test_a_model_with_tools_in_converse_only_refuses_them_in_converse_stream(
    aio_bedrock: Any,
) -> None:
    model = "us.meta.llama3-1-8b-instruct-v1:0"
    whole = await aio_bedrock.converse(
        modelId=model, messages=[user("use tool clock")], toolConfig=TOOLS
    )
    assert whole["stopReason"] == "tool_use"
    with pytest.raises(ClientError) as excinfo:
        await aio_bedrock.converse_stream(
            modelId=model, messages=[user("use tool clock")], toolConfig=TOOLS
        )
    assert message_of(excinfo) == "This model doesn't support tool use in streaming mode."


def test_two_tools_called_in_one_turn_and_both_answered(bedrock: Any) -> None:
    ask = user("use tool weather and use tool clock")
    first = bedrock.converse(modelId=NOVA_LITE, messages=[ask], toolConfig=TOOLS)
    calls = [b["toolUse"] for b in first["output"]["message"]["content"]]
    assert [c["name"] for c in calls] == ["weather", "clock"]
    results = tool_turn(*(tool_result(c["toolUseId"]) for c in calls))
    second = bedrock.converse(
        modelId=NOVA_LITE, messages=[ask, first["output"]["message"], results], toolConfig=TOOLS
    )
    assert second["stopReason"] == "end_turn"


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        (
            [user("a"), assistant(tool_use("t1")), tool_turn(tool_result("t1"), tool_result("t2"))],
            "The number of toolResult blocks at messages.2.content exceeds the number of toolUse "
            "blocks of previous turn.",
        ),
        (
            [user("a"), assistant(tool_use("t1")), tool_turn(tool_result("t9"))],
            "The model returned the following errors: messages.2.content.0: unexpected "
            "`tool_use_id` found in `tool_result` blocks: t9. Each `tool_result` block must have "
            "a corresponding `tool_use` block in the previous message.",
        ),
        (
            [user("a"), assistant(tool_use("t1"), tool_use("t2")), tool_turn(tool_result("t1"))],
            "The model returned the following errors: messages.1: `tool_use` ids were found "
            "without `tool_result` blocks immediately after: t2. Each `tool_use` block must have "
            "a corresponding `tool_result` block in the next message.",
        ),
    ],
    ids=["more results than calls", "result for another id", "call without result"],
)
def test_tool_results_must_answer_the_calls_of_the_turn_before(
    bedrock: Any, messages: list[dict[str, Any]], expected: str
) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.converse(modelId=NOVA_LITE, messages=messages, toolConfig=TOOLS)
    assert message_of(excinfo) == expected


def thinking_call(bedrock: Any, messages: list[dict[str, Any]]) -> dict[str, Any]:
    response: dict[str, Any] = bedrock.converse(
        modelId=CLAUDE_37,
        messages=messages,
        toolConfig=TOOLS,
        inferenceConfig={"maxTokens": 4096},
        additionalModelRequestFields=THINKING,
    )
    return response


def test_thinking_tool_loop_needs_the_signed_reasoning_block_back(bedrock: Any) -> None:
    ask = user("use tool clock")
    first = thinking_call(bedrock, [ask])
    reasoning, call = first["output"]["message"]["content"]
    signature = reasoning["reasoningContent"]["reasoningText"]["signature"]
    assert signature == reasoning_signature(reasoning["reasoningContent"]["reasoningText"]["text"])
    results = tool_turn(tool_result(call["toolUse"]["toolUseId"]))

    whole_turn = thinking_call(bedrock, [ask, first["output"]["message"], results])
    assert whole_turn["stopReason"] == "end_turn"

    with pytest.raises(ClientError) as excinfo:
        thinking_call(bedrock, [ask, assistant(call), results])
    assert message_of(excinfo).startswith(
        "The model returned the following errors: messages.1.content.0.type: Expected `thinking` "
        "or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final "
        "`assistant` message must start with a thinking block (preceeding the lastmost set of "
        "`tool_use` and `tool_result` blocks)."
    )

    tampered = {"reasoningText": {"text": "something else", "signature": signature}}
    with pytest.raises(ClientError) as excinfo:
        thinking_call(bedrock, [ask, assistant({"reasoningContent": tampered}, call), results])
    assert message_of(excinfo) == (
        "The model returned the following errors: messages.1.content.0: Invalid `signature` in "
        "`thinking` block"
    )

    unsigned = {"reasoningText": {"text": "something else"}}
    with pytest.raises(ClientError) as excinfo:
        thinking_call(bedrock, [ask, assistant({"reasoningContent": unsigned}, call), results])
    assert message_of(excinfo) == (
        "The model returned the following errors: "
        "messages.1.content.0.thinking.signature: Field required"
    )

    without_thinking = bedrock.converse(
        modelId=CLAUDE_37, messages=[ask, assistant(call), results], toolConfig=TOOLS
    )
    assert without_thinking["stopReason"] == "end_turn"  # "To avoid this requirement, disable"


def test_redacted_reasoning_comes_out_and_goes_back_as_given(bedrock: Any) -> None:
    ask = user(f"use tool clock {REDACT_MARKER}")
    first = thinking_call(bedrock, [ask])
    redacted, call = first["output"]["message"]["content"]
    data = redacted["reasoningContent"]["redactedContent"]
    assert isinstance(data, bytes)
    results = tool_turn(tool_result(call["toolUse"]["toolUseId"]))
    second = thinking_call(bedrock, [ask, first["output"]["message"], results])
    assert second["stopReason"] == "end_turn"
    forged = {"redactedContent": b"not from the model"}
    with pytest.raises(ClientError) as excinfo:
        thinking_call(bedrock, [ask, assistant({"reasoningContent": forged}, call), results])
    assert "messages.1.content.0" in message_of(excinfo)


async def test_redacted_reasoning_streams_as_one_delta(aio_bedrock: Any) -> None:
    response = await aio_bedrock.converse_stream(
        modelId=CLAUDE_37,
        messages=[user(f"hello {REDACT_MARKER}")],
        inferenceConfig={"maxTokens": 4096},
        additionalModelRequestFields=THINKING,
    )
    deltas = [
        event["contentBlockDelta"]["delta"]
        async for event in response["stream"]
        if "contentBlockDelta" in event
    ]
    redacted = [d["reasoningContent"]["redactedContent"] for d in deltas if "reasoningContent" in d]
    assert len(redacted) == 1
    assert isinstance(redacted[0], bytes)
