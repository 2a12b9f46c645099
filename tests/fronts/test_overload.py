"""A saturated process refuses new requests fast, in each front's own shape, and says so on
/readyz (issue 15: overload that ends well).

Real parts throughout: the gateway on a real uvicorn (loopback) or in-process, the emulator
holding streams open with slow tokens, fastapi_poe's client and the official OpenAI and
Anthropic SDKs (no SDK retries, so the retryable error shows itself).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import anthropic
import fastapi_poe as fp
import httpx
import httpx2
import openai
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI

from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import OverloadSettings
from fmgate.fronts.pipeline import OVERLOADED_MESSAGE
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.harness.api_gateway import TEST_API_KEY
from tests.harness.emulator import aws_for
from tests.harness.poe_client import TEST_POE_KEY, query
from tests.harness.scrape import value
from tests.harness.servers import uvicorn_serving

#: Seconds before a wait fails the test instead of stalling CI (a bound, not a timing assertion).
BOUND = 20.0

#: Long enough that, at a few tokens a second, the emulator's echo streams for many seconds.
LONG = "please keep streaming slowly so that this answer stays open for a while " * 8
HELLO = [{"role": "user", "content": "Hello"}]

OpenGateway = Callable[[OverloadSettings], AbstractAsyncContextManager[Gateway]]


@pytest.fixture
def open_gateway(api_catalog: Catalog, emulator: Emulator, moto_url: str) -> OpenGateway:
    """A gateway with API keys and the given ``gateway.overload``."""

    @asynccontextmanager
    async def open_with(overload: OverloadSettings) -> AsyncIterator[Gateway]:
        settings = api_catalog.gateway.model_copy(update={"overload": overload})
        catalog = api_catalog.model_copy(update={"gateway": settings})
        options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
        async with Gateway.open(catalog, options) as gateway:
            yield gateway

    return open_with


async def poe_refusal(session: httpx.AsyncClient, base_url: str) -> fp.client.BotError:
    """The error fastapi_poe's client raises for a query that the gateway refuses."""
    with pytest.raises(fp.client.BotError) as refused:
        async for _ in fp.stream_request(
            query(("user", "hello")),
            "nova-lite",
            TEST_POE_KEY,
            base_url=base_url,
            session=session,
            num_tries=1,
        ):
            pass
    return refused.value


async def wait_until_ready(http: httpx.AsyncClient, ready: bool) -> httpx.Response:
    """Poll /readyz until it answers 200 (``ready``) or 503; bounded by BOUND."""
    async with asyncio.timeout(BOUND):
        while True:
            response = await http.get("/readyz")
            if (response.status_code == 200) == ready:
                return response
            await asyncio.sleep(0.02)


async def test_over_max_streams_every_front_refuses_the_next_request_in_its_own_shape(
    open_gateway: OpenGateway, emu: AsyncEmulatorClient
) -> None:
    await emu.set_timing(ttft_ms=0, tokens_per_second=5)
    async with (
        open_gateway(OverloadSettings(max_streams=2, max_loop_lag_seconds=None)) as gateway,
        uvicorn_serving(build_app(gateway)) as url,
        httpx.AsyncClient(base_url=url, timeout=30) as http,
    ):
        # Two streams held open (a Poe one and an OpenAI one): the process is at its cap.
        poe_stream = fp.stream_request(
            query(("user", LONG)),
            "nova-lite",
            TEST_POE_KEY,
            base_url=f"{url}/bot/",
            session=http,
            num_tries=1,
        )
        async for partial in poe_stream:  # meta first, then the first text
            if partial.text:
                break
        openai_client = AsyncOpenAI(api_key=TEST_API_KEY, base_url=f"{url}/v1", max_retries=0)
        openai_stream = await openai_client.chat.completions.create(
            model="nova-lite",
            messages=[{"role": "user", "content": LONG}],
            stream=True,
        )
        assert (await anext(aiter(openai_stream))).choices
        assert gateway.overload.open_streams == 2

        # Poe: 200, meta, a retryable error event, done; fastapi_poe's client may retry it.
        error = await poe_refusal(http, f"{url}/bot/")
        assert not isinstance(error, fp.client.BotErrorNoRetry)
        assert json.loads(str(error.args[0])) == {"allow_retry": True, "text": OVERLOADED_MESSAGE}
        raw = await http.post(
            "/bot/nova-lite",
            json=query(("user", "hi")).model_dump(mode="json"),
            headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
        )
        assert raw.status_code == 200
        assert raw.headers["content-type"].startswith("text/event-stream")
        assert [line for line in raw.text.splitlines() if line.startswith("event:")] == [
            "event: meta",
            "event: error",
            "event: done",
        ]

        # OpenAI: 503 server_error with Retry-After, which the SDK retries.
        with pytest.raises(openai.InternalServerError) as refused_openai:
            await openai_client.chat.completions.create(model="nova-lite", messages=HELLO)  # type: ignore[arg-type]
        assert refused_openai.value.status_code == 503
        assert refused_openai.value.response.headers["retry-after"] == "1"
        assert refused_openai.value.response.headers["x-should-retry"] == "true"
        assert refused_openai.value.body == {
            "message": OVERLOADED_MESSAGE,
            "type": "server_error",
            "param": None,
            "code": "overloaded",
        }
        # With retries on, the SDK tries again after Retry-After (refused again: still full).
        with pytest.raises(openai.InternalServerError):
            await openai_client.with_options(max_retries=1).chat.completions.create(
                model="nova-lite",
                messages=HELLO,  # type: ignore[arg-type]
            )

        # Anthropic: 529 overloaded_error with Retry-After (its SDK's OverloadedError).
        anthropic_client = AsyncAnthropic(api_key=TEST_API_KEY, base_url=url, max_retries=0)
        with pytest.raises(anthropic.OverloadedError) as refused_anthropic:
            await anthropic_client.messages.create(
                model="nova-lite",
                max_tokens=64,
                messages=HELLO,  # type: ignore[arg-type]
            )
        assert refused_anthropic.value.status_code == 529
        assert refused_anthropic.value.response.headers["retry-after"] == "1"
        assert refused_anthropic.value.body == {
            "type": "error",
            "error": {"type": "overloaded_error", "message": OVERLOADED_MESSAGE},
        }

        # Readiness says so; liveness does not; the refused requests never reached Bedrock.
        readiness = await http.get("/readyz")
        assert readiness.status_code == 503
        assert readiness.json()["status"] == "saturated"
        assert readiness.json()["reason"] == "streams"
        assert readiness.json()["open_streams"] == 2
        assert (await http.get("/healthz")).status_code == 200
        assert len(await emu.requests()) == 2
        metrics = gateway.metrics
        refusals = {
            front: value(metrics, "fmgate_overload_refusals_total", reason="streams", front=front)
            for front in ("poe", "openai", "anthropic")
        }
        assert refusals == {"poe": 2, "openai": 3, "anthropic": 1}  # openai: 1 + 1 retried
        assert value(metrics, "fmgate_inflight_streams", bot="nova-lite") == 2

        # The held streams end: the process takes requests again.
        await poe_stream.aclose()
        await openai_stream.close()
        assert (await wait_until_ready(http, ready=True)).json()["status"] == "ready"
        async with asyncio.timeout(BOUND):
            while gateway.overload.open_streams:  # noqa: ASYNC110 - the cancellations land
                await asyncio.sleep(0.02)
        assert value(metrics, "fmgate_inflight_streams", bot="nova-lite") == 0
        await emu.set_timing(ttft_ms=0, tokens_per_second=None)
        answer = await openai_client.chat.completions.create(model="nova-lite", messages=HELLO)  # type: ignore[arg-type]
        assert answer.choices[0].message.content
        await openai_client.close()
        await anthropic_client.close()


async def burn_cpu(stop: asyncio.Event) -> None:
    """Hold the event loop in busy stretches of 0.3 s (no thread: nothing else runs meanwhile)
    until ``stop`` is set."""
    while not stop.is_set():
        busy_until = time.perf_counter() + 0.3
        while time.perf_counter() < busy_until:
            pass
        await asyncio.sleep(0)


async def test_a_lagging_event_loop_refuses_new_requests_until_it_recovers(
    open_gateway: OpenGateway,
) -> None:
    overload = OverloadSettings(max_streams=None, max_loop_lag_seconds=0.1)
    async with open_gateway(overload) as gateway:
        app = build_app(gateway)
        transport = httpx.ASGITransport(app=app)
        async with (
            httpx.AsyncClient(transport=transport, base_url="http://gateway") as http,
            httpx2.AsyncClient(
                transport=httpx2.ASGITransport(app=app), base_url="http://gateway"
            ) as http2,
        ):
            assert (await http.get("/readyz")).status_code == 200
            stop = asyncio.Event()
            burner = asyncio.create_task(burn_cpu(stop))
            try:
                saturated = await wait_until_ready(http, ready=False)
                assert saturated.json()["status"] == "saturated"
                assert saturated.json()["reason"] == "loop_lag"
                assert saturated.json()["loop_lag_seconds"] > 0.1
                assert (await http.get("/healthz")).status_code == 200

                error = await poe_refusal(http, "http://gateway/bot/")
                assert json.loads(str(error.args[0]))["allow_retry"] is True
                client = AsyncAnthropic(
                    api_key=TEST_API_KEY,
                    base_url="http://gateway",
                    http_client=http2,
                    max_retries=0,
                )
                with pytest.raises(anthropic.OverloadedError):
                    await client.messages.create(
                        model="nova-lite",
                        max_tokens=64,
                        messages=HELLO,  # type: ignore[arg-type]
                    )
                lag = value(gateway.metrics, "fmgate_event_loop_lag_seconds")
                assert lag is not None
                assert lag > 0.1
            finally:
                stop.set()
                await burner
            assert (await wait_until_ready(http, ready=True)).json()["status"] == "ready"
    metrics = gateway.metrics
    assert value(metrics, "fmgate_overload_refusals_total", reason="loop_lag", front="poe") == 1
    refused = value(metrics, "fmgate_overload_refusals_total", reason="loop_lag", front="anthropic")
    assert refused == 1
    delays = value(metrics, "fmgate_event_loop_delay_seconds_count")
    assert delays is not None
    assert delays > 0
    slow = value(metrics, "fmgate_event_loop_delay_seconds_bucket", le="0.1")
    assert slow is not None
    assert slow < delays  # some samples were more than 0.1 s late
