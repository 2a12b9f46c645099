"""Callers that go away mid-stream leak nothing (issue 8).

Two hundred Poe streams over real sockets to a real uvicorn (in this event loop, so its tasks
can be counted) are each read up to their first text and then dropped. Afterwards: no stream in
flight, no Bedrock call holding a pooled connection, no connection left open at the emulator,
the server's tasks back to where they were, and one ledger row per request, "cancelled".
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.harness.load import metric
from tests.harness.poe_client import TEST_POE_KEY, query
from tests.harness.polling import eventually
from tests.harness.servers import uvicorn_serving
from tests.resilience.catalog import OpenServed

STREAMS = 200
BOT = "lonely"  # no fallbacks: one Bedrock stream per request
QUESTION = " ".join(f"word{i}" for i in range(60))  # the answer runs to max_tokens
#: Longest the test waits for everything to wind down after the callers left.
SETTLE_SECONDS = 20.0

ESTABLISHED = "01"


def established_connections_to(port: int) -> int:
    """TCP connections accepted on ``port`` (server side) that are still open, from /proc."""
    count = 0
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].rsplit(":", 1)[1], 16)
        if local_port == port and fields[3] == ESTABLISHED:
            count += 1
    return count


async def open_and_abandon(client: httpx.AsyncClient, url: str, user: int) -> str:
    """Start a stream, read up to its first text event, then drop the connection."""
    body = query(("user", QUESTION), user_id=f"user-{user}", conversation_id=f"c-{user}")
    request = client.build_request(
        "POST",
        f"{url}/bot/{BOT}",
        json=body.model_dump(),
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    )
    response = await client.send(request, stream=True)
    try:
        async for line in response.aiter_lines():
            if line == "event: text":
                break
    finally:
        await response.aclose()
    return response.headers["x-request-id"]


async def ask_once(client: httpx.AsyncClient, url: str) -> None:
    """One whole request (warms up the Bedrock client and its pool)."""
    body = query(("user", "warm up"), user_id="warm-up", conversation_id="c-warm-up")
    response = await client.post(
        f"{url}/bot/{BOT}",
        json=body.model_dump(),
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    )
    assert "event: done" in response.text


async def settle(*conditions: Callable[[], bool]) -> None:
    """Wait until every condition holds, at most ``SETTLE_SECONDS``; the caller then asserts
    them one by one (so a failure names the one that never held)."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(SETTLE_SECONDS):
            while not all(condition() for condition in conditions):  # noqa: ASYNC110
                await asyncio.sleep(0.05)  # polling gauges and /proc


async def nothing_in_progress(emu: AsyncEmulatorClient) -> bool:
    """Whether the emulator has no response in progress."""
    return bool((await emu.counters())["in_progress"] == 0)


def in_flight(gateway: Gateway) -> float:
    return metric(gateway, "fmgate_inflight_streams")


def upstream_in_use(gateway: Gateway) -> float:
    return metric(gateway, "fmgate_upstream_pool_connections")


async def test_abandoned_streams_leak_nothing(
    served: OpenServed, emulator: Emulator, emu: AsyncEmulatorClient
) -> None:
    emulator_port = urlsplit(emulator.url).port
    assert emulator_port is not None
    limits = httpx.Limits(max_connections=STREAMS + 10, max_keepalive_connections=0)
    async with (
        served() as s,
        uvicorn_serving(build_app(s.gateway)) as url,
        httpx.AsyncClient(timeout=30, limits=limits) as client,
    ):
        await ask_once(client, url)
        await s.gateway.finisher.drain()
        baseline_tasks = len(asyncio.all_tasks())
        baseline_connections = established_connections_to(emulator_port)

        await emu.set_timing(ttft_ms=0, tokens_per_second=2)  # answers would take ~30 s each
        request_ids = await asyncio.gather(
            *(open_and_abandon(client, url, i) for i in range(STREAMS))
        )

        await settle(
            lambda: in_flight(s.gateway) == 0,
            lambda: upstream_in_use(s.gateway) == 0,
            lambda: established_connections_to(emulator_port) <= baseline_connections,
            lambda: len(asyncio.all_tasks()) <= baseline_tasks,
        )
        assert in_flight(s.gateway) == 0
        assert upstream_in_use(s.gateway) == 0
        assert established_connections_to(emulator_port) <= baseline_connections
        assert len(asyncio.all_tasks()) <= baseline_tasks
        # The emulator stops writing once it notices the closed socket.
        await eventually(lambda: nothing_in_progress(emu), "the emulator ends every stream")

        await s.gateway.finisher.drain()
        assert s.gateway.ledger is not None
        outcomes = [await s.gateway.ledger.get(request_id) for request_id in request_ids]
    assert len(set(request_ids)) == STREAMS
    assert [row.outcome if row else None for row in outcomes] == ["cancelled"] * STREAMS
