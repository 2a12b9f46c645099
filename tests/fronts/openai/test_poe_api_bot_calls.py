"""``/v1/chat/completions`` as a Poe API bot calls it: the OpenAI SDK with the key Poe holds
(``stream_usage: always``), the bot's name as the model, parameter-control values as request
fields, and the usage Poe bills from at the end of every stream."""

from __future__ import annotations

import httpx2
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionChunk, ChatCompletionMessageParam

from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import ApiKeyRef
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, TEST_CALLER, ledger_row

POE_BOTS_KEY = "sk-fmgate-poe-api-bots-5c2e9a7b13d4"
POE_CALLER = "poe-api-bots"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "Hello from Poe"}]


@pytest.fixture
def api_catalog(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """The gateway tests' catalog with a test caller's key and the key Poe's API bots use."""
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    monkeypatch.setenv("FMGATE_TEST_POE_BOTS_KEY", POE_BOTS_KEY)
    keys = (
        ApiKeyRef(caller=TEST_CALLER, key="env:FMGATE_TEST_API_KEY"),
        ApiKeyRef(caller=POE_CALLER, key="env:FMGATE_TEST_POE_BOTS_KEY", stream_usage="always"),
    )
    settings = catalog.gateway.model_copy(update={"api_keys": keys})
    return catalog.model_copy(update={"gateway": settings})


@pytest.fixture
def poe(api_http: httpx2.AsyncClient) -> AsyncOpenAI:
    """What Poe does with an API bot's base URL and key: an OpenAI-compatible client."""
    return AsyncOpenAI(
        api_key=POE_BOTS_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )


def usage_chunks(chunks: list[ChatCompletionChunk]) -> list[ChatCompletionChunk]:
    return [chunk for chunk in chunks if chunk.usage is not None]


async def test_a_stream_that_does_not_ask_for_usage_still_ends_with_it(
    poe: AsyncOpenAI, api_gateway: Gateway
) -> None:
    raw = await poe.chat.completions.with_raw_response.create(
        model="nova-lite", messages=MESSAGES, stream=True
    )
    chunks = [chunk async for chunk in raw.parse()]

    *answer, last = chunks
    assert answer[-1].choices[0].finish_reason == "stop"
    assert "".join(c.choices[0].delta.content or "" for c in answer)
    assert usage_chunks(chunks) == [last]
    assert last.choices == []
    assert last.usage is not None
    row = await ledger_row(api_gateway, raw.headers["x-request-id"])
    assert row.user_id == POE_CALLER
    assert (row.input_tokens, row.output_tokens) == (
        last.usage.prompt_tokens,
        last.usage.completion_tokens,
    )
    assert row.cost_milli_cents > 0


async def test_asking_for_usage_too_gives_one_usage_chunk(poe: AsyncOpenAI) -> None:
    stream = await poe.chat.completions.create(
        model="nova-lite",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    assert len(usage_chunks(chunks)) == 1
    assert chunks[-1].usage is not None


async def test_other_keys_keep_openais_rule(api_http: httpx2.AsyncClient) -> None:
    other = AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )
    stream = await other.chat.completions.create(model="nova-lite", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    assert usage_chunks(chunks) == []


async def test_parameter_control_values_arrive_as_request_fields(
    poe: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    stream = await poe.chat.completions.create(
        model="claude-thinking",
        messages=MESSAGES,
        stream=True,
        temperature=1.0,
        max_tokens=9000,
        reasoning_effort="high",
    )
    chunks = [chunk async for chunk in stream]
    assert chunks[-1].usage is not None
    [call] = await emu.requests(model_id=CLAUDE_37)
    body = call["body"]
    assert body["inferenceConfig"]["maxTokens"] == 9000
    assert body["additionalModelRequestFields"]["thinking"]["budget_tokens"] == 4096


async def test_a_whole_answer_carries_usage_as_always(poe: AsyncOpenAI) -> None:
    completion = await poe.chat.completions.create(model="nova-lite", messages=MESSAGES)
    assert completion.model == "nova-lite"
    assert completion.usage is not None
    assert completion.usage.completion_tokens > 0
