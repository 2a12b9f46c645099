"""/v1 streams still running when the server cuts them at the end of its shutdown grace end with
a retryable error in their API's own shape (not a dropped connection), and one ledger row."""

from __future__ import annotations

import json

import httpx
import pytest

from fmgate.core.errors import ServerRestarting
from fmgate.core.shutdown import ShutdownSignal
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import TEST_API_KEY, ledger_row
from tests.harness.servers import uvicorn_serving

LONG_PROMPT = "please write a long answer with very many words in it " * 4


async def test_openai_stream_cut_at_shutdown_ends_with_an_error_chunk_and_done(
    api_gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    await emu.set_timing(ttft_ms=0, tokens_per_second=20)
    shutdown = ShutdownSignal()
    body = {
        "model": "nova-lite",
        "stream": True,
        "messages": [{"role": "user", "content": LONG_PROMPT}],
    }
    lines: list[str] = []
    async with (
        uvicorn_serving(build_app(api_gateway, shutdown=shutdown)) as url,
        httpx.AsyncClient(timeout=30) as client,
        client.stream(
            "POST",
            f"{url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        ) as response,
    ):
        request_id = response.headers["x-request-id"]
        async for line in response.aiter_lines():
            if not line:
                continue
            lines.append(line)
            if '"content"' in line and not shutdown.cut:
                shutdown.cut_streams()  # the grace period is over while the answer streams
    payloads = [line.removeprefix("data: ") for line in lines]
    assert payloads[-1] == "[DONE]"
    error = json.loads(payloads[-2])["error"]
    assert error["message"] == ServerRestarting.default_message
    assert any('"content"' in payload for payload in payloads[:-2])  # text went out before
    row = await ledger_row(api_gateway, request_id)
    assert row.outcome == ServerRestarting.code


@pytest.mark.parametrize("stream", [True, False], ids=["streamed", "whole"])
async def test_anthropic_request_cut_at_shutdown_gets_a_retryable_error(
    api_gateway: Gateway, emu: AsyncEmulatorClient, stream: bool
) -> None:
    await emu.set_timing(ttft_ms=0, tokens_per_second=20)
    shutdown = ShutdownSignal()
    body = {
        "model": "nova-lite",
        "max_tokens": 200,
        "stream": stream,
        "messages": [{"role": "user", "content": LONG_PROMPT}],
    }
    headers = {"x-api-key": TEST_API_KEY, "anthropic-version": "2023-06-01"}
    async with (
        uvicorn_serving(build_app(api_gateway, shutdown=shutdown)) as url,
        httpx.AsyncClient(timeout=30) as client,
    ):
        if stream:
            async with client.stream(
                "POST", f"{url}/v1/messages", json=body, headers=headers
            ) as response:
                request_id = response.headers["request-id"]
                events = []
                async for line in response.aiter_lines():
                    if line.startswith("event: "):
                        events.append(line.removeprefix("event: "))
                        if events[-1] == "content_block_delta" and not shutdown.cut:
                            shutdown.cut_streams()
            assert events[-1] == "error"
            assert "content_block_delta" in events
        else:
            shutdown.cut_streams()  # already cut when the request arrives: refused at once
            response = await client.post(f"{url}/v1/messages", json=body, headers=headers)
            request_id = response.headers["request-id"]
            assert response.status_code == ServerRestarting.status
            assert response.json()["error"]["message"] == ServerRestarting.default_message
    row = await ledger_row(api_gateway, request_id)
    assert row.outcome == ServerRestarting.code


async def test_streams_end_normally_while_the_server_is_not_shutting_down(
    api_gateway: Gateway,
) -> None:
    body = {"model": "nova-lite", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with (
        uvicorn_serving(build_app(api_gateway, shutdown=ShutdownSignal())) as url,
        httpx.AsyncClient(timeout=30) as client,
    ):
        response = await client.post(
            f"{url}/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {TEST_API_KEY}"},
        )
    lines = [line for line in response.text.splitlines() if line]
    assert lines[-1] == "data: [DONE]"
    assert not any('"error"' in line for line in lines)
    row = await ledger_row(api_gateway, response.headers["x-request-id"])
    assert row.outcome == "ok"
