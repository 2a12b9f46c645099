"""The official OpenAI SDK over the API gateway (``tests.harness.api_gateway``)."""

from __future__ import annotations

import httpx2
import pytest
from openai import AsyncOpenAI

from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY


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
