"""Converse (the real aiobotocore client) and ConverseStream (fmgate's own transport) against
the emulator."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator

import jsonschema
import pytest

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.converse import converse, converse_stream
from fmgate.core.errors import (
    AccessDenied,
    InvalidRequest,
    ModelStreamFailed,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from fmgate.core.events import Done, Event, ReasoningDelta, TextDelta, Usage, accumulate
from fmgate.core.model_request import (
    CachePoint,
    ChatMessage,
    ChatRequest,
    ImageBlock,
    OutputSchema,
    TextBlock,
    ToolSpec,
)
from fmgate_emulator import EmulatorClient
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

NOVA = "amazon.nova-lite-v1:0"
CLAUDE_PROFILE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)
REGION = "us-east-1"


def ask(text: str, model_id: str = NOVA, **options: object) -> ChatRequest:
    return ChatRequest(
        model_id=model_id,
        messages=(ChatMessage("user", (TextBlock(text),)),),
        **options,  # type: ignore[arg-type]
    )


async def collect(stream: AsyncIterator[Event], into: list[Event] | None = None) -> list[Event]:
    seen = into if into is not None else []
    async for event in stream:
        seen.append(event)
    return seen


async def test_stream_yields_text_then_usage_then_done(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    events = await collect(converse_stream(await clients.streams(REGION), ask("Say hello")))

    summary = accumulate(events)
    assert summary.text
    assert all(isinstance(e, TextDelta) for e in events[:-2])
    assert isinstance(events[-2], Usage)
    assert events[-2].input_tokens > 0
    assert events[-2].output_tokens > 0
    assert isinstance(events[-1], Done)
    assert events[-1].stop_reason == "end_turn"


async def test_cache_points_reach_the_emulator_and_its_usage_comes_back(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    system = " ".join(f"rule{i}" for i in range(1100))  # above Claude 3.7 Sonnet's 1,024
    req = ChatRequest(
        model_id=CLAUDE_PROFILE,
        messages=(ChatMessage("user", (TextBlock("question"), CachePoint())),),
        system=(system, CachePoint()),
        max_tokens=200,
    )
    first = accumulate(await collect(converse_stream(await clients.streams(REGION), req))).usage
    second = accumulate(await converse(await clients.get(REGION), req)).usage
    assert first is not None
    assert second is not None

    assert first == Usage(
        input_tokens=0, output_tokens=first.output_tokens, cache_write_tokens=1101
    )
    assert second == Usage(
        input_tokens=0, output_tokens=second.output_tokens, cache_read_tokens=1101
    )
    body = control.requests(model_id=CLAUDE_PROFILE)[0]["body"]
    assert body["system"][1] == {"cachePoint": {"type": "default"}}
    assert body["messages"][0]["content"][1] == {"cachePoint": {"type": "default"}}


async def test_a_cache_point_for_a_model_without_caching_is_access_denied(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    req = ChatRequest(
        model_id="meta.llama3-8b-instruct-v1:0",
        messages=(ChatMessage("user", (TextBlock("hi"), CachePoint())),),
    )
    with pytest.raises(AccessDenied):
        await collect(converse_stream(await clients.streams(REGION), req))


async def test_request_fields_reach_the_wire(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    req = ChatRequest(
        model_id=NOVA,
        messages=(ChatMessage("user", (TextBlock("what is this?"), ImageBlock("png", PNG))),),
        system=("You are terse.",),
        max_tokens=200,
        temperature=0.5,
        top_p=0.9,
        stop_sequences=("STOP",),
        optimize_latency=True,
    )

    await collect(converse_stream(await clients.streams(REGION), req))

    [recorded] = control.requests(model_id=NOVA)
    body = recorded["body"]
    assert body["system"] == [{"text": "You are terse."}]
    assert body["inferenceConfig"] == {
        "maxTokens": 200,
        "temperature": 0.5,
        "topP": 0.9,
        "stopSequences": ["STOP"],
    }
    assert body["performanceConfig"] == {"latency": "optimized"}
    image = body["messages"][0]["content"][1]["image"]
    assert image == {"format": "png", "source": {"bytes": base64.b64encode(PNG).decode()}}


async def test_thinking_streams_reasoning_and_sends_no_top_p(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    req = ask("Think about it", CLAUDE_PROFILE, max_tokens=4096, top_p=0.5, reasoning_budget=2048)

    events = await collect(converse_stream(await clients.streams(REGION), req))

    assert any(isinstance(e, ReasoningDelta) for e in events)
    assert accumulate(events).text
    [recorded] = control.requests(model_id=CLAUDE_PROFILE)
    body = recorded["body"]
    assert body["additionalModelRequestFields"]["thinking"] == {
        "type": "enabled",
        "budget_tokens": 2048,
    }
    assert "topP" not in body["inferenceConfig"]


async def test_converse_gives_the_same_kind_of_events(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    events = await converse(await clients.get(REGION), ask("Say hello"))

    assert isinstance(events[0], TextDelta)
    assert isinstance(events[-2], Usage)
    done = events[-1]
    assert isinstance(done, Done)
    assert done == Done(stop_reason="end_turn", latency_ms=done.latency_ms)
    assert control.counters()["total"] == 1


async def test_consumer_stopping_early_releases_the_pooled_connection(
    emulator_url: str, control: EmulatorClient
) -> None:
    """With a pool of one connection, a stream left mid-way must not keep it."""
    pool = BedrockClients(
        endpoint_url=emulator_url,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        max_pool_connections=1,
    )
    try:
        transport = await pool.streams(REGION)
        for _ in range(3):
            stream = converse_stream(transport, ask("Tell me a long story"))
            async for event in stream:
                if isinstance(event, TextDelta):
                    break
            await stream.aclose()  # type: ignore[attr-defined]
        async with asyncio.timeout(30):  # a leaked connection would block here forever
            events = await collect(converse_stream(transport, ask("Say hello")))
    finally:
        await pool.aclose()

    assert isinstance(events[-1], Done)


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("access_denied", AccessDenied), ("validation", InvalidRequest)],
)
async def test_http_errors_are_gateway_errors(
    clients: BedrockClients, control: EmulatorClient, kind: str, expected: type[Exception]
) -> None:
    control.inject(kind, model_id=NOVA)

    with pytest.raises(expected):
        await collect(converse_stream(await clients.streams(REGION), ask("hi")))


async def test_unknown_model_id_is_an_invalid_request(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    """Bedrock answers an unknown model id with ValidationException, like any bad request."""
    with pytest.raises(InvalidRequest):
        await converse(await clients.get(REGION), ask("hi", "amazon.no-such-model-v9:0"))


async def test_wrong_secret_is_access_denied(emulator_url: str, control: EmulatorClient) -> None:
    pool = BedrockClients(
        endpoint_url=emulator_url,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key="not-the-secret",
    )
    try:
        with pytest.raises(AccessDenied) as caught:
            await converse(await pool.get(REGION), ask("hi"))
    finally:
        await pool.aclose()
    assert "not-the-secret" not in caught.value.detail


async def test_mid_stream_exception_after_text(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    control.inject(
        "mid_stream_exception", model_id=NOVA, after_tokens=3, exception="modelStreamErrorException"
    )
    seen: list[Event] = []

    with pytest.raises(ModelStreamFailed):
        await collect(converse_stream(await clients.streams(REGION), ask("Tell me a story")), seen)

    assert accumulate(seen).text


async def test_dropped_connection_is_upstream_unavailable(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    control.inject("drop_connection", model_id=NOVA, after_tokens=2)

    with pytest.raises(UpstreamUnavailable):
        await collect(converse_stream(await clients.streams(REGION), ask("Tell me a story")))


async def test_stalled_stream_is_upstream_timeout(
    emulator_url: str, control: EmulatorClient
) -> None:
    control.inject("stall", model_id=NOVA, after_tokens=2)
    pool = BedrockClients(
        endpoint_url=emulator_url,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        read_timeout=0.5,
    )
    try:
        with pytest.raises(UpstreamTimeout):
            await collect(converse_stream(await pool.streams(REGION), ask("Tell me a story")))
    finally:
        await pool.aclose()


#: An object schema that does not close itself: the gateway closes it for Bedrock.
FORECAST: dict[str, object] = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "days": {"type": "array", "items": {"type": "integer"}},
        "sky": {"type": "string", "enum": ["clear", "cloudy"]},
    },
    "required": ["city", "days", "sky"],
}


async def test_an_output_schema_comes_back_as_json_it_describes(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    client = await clients.get(REGION)
    req = ask("Forecast Oslo", "qwen.qwen3-32b-v1:0", output_schema=OutputSchema(FORECAST, "f"))
    streamed = accumulate(await collect(converse_stream(await clients.streams(REGION), req))).text
    whole = accumulate(await converse(client, req)).text
    assert streamed == whole
    jsonschema.validate(json.loads(whole), FORECAST)
    with pytest.raises(InvalidRequest):
        await converse(client, ask("Forecast Oslo", NOVA, output_schema=OutputSchema(FORECAST)))


async def test_a_strict_tool_call_follows_its_schema(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    tool = ToolSpec("forecast", "Forecasts.", FORECAST, strict=True)
    req = ask("Oslo? use tool forecast", "qwen.qwen3-32b-v1:0", tools=(tool,))
    [call] = accumulate(await converse(await clients.get(REGION), req)).tool_calls
    jsonschema.validate(json.loads(call.input_json), FORECAST)
