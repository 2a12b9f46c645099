"""Fixtures: the gateway test set-up plus virtual API keys, and the official Anthropic SDK."""

from __future__ import annotations

import httpx2
import pytest
from anthropic import AsyncAnthropic

from tests.fronts.openai.api_harness import (
    GATEWAY_URL,
    TEST_API_KEY,
    api_catalog,
    api_gateway,
    api_http,
)
from tests.fronts.poe.conftest import catalog, emu, emulator, poe_api

__all__ = ["api_catalog", "api_gateway", "api_http", "catalog", "emu", "emulator", "poe_api"]


@pytest.fixture
def anthropic_client(api_http: httpx2.AsyncClient) -> AsyncAnthropic:
    """The official Anthropic SDK pointed at the gateway (no SDK retries)."""
    return AsyncAnthropic(
        api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )
