"""ConverseStream through the real SDKs: every event type, stream faults, incremental delivery."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import pytest
from botocore.exceptions import ClientError, EventStreamError
from urllib3.exceptions import ProtocolError

from fmgate_emulator import AsyncEmulatorClient, EmulatorClient
from fmgate_emulator.content import count_tokens, reply_text, split_tokens
from tests.emulator.sdk import STANDARD_RETRIES, user

NOVA_LITE = "amazon.nova-lite-v1:0"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
TOOLS = {"tools": [{"toolSpec": {"name": "clock", "inputSchema": {"json": {"type": "object"}}}}]}


def event_names(events: list[dict[str, Any]]) -> list[str]:
    return [next(iter(e)) for e in events]


def drain(stream: Iterable[dict[str, Any]], into: list[dict[str, Any]]) -> None:
    """Read a stream to its end (or its error), keeping what arrived."""
    into.extend(stream)


def text_of(events: list[dict[str, Any]], index: int = 0) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "")
        for e in events
        if "contentBlockDelta" in e and e["contentBlockDelta"]["contentBlockIndex"] == index
    )


def test_text_stream_events_in_order(bedrock: Any) -> None:
    response = bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("Tell me about otters")])
    assert response["ResponseMetadata"]["HTTPHeaders"]["content-type"] == (
        "application/vnd.amazon.eventstream"
    )
    events = list(response["stream"])
    expected = reply_text("Tell me about otters", None)[0]
    names = event_names(events)
    assert names[0] == "messageStart"
    assert events[0]["messageStart"] == {"role": "assistant"}
    assert names[-3:] == ["contentBlockStop", "messageStop", "metadata"]
    assert names.count("contentBlockDelta") == len(split_tokens(expected))  # one per token
    assert text_of(events) == expected
    assert events[-2]["messageStop"] == {"stopReason": "end_turn"}
    metadata = events[-1]["metadata"]
    assert metadata["usage"] == {
        "inputTokens": count_tokens("Tell me about otters"),
        "outputTokens": count_tokens(expected),
        "totalTokens": count_tokens("Tell me about otters") + count_tokens(expected),
    }
    assert metadata["metrics"]["latencyMs"] >= 0


async def test_reasoning_and_tool_use_stream_with_aiobotocore(aio_bedrock: Any) -> None:
    response = await aio_bedrock.converse_stream(
        modelId=CLAUDE_37,
        messages=[user("use tool clock please")],
        toolConfig=TOOLS,
        inferenceConfig={"maxTokens": 2048},
        additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    events = [event async for event in response["stream"]]
    reasoning = [
        e["contentBlockDelta"]["delta"]["reasoningContent"]
        for e in events
        if "contentBlockDelta" in e and e["contentBlockDelta"]["contentBlockIndex"] == 0
    ]
    assert "".join(r.get("text", "") for r in reasoning)
    assert "signature" in reasoning[-1]  # the signature closes the reasoning block
    [start] = [e["contentBlockStart"] for e in events if "contentBlockStart" in e]
    assert start["contentBlockIndex"] == 1
    assert start["start"]["toolUse"]["name"] == "clock"
    assert start["start"]["toolUse"]["toolUseId"].startswith("tooluse_")
    tool_input = "".join(
        e["contentBlockDelta"]["delta"]["toolUse"]["input"]
        for e in events
        if "contentBlockDelta" in e and e["contentBlockDelta"]["contentBlockIndex"] == 1
    )
    assert tool_input == '{"request":"use tool clock please"}'
    stops = [e["contentBlockStop"]["contentBlockIndex"] for e in events if "contentBlockStop" in e]
    assert stops == [0, 1]
    assert events[-2]["messageStop"]["stopReason"] == "tool_use"
    assert events[-1]["metadata"]["usage"]["outputTokens"] > 0


def test_stream_honours_max_tokens(bedrock: Any) -> None:
    events = list(
        bedrock.converse_stream(
            modelId=NOVA_LITE, messages=[user("a b c d e f")], inferenceConfig={"maxTokens": 4}
        )["stream"]
    )
    assert text_of(events) == reply_text("a b c d e f", 4)[0]
    assert events[-2]["messageStop"]["stopReason"] == "max_tokens"
    assert events[-1]["metadata"]["usage"]["outputTokens"] == 4


def test_stream_validation_error_is_an_http_error(bedrock: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.converse_stream(modelId="amazon.no-such-model-v9:0", messages=[user("x")])
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"


@pytest.mark.parametrize(
    "exception", ["throttlingException", "modelStreamErrorException", "internalServerException"]
)
def test_mid_stream_exception_raises_event_stream_error(
    bedrock: Any, control: EmulatorClient, exception: str
) -> None:
    control.inject("mid_stream_exception", after_tokens=3, exception=exception)
    received: list[dict[str, Any]] = []
    response = bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("x y z w")])
    with pytest.raises(EventStreamError) as excinfo:
        drain(response["stream"], received)
    assert excinfo.value.response["Error"]["Code"] == exception
    assert event_names(received).count("contentBlockDelta") == 3
    # The fault was used up: the next stream is whole.
    events = list(bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("x")])["stream"])
    assert event_names(events)[-1] == "metadata"


async def test_streaming_is_incremental(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    rate = 40.0
    await async_control.set_timing(ttft_ms=0, tokens_per_second=rate)
    response = await aio_bedrock.converse_stream(
        modelId=NOVA_LITE, messages=[user("one two three four five six")]
    )
    arrivals: list[float] = []
    async for event in response["stream"]:
        if "contentBlockDelta" in event:
            arrivals.append(time.monotonic())
    tokens = len(arrivals)
    assert tokens == len(split_tokens(reply_text("one two three four five six", None)[0]))
    # The emulator waits 1/rate between tokens; had the stream been buffered, everything would
    # arrive at once. The first token must arrive well before the last one is produced.
    assert arrivals[-1] - arrivals[0] >= 0.8 * (tokens - 1) / rate


async def test_slow_first_token_and_timed_stall_still_complete(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    await async_control.inject("slow_first_token", delay_seconds=0.05)
    await async_control.inject("stall", after_tokens=2, delay_seconds=0.05)
    for _ in range(2):
        response = await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("ok")])
        events = [event async for event in response["stream"]]
        assert text_of(events) == reply_text("ok", None)[0]
    assert await async_control.faults() == []


async def test_stall_without_delay_holds_until_the_client_gives_up(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    await async_control.inject("stall", after_tokens=1)
    response = await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("ok")])
    stream = response["stream"]
    received: list[dict[str, Any]] = []

    async def read_all() -> None:
        async for event in stream:
            received.append(event)

    with pytest.raises(TimeoutError):
        await asyncio.wait_for(read_all(), timeout=0.3)
    assert event_names(received) == ["messageStart", "contentBlockDelta"]
    stream.close()


def test_dropped_connection_mid_stream(bedrock: Any, control: EmulatorClient) -> None:
    control.inject("drop_connection", after_tokens=2)
    received: list[dict[str, Any]] = []
    response = bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("a b c")])
    with pytest.raises(ProtocolError, match="ended prematurely"):
        drain(response["stream"], received)
    assert event_names(received) == ["messageStart", "contentBlockDelta", "contentBlockDelta"]


def test_connection_dropped_before_headers_is_retried_by_the_sdk(
    make_bedrock: Any, control: EmulatorClient
) -> None:
    control.inject("drop_connection", operation="Converse")
    response = make_bedrock(STANDARD_RETRIES).converse(modelId=NOVA_LITE, messages=[user("hi")])
    assert response["output"]["message"]["content"][0]["text"] == reply_text("hi", None)[0]
    assert control.counters()["by_operation"] == {"Converse": 2}  # the dropped try + the retry
