"""A gateway on the emulator with virtual API keys, for the OpenAI and Anthropic front tests.

Fixtures: ``api_catalog`` (the gateway tests' catalog plus one virtual API key), ``api_gateway``
(it, served on the emulator with a ledger) and ``api_http`` (an in-process HTTP session into it,
for the official SDKs, which each front's conftest builds on it).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx2
import pytest

from fmgate.accounting.ledger import UsageRecord
from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import ApiKeyRef
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.harness.emulator import aws_for

TEST_API_KEY = "sk-fmgate-test-0123456789abcdef"
TEST_CALLER = "alice"
GATEWAY_URL = "http://gateway"


@pytest.fixture
def api_catalog(catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> Catalog:
    """The gateway test catalog plus one virtual API key (resolved from the environment)."""
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    keys = (ApiKeyRef(caller=TEST_CALLER, key="env:FMGATE_TEST_API_KEY"),)
    settings = catalog.gateway.model_copy(update={"api_keys": keys})
    return catalog.model_copy(update={"gateway": settings})


@pytest.fixture
async def api_gateway(
    api_catalog: Catalog, emulator: Emulator, moto_url: str, tmp_path: Path
) -> AsyncIterator[Gateway]:
    """``api_catalog`` served on the emulator, with a usage ledger in ``tmp_path``."""
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=tmp_path / "usage.db")
    async with Gateway.open(api_catalog, options) as gateway:
        yield gateway


@pytest.fixture
async def api_http(api_gateway: Gateway) -> AsyncIterator[httpx2.AsyncClient]:
    """An in-process HTTP session into the gateway app, for the official SDKs."""
    transport = httpx2.ASGITransport(app=build_app(api_gateway))
    async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        yield http


async def ledger_row(gateway: Gateway, request_id: str) -> UsageRecord:
    """The ledger row of ``request_id``, once the gateway has finished writing rows."""
    await gateway.finisher.drain()
    assert gateway.ledger is not None
    row = await gateway.ledger.get(request_id)
    assert row is not None
    return row
