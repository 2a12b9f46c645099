"""The official Anthropic SDK over the API gateway (``tests.harness.api_gateway``)."""

from __future__ import annotations

import httpx2
import pytest
from anthropic import AsyncAnthropic

from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY


@pytest.fixture
def anthropic_client(api_http: httpx2.AsyncClient) -> AsyncAnthropic:
    """The official Anthropic SDK pointed at the gateway (no SDK retries)."""
    return AsyncAnthropic(
        api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )
