"""Slow clients against a real uvicorn on 127.0.0.1: they are cut off and never block others.

What protects the gateway (see docs/security.md): every connection is a coroutine, so a slow
one costs memory, not a worker; a request body must arrive within
``gateway.limits.body_timeout_seconds`` (else 408). Slow or huge *headers* are neither timed nor
capped by uvicorn with httptools, so production runs behind a proxy with header timeouts and
size caps, and with uvicorn's ``limit_concurrency`` (the tests show others are still served
meanwhile).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

import httpx
import pytest

from fmgate.config.catalog import Catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.harness.emulator import aws_for
from tests.harness.poe_client import TEST_POE_KEY, query
from tests.harness.servers import uvicorn_serving

BOUND = 20.0  # seconds: a hang fails the test instead of stalling CI (not a timing assertion)


@contextlib.asynccontextmanager
async def serving(catalog: Catalog, emulator: Emulator, moto_url: str) -> AsyncIterator[str]:
    """The gateway app on a real uvicorn (loopback, free port), stopped afterwards."""
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
    async with (
        Gateway.open(catalog, options) as gateway,
        uvicorn_serving(build_app(gateway), timeout_keep_alive=1) as url,
    ):
        yield url


def head(length: int) -> bytes:
    return (
        b"POST /bot/nova-lite HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + TEST_POE_KEY.encode() + b"\r\n"
        b"Content-Type: application/json\r\nContent-Length: " + str(length).encode() + b"\r\n\r\n"
    )


async def answered_normally(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=BOUND) as client:
        assert (await client.get("/healthz")).status_code == 200
        body = query(("user", "hello")).model_dump()
        headers = {"Authorization": f"Bearer {TEST_POE_KEY}"}
        response = await client.post("/bot/nova-lite", json=body, headers=headers)
        assert response.status_code == 200
        assert "event: text" in response.text


@pytest.fixture
def short_body_timeout(limited: Callable[..., Catalog]) -> Catalog:
    return limited(body_timeout_seconds=0.5)


async def test_a_body_that_trickles_is_cut_off_with_408(
    short_body_timeout: Catalog, emulator: Emulator, moto_url: str
) -> None:
    async with serving(short_body_timeout, emulator, moto_url) as url:
        port = int(url.rsplit(":", 1)[1])
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write(head(1000) + b'{"type": "qu')  # and then nothing more
        await writer.drain()
        await answered_normally(url)  # the slow client blocks nobody meanwhile
        answer = await asyncio.wait_for(reader.read(4096), BOUND)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408")
        assert b"did not arrive in time" in answer  # the one body-error wording of every front


async def test_many_slow_clients_do_not_block_others(
    short_body_timeout: Catalog, emulator: Emulator, moto_url: str
) -> None:
    async with serving(short_body_timeout, emulator, moto_url) as url:
        port = int(url.rsplit(":", 1)[1])
        slow: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        for index in range(50):
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            if index % 2:
                writer.write(head(100_000) + b"{")  # a body that never completes
            else:
                writer.write(b"POST /bot/nova-lite HTTP/1.1\r\nHost: x\r\nX-Slow: ")  # headers
            await writer.drain()
            slow.append((reader, writer))
        await answered_normally(url)
        for index, (reader, writer) in enumerate(slow):
            if index % 2:
                answer = await asyncio.wait_for(reader.read(4096), BOUND)
                assert answer.startswith(b"HTTP/1.1 408")
            writer.close()
