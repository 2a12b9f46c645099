"""POST /v1/messages/count_tokens through the Anthropic SDK: Bedrock's CountTokens for the bot's
model with the prompt translated as for messages; the front's keys, limits and error shape."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import anthropic
import httpx2
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam, ToolParam

from fmgate.config.catalog import Catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY
from tests.harness.emulator import aws_for

CLAUDE = "anthropic.claude-3-7-sonnet-20250219-v1:0"  # the claude-thinking bot's model
TOOLS: list[ToolParam] = [
    {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
    }
]
CONVERSATION: list[MessageParam] = [
    {"role": "user", "content": "What is the weather in Paris?"},
    {"role": "assistant", "content": "Let me look."},
    {"role": "user", "content": [{"type": "text", "text": "Please do, quickly."}]},
]


async def count_requests(emu: AsyncEmulatorClient) -> list[dict[str, Any]]:
    return [r for r in await emu.requests() if r["operation"] == "CountTokens"]


async def test_the_count_is_bedrocks_for_the_prompt_messages_would_send(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    counted = await anthropic_client.messages.count_tokens(
        model="claude-thinking", system="You are terse.", messages=CONVERSATION, tools=TOOLS
    )
    [count] = await count_requests(emu)
    assert count["model_id"] == CLAUDE  # CountTokens takes the foundation model's id
    converse = count["body"]["input"]["converse"]
    assert converse["system"] == [{"text": "You are terse."}]
    assert [m["role"] for m in converse["messages"]] == ["user", "assistant", "user"]
    assert converse["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"

    message = await anthropic_client.messages.create(
        model="claude-thinking",
        max_tokens=4096,
        system="You are terse.",
        messages=CONVERSATION,
        tools=TOOLS,
    )
    assert counted.input_tokens == message.usage.input_tokens > 0


async def test_a_model_that_cannot_count_is_a_clear_400(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await anthropic_client.messages.count_tokens(model="nova-lite", messages=CONVERSATION)
    assert refused.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": "Model nova-lite cannot count tokens (Bedrock's CountTokens does not "
            "support it).",
        },
    }
    assert await count_requests(emu) == []  # never asked of Bedrock


async def test_keys_models_and_bodies_are_checked_as_for_messages(
    api_http: httpx2.AsyncClient,
) -> None:
    stranger = AsyncAnthropic(
        api_key="not-a-key", base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError):
        await stranger.messages.count_tokens(model="claude-thinking", messages=CONVERSATION)
    client = AsyncAnthropic(
        api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )
    with pytest.raises(anthropic.NotFoundError):
        await client.messages.count_tokens(model="no-such-bot", messages=CONVERSATION)
    response = await api_http.post(
        "/v1/messages/count_tokens",
        json={"model": "claude-thinking", "messages": []},
        headers={"x-api-key": TEST_API_KEY},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.fixture
async def rate_limited(
    api_catalog: Catalog, emulator: Emulator, moto_url: str
) -> AsyncIterator[AsyncAnthropic]:
    limits = api_catalog.gateway.limits.model_copy(
        update={"burst_per_user": 2, "requests_per_minute_per_user": 1}
    )
    catalog = api_catalog.model_copy(
        update={"gateway": api_catalog.gateway.model_copy(update={"limits": limits})}
    )
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
    async with Gateway.open(catalog, options) as gateway:
        transport = httpx2.ASGITransport(app=build_app(gateway))
        async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
            yield AsyncAnthropic(
                api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=http, max_retries=0
            )


async def test_counting_is_under_the_callers_limits(rate_limited: AsyncAnthropic) -> None:
    for _ in range(2):  # the burst
        await rate_limited.messages.count_tokens(model="claude-thinking", messages=CONVERSATION)
    with pytest.raises(anthropic.RateLimitError) as refused:
        await rate_limited.messages.count_tokens(model="claude-thinking", messages=CONVERSATION)
    assert int(refused.value.response.headers["retry-after"]) >= 1
    assert refused.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
