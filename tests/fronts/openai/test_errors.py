"""Errors in OpenAI's shape and status codes, as the official SDK sees them."""

from __future__ import annotations

import httpx2
import openai
import pytest
from openai import AsyncOpenAI

from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import TEST_API_KEY, ledger_row

HELLO = [{"role": "user", "content": "Hello"}]


async def test_unknown_key_is_401(stranger: AsyncOpenAI) -> None:
    with pytest.raises(openai.AuthenticationError) as caught:
        await stranger.chat.completions.create(model="nova-lite", messages=HELLO)  # type: ignore[arg-type]
    assert caught.value.status_code == 401
    assert caught.value.code == "invalid_api_key"
    with pytest.raises(openai.AuthenticationError):
        await stranger.models.list()


async def test_poe_access_key_is_not_an_api_key(api_http: httpx2.AsyncClient) -> None:
    from tests.harness.poe_client import TEST_POE_KEY

    response = await api_http.post(
        "/v1/chat/completions",
        json={"model": "nova-lite", "messages": HELLO},
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    )
    assert response.status_code == 401
    assert response.json()["error"]["type"] == "invalid_request_error"


async def test_unknown_model_is_404(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await openai_client.chat.completions.create(model="no-such-bot", messages=HELLO)  # type: ignore[arg-type]
    assert caught.value.code == "model_not_found"


async def test_image_bot_is_not_a_chat_model(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.chat.completions.create(model="titan-image", messages=HELLO)  # type: ignore[arg-type]
    assert caught.value.param == "model"


async def test_malformed_request_is_400_naming_the_field(api_http: httpx2.AsyncClient) -> None:
    response = await api_http.post(
        "/v1/chat/completions",
        json={"model": "nova-lite", "messages": [{"role": "wizard", "content": "x"}]},
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"].startswith("messages.0")
    bad_json = await api_http.post(
        "/v1/chat/completions",
        content=b"{not json",
        headers={"Authorization": f"Bearer {TEST_API_KEY}"},
    )
    assert bad_json.status_code == 400


@pytest.mark.parametrize("stream", [False, True])
async def test_throttling_after_retries_is_429_in_openai_shape(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient, api_gateway: Gateway, stream: bool
) -> None:
    await emu.inject("throttle", model_id="amazon.nova-lite-v1:0", count=-1)
    with pytest.raises(openai.RateLimitError) as caught:
        await openai_client.chat.completions.create(
            model="nova-lite",
            messages=HELLO,  # type: ignore[arg-type]
            stream=stream,
        )
    error = caught.value
    assert error.status_code == 429
    assert error.code == "throttled"
    assert isinstance(error.body, dict)
    assert error.body["type"] == "rate_limit_error"
    assert "Throttling" not in error.message  # the user message, not Bedrock's text
    row = await ledger_row(api_gateway, error.response.headers.get("x-request-id") or "")
    assert row.outcome == "throttled"


async def test_failure_mid_stream_is_an_error_chunk_after_the_text(
    openai_client: AsyncOpenAI, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "mid_stream_exception",
        model_id="amazon.nova-lite-v1:0",
        after_tokens=3,
        exception="modelStreamErrorException",
    )
    stream = await openai_client.chat.completions.create(
        model="nova-lite",
        messages=[{"role": "user", "content": "Tell me a long story"}],
        stream=True,
    )
    pieces: list[str] = []

    async def read_stream() -> None:
        async for chunk in stream:
            pieces.append(chunk.choices[0].delta.content or "")

    with pytest.raises(openai.APIError) as caught:
        await read_stream()
    assert "".join(pieces)
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "stream_failed"
