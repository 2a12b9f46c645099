"""A synced API bot works: what ``fmgate poe api-bots sync`` gave Poe (base URL, key, model
name) is enough for an OpenAI-compatible client, as Poe is, to be answered by the gateway."""

from __future__ import annotations

from collections.abc import Iterator

import httpx2
import pytest
from openai import AsyncOpenAI

from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import ApiKeyRef, PoeApiBotSettings
from fmgate.fronts.poe.api_bots.sync import sync_api_bots
from fmgate.server.gateway import Gateway
from tests.fakes.poe_bots_api import FakePoeBotsApi
from tests.harness.api_gateway import GATEWAY_URL, ledger_row

POE_API_KEY = "poe-api-key-end-to-end-7e5d3c1b9a8f"
ENDPOINT_KEY = "sk-fmgate-endpoint-end-to-end-2a4c6e8f"


@pytest.fixture
def bots_api() -> Iterator[FakePoeBotsApi]:
    with FakePoeBotsApi.running(api_keys={POE_API_KEY}) as api:
        yield api


@pytest.fixture
def api_catalog(
    catalog: Catalog, monkeypatch: pytest.MonkeyPatch, bots_api: FakePoeBotsApi
) -> Catalog:
    """The gateway tests' catalog offering its bots as API bots on the fake Bots REST API."""
    monkeypatch.setenv("FMGATE_TEST_POE_API_KEY", POE_API_KEY)
    monkeypatch.setenv("FMGATE_TEST_ENDPOINT_KEY", ENDPOINT_KEY)
    keys = (ApiKeyRef(caller="poe", key="env:FMGATE_TEST_ENDPOINT_KEY", stream_usage="always"),)
    api_bots = PoeApiBotSettings(
        endpoint_url=f"{GATEWAY_URL}/v1",
        caller="poe",
        poe_api_key="env:FMGATE_TEST_POE_API_KEY",
        bots_api_url=bots_api.url,
    )
    poe = catalog.gateway.poe.model_copy(update={"api_bots": api_bots})
    gateway = catalog.gateway.model_copy(update={"api_keys": keys, "poe": poe})
    return catalog.model_copy(update={"gateway": gateway})


async def test_poe_calls_the_synced_bot_and_is_answered_with_usage(
    api_catalog: Catalog,
    bots_api: FakePoeBotsApi,
    api_gateway: Gateway,
    api_http: httpx2.AsyncClient,
) -> None:
    [outcome] = await sync_api_bots(api_catalog, ["nova-lite"])
    assert outcome.line() == "nova-lite: created as nova-lite"

    bot = bots_api.bots(POE_API_KEY)["nova-lite"]
    settings = bot["api_bot_settings"]
    assert isinstance(settings, dict)
    poe = AsyncOpenAI(
        base_url=settings["base_url"],
        api_key=str(bots_api.stored_key(POE_API_KEY, "nova-lite")),
        http_client=api_http,
        max_retries=0,
    )
    raw = await poe.chat.completions.with_raw_response.create(
        model=settings["model_name"],
        messages=[{"role": "user", "content": "Hello, API bot"}],
        stream=True,
    )
    chunks = [chunk async for chunk in raw.parse()]

    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    usage = chunks[-1].usage
    assert usage is not None
    row = await ledger_row(api_gateway, raw.headers["x-request-id"])
    assert (row.user_id, row.input_tokens, row.output_tokens) == (
        "poe",
        usage.prompt_tokens,
        usage.completion_tokens,
    )
