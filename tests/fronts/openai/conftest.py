"""Fixtures: the gateway test set-up (emulator, moto, fake Poe API) plus virtual API keys."""

from __future__ import annotations

import httpx2
import pytest
from openai import AsyncOpenAI

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
def openai_client(api_http: httpx2.AsyncClient) -> AsyncOpenAI:
    """The official OpenAI SDK pointed at the gateway (no SDK retries: errors surface as-is)."""
    return AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )


@pytest.fixture
def stranger(api_http: httpx2.AsyncClient) -> AsyncOpenAI:
    """The OpenAI SDK with a key the gateway does not know."""
    return AsyncOpenAI(
        api_key="sk-not-a-known-key",
        base_url=f"{GATEWAY_URL}/v1",
        http_client=api_http,
        max_retries=0,
    )
