"""The gateway's own latency on /metrics after real requests through every front: one
observation per request that called Bedrock, a positive sum, far below the request latency
(the emulator takes a visible time to its first token, which is Bedrock's, not ours)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import httpx2
import openai
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI
from prometheus_client.parser import text_string_to_metric_families

from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY
from tests.harness.poe_client import ask

HELLO = [{"role": "user", "content": "Hello"}]
FRONTS = ("poe", "openai", "anthropic")


@pytest.fixture
async def sessions(
    api_gateway: Gateway,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx2.AsyncClient]]:
    """One app on the gateway: a session for fastapi_poe's client and one for the SDKs."""
    app = build_app(api_gateway)
    async with (
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=GATEWAY_URL) as poe,
        httpx2.AsyncClient(transport=httpx2.ASGITransport(app=app), base_url=GATEWAY_URL) as sdk,
    ):
        yield poe, sdk


def scraped(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """/metrics as Prometheus reads it: (sample name, sorted labels) -> value."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str) -> float:
    """A sample summed over all its labels."""
    return sum(value for (sample, _), value in samples.items() if sample == name)


async def test_overhead_histograms_count_each_request_that_called_bedrock(
    api_gateway: Gateway,
    sessions: tuple[httpx.AsyncClient, httpx2.AsyncClient],
    emu: AsyncEmulatorClient,
) -> None:
    await emu.set_timing(ttft_ms=150)
    poe, sdk = sessions
    for text in ("hello", "hello again"):
        assert (await ask(poe, "nova-lite", text)).error is None
    client = AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=sdk, max_retries=0
    )
    await client.chat.completions.create(model="nova-lite", messages=HELLO)  # type: ignore[arg-type]
    stream = await client.chat.completions.create(
        model="nova-lite", messages=[{"role": "user", "content": "Hello"}], stream=True
    )
    async for _ in stream:
        pass
    with pytest.raises(openai.NotFoundError):  # refused before any Bedrock call: not observed
        await client.chat.completions.create(model="no-such-bot", messages=HELLO)  # type: ignore[arg-type]
    anthropic_client = AsyncAnthropic(
        api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=sdk, max_retries=0
    )
    await anthropic_client.messages.create(model="nova-lite", max_tokens=64, messages=HELLO)  # type: ignore[arg-type]
    await api_gateway.finisher.drain()

    response = await poe.get("/metrics")
    assert response.status_code == 200
    samples = scraped(response.text)
    requests = {"poe": 2.0, "openai": 2.0, "anthropic": 1.0}
    for front in FRONTS:
        labels = (("front", front),)
        own_count = samples["fmgate_gateway_overhead_seconds_count", labels]
        before_count = samples["fmgate_gateway_overhead_before_upstream_seconds_count", labels]
        assert (own_count, before_count) == (requests[front], requests[front])
        own = samples["fmgate_gateway_overhead_seconds_sum", labels]
        before = samples["fmgate_gateway_overhead_before_upstream_seconds_sum", labels]
        assert 0 < before <= own  # the time before the first call is part of the gateway's

    overhead = total(samples, "fmgate_gateway_overhead_seconds_sum")
    latency = total(samples, "fmgate_request_latency_seconds_sum")
    assert latency >= 5 * 0.15  # each request waited for the emulator's first token
    assert overhead < latency / 2  # that wait is Bedrock's, not counted as the gateway's
    assert ("fmgate_event_loop_lag_seconds", ()) in samples
    assert total(samples, "fmgate_inflight_streams") == 0
