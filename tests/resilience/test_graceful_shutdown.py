"""Graceful shutdown of a real ``fmgate serve`` process (issue 8).

SIGTERM closes the listening socket at once, lets the streams in flight finish within
``gateway.shutdown_grace_seconds``, cuts the rest with a retryable "restarting" error and ``done``,
drains accounting into the usage ledger and exits 0.
"""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import httpx

from fmgate.core.errors import ServerRestarting
from fmgate.core.shutdown import ShutdownSignal
from fmgate.server.app import build_app
from fmgate_emulator.content import reply_text
from tests.harness.load import assert_well_formed
from tests.resilience.catalog import OpenServed
from tests.resilience.gateway_process import (
    DRAINING_LINE,
    GatewayProcess,
    Stream,
    gateway_process,
    ledger_rows,
    poe_stream,
)

STREAMS = 10
#: A question whose echoed answer is ~40 tokens long.
QUESTION = " ".join(f"word{i}" for i in range(30))


async def start_streams(
    client: httpx.AsyncClient, server: GatewayProcess
) -> tuple[list[Stream], list[asyncio.Task[Stream]]]:
    """``STREAMS`` concurrent streams, returned once every one of them is sending text."""
    streams = [Stream() for _ in range(STREAMS)]
    tasks = [
        asyncio.create_task(poe_stream(client, server, f"user-{i}", QUESTION, stream))
        for i, stream in enumerate(streams)
    ]
    async with asyncio.timeout(20):
        await asyncio.gather(*(stream.first_text.wait() for stream in streams))
    return streams, tasks


async def sigterm_and_wait_for_drain(server: GatewayProcess) -> None:
    """SIGTERM; returns once the server says its listening socket is closed."""
    server.send_signal(signal.SIGTERM)
    await server.wait_for_log(DRAINING_LINE)


async def assert_refuses_connections(server: GatewayProcess) -> None:
    async with httpx.AsyncClient() as fresh:
        try:
            await fresh.get(server.url + "/healthz")
        except httpx.ConnectError:
            return
    raise AssertionError("a new connection was accepted after SIGTERM")


async def test_sigterm_lets_streams_finish_within_the_grace_period(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, grace_seconds=20) as server:
        await server.pace(tokens_per_second=25)
        async with httpx.AsyncClient(timeout=30) as client:
            streams, tasks = await start_streams(client, server)
            await sigterm_and_wait_for_drain(server)
            await assert_refuses_connections(server)
            await asyncio.gather(*tasks)
        assert await server.exit_code() == 0
    expected, _ = reply_text(QUESTION, max_tokens=512)
    for stream in streams:
        assert_well_formed(stream)
        assert stream.error is None
        assert stream.text == expected
    rows = ledger_rows(server.ledger)
    assert rows == {stream.request_id: "ok" for stream in streams}


async def test_streams_past_the_grace_period_end_with_a_retryable_error(tmp_path: Path) -> None:
    async with gateway_process(tmp_path, grace_seconds=0.5) as server:
        await server.pace(tokens_per_second=4)  # ~10 s per answer: far past the grace period
        async with httpx.AsyncClient(timeout=30) as client:
            streams, tasks = await start_streams(client, server)
            await sigterm_and_wait_for_drain(server)
            await assert_refuses_connections(server)
            await asyncio.gather(*tasks)
        assert await server.exit_code() == 0
    expected, _ = reply_text(QUESTION, max_tokens=512)
    for stream in streams:
        assert_well_formed(stream)  # the error comes right before done
        assert stream.error == {"allow_retry": True, "text": ServerRestarting.default_message}
        assert stream.text
        assert stream.text != expected
        assert expected.startswith(stream.text)
    rows = ledger_rows(server.ledger)
    assert rows == {stream.request_id: ServerRestarting.code for stream in streams}


async def test_readiness_reports_503_while_draining(served: OpenServed) -> None:
    shutdown = ShutdownSignal()
    async with served() as s:
        transport = httpx.ASGITransport(app=build_app(s.gateway, shutdown=shutdown))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            assert (await client.get("/readyz")).status_code == 200
            shutdown.begin_draining()
            draining = await client.get("/readyz")
            alive = await client.get("/healthz")
    assert draining.status_code == 503
    assert draining.json() == {"status": "draining"}
    assert alive.status_code == 200  # liveness holds: the pod is finishing, not broken
