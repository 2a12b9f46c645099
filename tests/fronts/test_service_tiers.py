"""Service tiers end to end (Poe through fastapi_poe's client, OpenAI through its SDK): the tier
asked for, the tier Bedrock reports recorded in the ledger and priced at that tier's prices, and
a throttled flex bot answered by its model on the standard tier."""

from __future__ import annotations

import httpx
import httpx2
import pytest
from openai import AsyncOpenAI

from fmgate.accounting.pricing import price
from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.core.events import Usage
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, ledger_row
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, query
from tests.harness.poe_gateway import pointed_at

NOVA_PRO = "amazon.nova-pro-v1:0"

CATALOG = f"""
version: 1
gateway:
  api_keys: [{{caller: alice, key: env:FMGATE_TEST_API_KEY}}]
  max_attempts: 2
  retry_base_delay_seconds: 0.001
  retry_max_delay_seconds: 0.01
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  tiered:
    kind: chat
    model_id: {NOVA_PRO}
    pricing:
      input_token: 0.08
      output_token: 0.32
      service_tiers:
        priority: {{input_token: 0.14, output_token: 0.56}}
        flex: {{input_token: 0.04, output_token: 0.16}}
bots:
  - bot_name: nova-flex
    template: tiered
    service_tier: flex
    fallbacks: [{{service_tier: default}}]
  - bot_name: nova-priority
    template: tiered
    service_tier: priority
    streaming: false
  - bot_name: nova-plain
    template: tiered
"""


pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    """This module's catalog in place of the harness's: its ``gateway``, ``poe``
    serve it."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    return pointed_at(parse_catalog(CATALOG, "tiers.yaml"), poe_api)


async def ask_poe(poe: httpx.AsyncClient, bot: str, text: str) -> tuple[str, str]:
    """(request id, every text the Poe stream carried)."""
    body = ""
    async with poe.stream(
        "POST",
        BASE_URL + bot,
        json=query(("user", text)).model_dump(),
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    ) as response:
        async for line in response.aiter_lines():
            body += line
        return response.headers["x-request-id"], body


def expected_cost(gateway: Gateway, bot: str, tier: str, usage: Usage) -> int:
    return price(gateway.catalog.bot(bot).pricing.for_tier(tier), usage=usage).total_rounded


@pytest.mark.parametrize(("bot", "tier"), [("nova-flex", "flex"), ("nova-priority", "priority")])
async def test_the_tier_reported_is_recorded_and_priced(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emu: AsyncEmulatorClient,
    bot: str,
    tier: str,
) -> None:
    request_id, _ = await ask_poe(poe, bot, "Price me on a tier")
    [record] = await emu.requests()
    assert record["body"]["serviceTier"] == {"type": tier}
    row = await ledger_row(gateway, request_id)
    assert (row.outcome, row.service_tier) == ("ok", tier)
    usage = Usage(input_tokens=row.input_tokens, output_tokens=row.output_tokens)
    assert row.cost_milli_cents == expected_cost(gateway, bot, tier, usage)
    standard = expected_cost(gateway, bot, "default", usage)
    assert (row.cost_milli_cents < standard) is (tier == "flex")


async def test_a_bot_without_a_tier_names_none(
    poe: httpx.AsyncClient, gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    request_id, _ = await ask_poe(poe, "nova-plain", "No tier")
    [record] = await emu.requests()
    assert "serviceTier" not in record["body"]
    row = await ledger_row(gateway, request_id)
    assert row.service_tier is None


async def test_a_throttled_flex_call_falls_back_to_the_default_tier(
    poe: httpx.AsyncClient, gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", model_id=NOVA_PRO, service_tier="flex", count=-1)
    request_id, body = await ask_poe(poe, "nova-flex", "Busy flex")
    assert f"Answered by {NOVA_PRO} (default tier) because {NOVA_PRO} (flex tier) is busy." in body
    tiers = [r["body"].get("serviceTier") for r in await emu.requests()]
    assert tiers == [{"type": "flex"}, {"type": "flex"}, {"type": "default"}]
    row = await ledger_row(gateway, request_id)
    assert (row.outcome, row.model_id, row.service_tier) == ("ok", NOVA_PRO, "default")
    usage = Usage(input_tokens=row.input_tokens, output_tokens=row.output_tokens)
    assert row.cost_milli_cents == expected_cost(gateway, "nova-flex", "default", usage)


async def test_openai_flex_fallback_streams_and_is_recorded(
    gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", model_id=NOVA_PRO, service_tier="flex", count=-1)
    transport = httpx2.ASGITransport(app=build_app(gateway))
    async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        client = AsyncOpenAI(
            api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=http, max_retries=0
        )
        raw = await client.chat.completions.with_raw_response.create(
            model="nova-flex", messages=[{"role": "user", "content": "Busy flex"}], stream=True
        )
        text = "".join([c.choices[0].delta.content or "" async for c in raw.parse() if c.choices])
    assert "Busy flex" in text
    row = await ledger_row(gateway, raw.headers["x-request-id"])
    assert (row.front, row.service_tier) == ("openai", "default")
