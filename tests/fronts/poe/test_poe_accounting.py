"""Usage, cost and metrics per request: ledger rows, one cost capture, /metrics moving."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
from aiobotocore.session import get_session
from prometheus_client.parser import text_string_to_metric_families

from fmgate.accounting.ledger import UsageRecord
from fmgate.accounting.pricing import price
from fmgate.core.events import Usage
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, query
from tests.harness.servers import uvicorn_serving


async def post_query(
    session: httpx.AsyncClient, bot: str, text: str, url: str = BASE_URL
) -> tuple[str, list[str]]:
    """Send a query; return the request id and the SSE event names."""
    names: list[str] = []
    async with session.stream(
        "POST",
        url + bot,
        json=query(("user", text)).model_dump(),
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    ) as response:
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                names.append(line.removeprefix("event: "))
        return response.headers["x-request-id"], names


async def ledger_row(gateway: Gateway, request_id: str) -> UsageRecord:
    await gateway.finisher.drain()
    assert gateway.ledger is not None
    row = await gateway.ledger.get(request_id)
    assert row is not None
    return row


async def emulator_usage(emulator: Emulator, body: dict[str, object]) -> Usage:
    """Ask the emulator the same Converse request directly: the usage Bedrock reports."""
    session = get_session()
    async with session.create_client(
        "bedrock-runtime",
        region_name="us-east-1",
        endpoint_url=emulator.url,
        aws_access_key_id=TEST_ACCESS_KEY_ID,
        aws_secret_access_key=TEST_SECRET_ACCESS_KEY,
    ) as client:
        answer = await client.converse(**body)
    usage = answer["usage"]
    return Usage(input_tokens=usage["inputTokens"], output_tokens=usage["outputTokens"])


@pytest.mark.parametrize("bot", ["nova-lite", "nova-micro-whole"])
async def test_ledger_row_and_single_capture_match_bedrock_usage_and_prices(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emulator: Emulator,
    emu: AsyncEmulatorClient,
    poe_api: FakePoeApi,
    bot: str,
) -> None:
    request_id, names = await post_query(poe, bot, "Count my tokens please")
    assert names[-1] == "done"
    row = await ledger_row(gateway, request_id)
    [record] = await emu.requests()
    body = dict(record["body"])
    body["modelId"] = record["model_id"]
    usage = await emulator_usage(emulator, body)
    assert (row.input_tokens, row.output_tokens) == (usage.input_tokens, usage.output_tokens)
    assert not row.estimated
    assert row.outcome == "ok"
    assert row.ttft_ms is not None
    assert row.latency_ms >= row.ttft_ms
    expected = price(gateway.catalog.bot(bot).pricing, usage=usage)
    assert row.cost_milli_cents == expected.total_rounded > 0
    [capture] = poe_api.captures
    assert capture.bot_query_id == "bq-test"
    assert capture.key_ok
    assert capture.total == expected.total_rounded


async def test_mid_stream_failure_is_charged_once_for_what_was_delivered(
    poe: httpx.AsyncClient, gateway: Gateway, emu: AsyncEmulatorClient, poe_api: FakePoeApi
) -> None:
    await emu.inject("mid_stream_exception", after_tokens=4)
    request_id, names = await post_query(poe, "claude-thinking", "a long question with words")
    assert names[-2:] == ["error", "done"]
    row = await ledger_row(gateway, request_id)
    assert row.outcome == "throttled"  # the in-stream exception the emulator sends by default
    assert row.estimated
    assert row.output_tokens > 0
    [count] = [r for r in await emu.requests() if r["operation"] == "CountTokens"]
    # CountTokens takes the foundation model's id, not the bot's inference profile.
    assert count["model_id"] == "anthropic.claude-3-7-sonnet-20250219-v1:0"
    assert row.input_tokens > 0  # Bedrock's CountTokens for the input
    [capture] = poe_api.captures
    assert capture.total == row.cost_milli_cents > 0


async def test_a_broken_stream_of_a_model_that_cannot_count_estimates_output_only(
    poe: httpx.AsyncClient, gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("mid_stream_exception", after_tokens=4)
    request_id, _ = await post_query(poe, "nova-lite", "a long question with many words")
    row = await ledger_row(gateway, request_id)
    assert row.estimated
    assert (row.input_tokens > 0, row.output_tokens > 0) == (False, True)
    assert [r for r in await emu.requests() if r["operation"] == "CountTokens"] == []


async def test_failure_before_any_output_is_not_charged(
    poe: httpx.AsyncClient, gateway: Gateway, emu: AsyncEmulatorClient, poe_api: FakePoeApi
) -> None:
    await emu.inject("access_denied", count=-1)
    request_id, _ = await post_query(poe, "nova-lite", "hello")
    row = await ledger_row(gateway, request_id)
    assert row.outcome == "access_denied"
    assert row.cost_milli_cents == 0
    assert poe_api.captures == []


@pytest.fixture
async def served(gateway: Gateway) -> AsyncIterator[str]:
    """The gateway on a real loopback HTTP server (client disconnects need a real socket)."""
    async with uvicorn_serving(build_app(gateway)) as url:
        yield url + "/bot/"


async def test_client_disconnect_cancels_and_is_charged_once(
    served: str, gateway: Gateway, emu: AsyncEmulatorClient, poe_api: FakePoeApi
) -> None:
    await emu.set_timing(ttft_ms=0, tokens_per_second=20)
    async with (
        httpx.AsyncClient() as client,
        client.stream(
            "POST",
            served + "nova-lite",
            json=query(("user", "please write a long story about the sea")).model_dump(),
            headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
        ) as response,
    ):
        request_id = response.headers["x-request-id"]
        async for line in response.aiter_lines():
            if line.startswith("event: text"):
                break  # walk away after the first token
    for _ in range(200):  # the server notices the closed socket and cancels the stream
        await gateway.finisher.drain()
        assert gateway.ledger is not None
        row = await gateway.ledger.get(request_id)
        if row is not None:
            break
        await asyncio.sleep(0.02)
    assert row is not None
    assert row.outcome == "cancelled"
    assert row.output_tokens > 0
    [capture] = poe_api.captures
    assert capture.total == row.cost_milli_cents


def sample(metrics_text: str, name: str, **labels: str) -> float:
    total = 0.0
    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                total += s.value
    return total


async def test_metrics_parse_and_move(poe: httpx.AsyncClient, gateway: Gateway) -> None:
    before = (await poe.get("/metrics")).text
    await post_query(poe, "nova-lite", "metrics please")
    await gateway.finisher.drain()
    after = (await poe.get("/metrics")).text
    name = "fmgate_requests_total"
    labels = {"bot": "nova-lite", "outcome": "ok"}
    assert sample(after, name, **labels) == sample(before, name, **labels) + 1
    assert sample(after, "fmgate_tokens_total", bot="nova-lite", direction="output") > 0
    assert sample(after, "fmgate_ttft_seconds_count", bot="nova-lite") >= 1
    assert json.loads((await poe.get("/healthz")).text)["status"] == "ok"


async def test_upstream_connections_gauge_counts_calls_in_flight(
    poe: httpx.AsyncClient, gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    await emu.set_timing(ttft_ms=0, tokens_per_second=20)
    task = asyncio.create_task(post_query(poe, "nova-lite", "a slow answer with several words"))
    seen = 0.0
    for _ in range(200):  # sample while the slow stream runs
        await asyncio.sleep(0.01)
        seen = max(
            seen, sample((await poe.get("/metrics")).text, "fmgate_upstream_pool_connections")
        )
        if seen:
            break
    await task
    assert seen == 1.0
    idle = sample((await poe.get("/metrics")).text, "fmgate_upstream_pool_connections")
    assert idle == 0.0
