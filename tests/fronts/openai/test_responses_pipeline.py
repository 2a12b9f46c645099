"""``/v1/responses`` on the shared front pipeline: per-caller limits answer 429 before the
model; a stream cut at shutdown ends with ``response.failed`` (retryable message) and one
ledger row."""

from __future__ import annotations

import json

import httpx
import httpx2
import openai
import pytest
from openai import AsyncOpenAI

from fmgate.config.catalog import Catalog
from fmgate.core.errors import ServerRestarting
from fmgate.core.shutdown import ShutdownSignal
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, ledger_row
from tests.harness.emulator import aws_for
from tests.harness.servers import uvicorn_serving

LONG_PROMPT = "please write a long answer with very many words in it " * 4


async def test_a_caller_over_its_rate_gets_429_before_the_model(
    api_catalog: Catalog, emulator: Emulator, moto_url: str, emu: AsyncEmulatorClient
) -> None:
    limits = api_catalog.gateway.limits.model_copy(
        update={"burst_per_user": 2, "requests_per_minute_per_user": 1}
    )
    settings = api_catalog.gateway.model_copy(update={"limits": limits})
    catalog = api_catalog.model_copy(update={"gateway": settings})
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
    async with Gateway.open(catalog, options) as gateway:
        transport = httpx2.ASGITransport(app=build_app(gateway))
        async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
            client = AsyncOpenAI(
                api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=http, max_retries=0
            )
            for _ in range(2):
                await client.responses.create(model="nova-lite", input="Hi")
            with pytest.raises(openai.RateLimitError) as refused:
                await client.responses.create(model="nova-lite", input="Hi")
    assert refused.value.code == "rate_limit_exceeded"
    assert refused.value.response.headers["retry-after"]
    assert len(await emu.requests(model_id="amazon.nova-lite-v1:0")) == 2


async def test_a_stream_cut_at_shutdown_ends_with_response_failed(
    api_gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    await emu.set_timing(ttft_ms=0, tokens_per_second=20)
    shutdown = ShutdownSignal()
    body = {"model": "nova-lite", "stream": True, "input": LONG_PROMPT}
    events: list[dict[str, object]] = []
    async with (
        uvicorn_serving(build_app(api_gateway, shutdown=shutdown)) as url,
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST",
            f"{url}/v1/responses",
            json=body,
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        ) as response,
    ):
        request_id = response.headers["x-request-id"]
        async for line in response.aiter_lines():
            if not line.startswith("data: "):
                continue
            events.append(json.loads(line.removeprefix("data: ")))
            if events[-1]["type"] == "response.output_text.delta" and not shutdown.cut:
                shutdown.cut_streams()  # the grace period is over while the answer streams
    last = events[-1]
    assert last["type"] == "response.failed"
    failed = last["response"]
    assert isinstance(failed, dict)
    assert failed["error"]["message"] == ServerRestarting.default_message
    assert failed["output"][0]["status"] == "incomplete"
    row = await ledger_row(api_gateway, request_id)
    assert row.outcome == ServerRestarting.code
