"""Errors in Anthropic's shape and status codes, as the official SDK sees them."""

from __future__ import annotations

import anthropic
import httpx2
import pytest
from anthropic import AsyncAnthropic

from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import GATEWAY_URL

HELLO = [{"role": "user", "content": "Hello"}]


async def test_unknown_key_is_401(api_http: httpx2.AsyncClient) -> None:
    client = AsyncAnthropic(
        api_key="not-a-key", base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )
    with pytest.raises(anthropic.AuthenticationError) as caught:
        await client.messages.create(model="nova-lite", max_tokens=64, messages=HELLO)  # type: ignore[arg-type]
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "authentication_error", "message": "invalid x-api-key"},
    }


async def test_unknown_model_is_404(anthropic_client: AsyncAnthropic) -> None:
    with pytest.raises(anthropic.NotFoundError):
        await anthropic_client.messages.create(
            model="no-such-bot",
            max_tokens=64,
            messages=HELLO,  # type: ignore[arg-type]
        )


async def test_missing_max_tokens_is_400(api_http: httpx2.AsyncClient) -> None:
    from tests.harness.api_gateway import TEST_API_KEY

    response = await api_http.post(
        "/v1/messages",
        json={"model": "nova-lite", "messages": HELLO},
        headers={"x-api-key": TEST_API_KEY},
    )
    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("stream", [False, True])
async def test_throttling_is_429_rate_limit_error(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, stream: bool
) -> None:
    await emu.inject("throttle", model_id="amazon.nova-lite-v1:0", count=-1)
    with pytest.raises(anthropic.RateLimitError) as caught:
        await anthropic_client.messages.create(
            model="nova-lite",
            max_tokens=64,
            messages=HELLO,  # type: ignore[arg-type]
            stream=stream,
        )
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["type"] == "rate_limit_error"


async def test_failure_mid_stream_is_an_error_event(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "mid_stream_exception",
        model_id="amazon.nova-lite-v1:0",
        after_tokens=3,
        exception="modelStreamErrorException",
    )
    pieces: list[str] = []

    async def read_stream() -> None:
        async with anthropic_client.messages.stream(
            model="nova-lite",
            max_tokens=256,
            messages=[{"role": "user", "content": "Tell me a long story"}],
        ) as stream:
            async for piece in stream.text_stream:
                pieces.append(piece)

    with pytest.raises(anthropic.APIStatusError) as caught:
        await read_stream()
    assert "".join(pieces)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["error"]["type"] == "api_error"
