"""Per-caller limits (`gateway.limits`) on the /v1 fronts: 429 with Retry-After, slots freed."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx2
import openai
import pytest
from openai import AsyncOpenAI
from openai.types.chat import ChatCompletionMessageParam

from fmgate.config.catalog import Catalog
from fmgate.security.rate_limits import LimitKey, UserLimiter
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, TEST_CALLER
from tests.harness.emulator import aws_for
from tests.harness.servers import uvicorn_serving

MESSAGES: list[ChatCompletionMessageParam] = [{"role": "user", "content": "hello"}]


@pytest.fixture
async def limited(
    api_catalog: Catalog, emulator: Emulator, moto_url: str
) -> AsyncIterator[tuple[Gateway, httpx2.AsyncClient]]:
    limits = api_catalog.gateway.limits.model_copy(
        update={
            "max_concurrent_per_user": 1,
            "burst_per_user": 3,
            "requests_per_minute_per_user": 1,
        }
    )
    settings = api_catalog.gateway.model_copy(update={"limits": limits})
    catalog = api_catalog.model_copy(update={"gateway": settings})
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
    async with Gateway.open(catalog, options) as gateway:
        transport = httpx2.ASGITransport(app=build_app(gateway))
        async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
            yield gateway, http


def sdk(http: httpx2.AsyncClient) -> AsyncOpenAI:
    return AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=http, max_retries=0
    )


async def test_a_caller_over_its_rate_gets_429_with_retry_after(
    limited: tuple[Gateway, httpx2.AsyncClient],
) -> None:
    _, http = limited
    client = sdk(http)
    for _ in range(3):  # the burst
        await client.chat.completions.create(model="nova-lite", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError) as refused:
        await client.chat.completions.create(model="nova-lite", messages=MESSAGES)
    assert refused.value.status_code == 429
    assert int(refused.value.response.headers["retry-after"]) >= 1
    assert "too quickly" in refused.value.message


async def test_a_second_stream_while_one_runs_is_refused_and_the_slot_comes_back(
    limited: tuple[Gateway, httpx2.AsyncClient], emu: AsyncEmulatorClient
) -> None:
    gateway, _ = limited
    await emu.set_timing(ttft_ms=0, tokens_per_second=40)
    headers = {"x-api-key": TEST_API_KEY, "anthropic-version": "2023-06-01"}
    body = {"model": "nova-lite", "max_tokens": 50, "messages": MESSAGES}
    async with (
        uvicorn_serving(build_app(gateway)) as url,
        httpx2.AsyncClient(base_url=url, timeout=30) as http,
    ):
        client = AsyncOpenAI(api_key=TEST_API_KEY, base_url=f"{url}/v1", max_retries=0)
        stream = await client.chat.completions.create(
            model="nova-lite",
            messages=MESSAGES,
            stream=True,
        )
        first = await anext(aiter(stream))
        assert first.choices
        assert isinstance(gateway.limiter, UserLimiter)
        assert gateway.limiter.running(LimitKey(TEST_CALLER, "nova-lite")) == 1
        busy = await http.post("/v1/messages", json=body, headers=headers)
        async for _ in stream:
            pass
        await client.close()
        again = await http.post("/v1/messages", json=body, headers=headers)
    assert busy.status_code == 429
    assert busy.json()["error"]["type"] == "rate_limit_error"
    assert "too many requests running" in busy.json()["error"]["message"]
    assert again.status_code == 200  # the finished stream gave its slot back
