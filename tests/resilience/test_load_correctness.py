"""Poe-scale load through a real ``fmgate serve`` process: nothing lost, nothing invented.

1,000 streams at once against the healthy embedded emulator (every stream slow enough to overlap
the others): 500 Poe streams through fastapi_poe's protocol and 500 ``/v1/chat/completions``
streams through the official OpenAI SDK. With the catalog's default settings every one completes
with its full text and its end (``done``, the final chunk), none is told "busy", each has one
ledger row, and the in-flight gauges are back to zero afterwards. Correctness, not timing: the
figures for speed are the benchmark's.
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
from collections import Counter
from contextlib import closing
from pathlib import Path

import httpx
import httpx2
from openai import AsyncOpenAI
from prometheus_client.parser import text_string_to_metric_families

from fmgate_emulator.content import reply_text
from tests.resilience.gateway_process import (
    BOT,
    GatewayProcess,
    Stream,
    gateway_process,
    poe_stream,
)

POE_STREAMS = 500
API_STREAMS = 500
#: API callers, each with its own key: one caller's streams stay under the default per-caller
#: limits (8 at once), as 500 people's would.
API_CALLERS = 100
#: Each stream waits this long for its first token, so that all of them are open together.
FIRST_TOKEN_MS = 1500.0
TOKENS_PER_SECOND = 40.0
#: The bot's max_tokens in the process's catalog.
MAX_TOKENS = 512
SCENARIO_SECONDS = 120.0


async def slow_first_token(server: GatewayProcess) -> None:
    async with httpx.AsyncClient(base_url=server.emulator_url) as control:
        timing = {"ttft_ms": FIRST_TOKEN_MS, "tokens_per_second": TOKENS_PER_SECOND}
        (await control.put("/_emulator/timing", json=timing)).raise_for_status()


async def api_stream(client: AsyncOpenAI, text: str) -> tuple[str, str | None]:
    """The whole text of one streamed chat completion and its finish reason."""
    stream = await client.chat.completions.create(
        model=BOT, messages=[{"role": "user", "content": text}], stream=True
    )
    parts: list[str] = []
    finish: str | None = None
    async for chunk in stream:
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    return "".join(parts), finish


def api_callers() -> tuple[str, dict[str, str]]:
    """The catalog's ``api_keys`` for API_CALLERS callers, and the environment holding them."""
    env = {f"FMGATE_LOAD_KEY_{i}": f"sk-load-{i:03d}-{'k' * 24}" for i in range(API_CALLERS)}
    entries = "".join(
        f"    - {{caller: load-{i}, key: 'env:FMGATE_LOAD_KEY_{i}'}}\n" for i in range(API_CALLERS)
    )
    return "  api_keys:\n" + entries, env


def gauge_total(metrics_text: str, name: str) -> float:
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics_text)
        if family.name == name
        for sample in family.samples
    )


async def settled(server: GatewayProcess, session: httpx.AsyncClient) -> dict[str, float]:
    """The in-flight gauges, once they read zero (bounded: accounting runs just after)."""
    names = (
        "fmgate_inflight_streams",
        "fmgate_upstream_pool_connections",
        "fmgate_concurrency_running",
    )
    readings: dict[str, float] = {}
    for _ in range(200):
        text = (await session.get(f"{server.url}/metrics")).text
        readings = {name: gauge_total(text, name) for name in names}
        if not any(readings.values()):
            break
        await asyncio.sleep(0.05)  # a bounded poll of the server's own gauges
    return readings


def ledger_counts(path: Path) -> Counter[tuple[str, str]]:
    with closing(sqlite3.connect(path)) as db:
        rows = db.execute("SELECT front, outcome, COUNT(*) FROM usage GROUP BY front, outcome")
        return Counter({(front, outcome): count for front, outcome, count in rows})


async def test_a_thousand_streams_at_once_all_complete_with_default_settings(
    tmp_path: Path,
) -> None:
    keys_yaml, keys_env = api_callers()
    process = gateway_process(
        tmp_path, grace_seconds=5.0, gateway_extra=keys_yaml, env_extra=keys_env
    )
    async with process as server:
        await slow_first_token(server)
        limits = httpx.Limits(max_connections=POE_STREAMS + 50, max_keepalive_connections=0)
        api_limits = httpx2.Limits(max_connections=API_STREAMS + 50)
        async with (
            httpx.AsyncClient(limits=limits, timeout=60.0) as session,
            httpx2.AsyncClient(limits=api_limits, timeout=60.0) as api_http,
        ):
            callers = [
                AsyncOpenAI(
                    api_key=key, base_url=f"{server.url}/v1", http_client=api_http, max_retries=0
                )
                for key in keys_env.values()
            ]
            poe = [
                poe_stream(session, server, f"poe-{i}", f"poe load {i}", Stream())
                for i in range(POE_STREAMS)
            ]
            api = [
                api_stream(callers[i % API_CALLERS], f"api load {i}") for i in range(API_STREAMS)
            ]
            async with asyncio.timeout(SCENARIO_SECONDS):
                results = await asyncio.gather(*poe, *api)
            poe_results = [r for r in results if isinstance(r, Stream)]
            api_results = [r for r in results if isinstance(r, tuple)]

            for i, stream in enumerate(poe_results):
                assert stream.error is None, stream.error
                assert stream.names[0] == "meta", stream.names
                assert stream.names[-1] == "done", stream.names
                assert stream.text == reply_text(f"poe load {i}", MAX_TOKENS)[0]
            for i, (text, finish) in enumerate(api_results):
                assert (text, finish) == (reply_text(f"api load {i}", MAX_TOKENS)[0], "stop")
            gauges = await settled(server, session)
            assert gauges == dict.fromkeys(gauges, 0.0), gauges

        server.send_signal(signal.SIGTERM)
        assert await server.exit_code() == 0
    assert ledger_counts(server.ledger) == {
        ("poe", "ok"): POE_STREAMS,
        ("openai", "ok"): API_STREAMS,
    }
