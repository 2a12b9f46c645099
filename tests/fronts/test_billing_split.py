"""The billing split end to end: the end-of-request line and the ledger give the prompt's
system-prompt tokens and the rest (the input excluding the system prompt), counted with the
emulator's CountTokens once per prompt and model, after the first output, never failing a
request. Through Poe (fastapi_poe's wire, raw) and OpenAI (the official SDK)."""

from __future__ import annotations

import asyncio
import logging
import re
from typing import Any

import httpx
import httpx2
import pytest
from openai import AsyncOpenAI
from prometheus_client.parser import text_string_to_metric_families

from fmgate.accounting.ledger import UsageRecord
from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import count_tokens
from tests.fakes.poe_api import FakePoeApi
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, ledger_row
from tests.harness.caching_catalog import LONG_SYSTEM
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, query
from tests.harness.poe_gateway import pointed_at

CLAUDE = "anthropic.claude-3-7-sonnet-20250219-v1:0"
SYSTEM = "You are a terse assistant. Answer in one line, and never use lists."

CATALOG = f"""
version: 1
gateway:
  api_keys: [{{caller: alice, key: env:FMGATE_TEST_API_KEY}}]
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  claude:
    kind: chat
    model_id: us.{CLAUDE}
    count_tokens: true
    max_tokens: 256
    pricing: {{input_token: 0.3, output_token: 1.5, cache_read_token: 0.03,
               cache_write_token: 0.375}}
bots:
  - bot_name: claude-system
    template: claude
    system_prompt: {SYSTEM}
  - bot_name: claude-plain
    template: claude
  - bot_name: claude-cached
    template: claude
    system_prompt: {LONG_SYSTEM}
    prompt_caching: {{mode: auto, min_tokens: 1024}}
  - bot_name: nova-system
    kind: chat
    model_id: amazon.nova-lite-v1:0
    system_prompt: {SYSTEM}
    pricing: {{input_token: 0.06, output_token: 0.24}}
"""

pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test

SUMMARY = re.compile(r"\(system=(?P<system>\S+) excl_system=(?P<rest>\S+)\)")


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    """This module's catalog in place of the harness's: its ``gateway``, ``poe`` and
    ``api_gateway`` / ``api_http`` serve it."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    return pointed_at(parse_catalog(CATALOG, "billing-split.yaml"), poe_api)


@pytest.fixture
def openai_client(api_http: httpx2.AsyncClient) -> AsyncOpenAI:
    return AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )


async def poe_request(poe: httpx.AsyncClient, bot: str, text: str) -> str:
    """Ask ``bot`` through the Poe front; the request id."""
    async with poe.stream(
        "POST",
        BASE_URL + bot,
        json=query(("user", text)).model_dump(),
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    ) as response:
        async for _ in response.aiter_lines():
            pass
        return response.headers["x-request-id"]


def summary_split(caplog: pytest.LogCaptureFixture, bot: str) -> list[tuple[str, str]]:
    """(system=, excl_system=) of every end-of-request line of ``bot``, in order."""
    lines = [
        r.getMessage()
        for r in caplog.records
        if r.name == "fmgate.requests" and r.getMessage().startswith(f"bot={bot} ")
    ]
    return [(m["system"], m["rest"]) for m in map(SUMMARY.search, lines) if m is not None]


def prompt_tokens(row: UsageRecord) -> int:
    return row.input_tokens + row.cache_read_tokens + row.cache_write_tokens


async def count_calls(emu: AsyncEmulatorClient) -> list[dict[str, Any]]:
    return [r for r in await emu.requests() if r["operation"] == "CountTokens"]


def system_prompt_tokens(gateway: Gateway, bot: str) -> float:
    text = gateway.metrics.render()[0].decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "fmgate_system_prompt_tokens"
        for sample in family.samples
        if sample.name == "fmgate_system_prompt_tokens_total" and sample.labels["bot"] == bot
    )


async def test_poe_the_line_and_the_ledger_split_the_prompt_counted_once(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emu: AsyncEmulatorClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    system = count_tokens(SYSTEM)  # the emulator's count of the system prompt's text
    with caplog.at_level(logging.INFO, logger="fmgate.requests"):
        first = await ledger_row(gateway, await poe_request(poe, "claude-system", "Hi otters"))
        second = await ledger_row(gateway, await poe_request(poe, "claude-system", "And seals?"))
    for row in (first, second):
        assert row.system_tokens == system
        assert row.input_tokens_excl_system == prompt_tokens(row) - system
    assert summary_split(caplog, "claude-system") == [
        (str(system), str(prompt_tokens(first) - system)),
        (str(system), str(prompt_tokens(second) - system)),
    ]
    # One count of the prompt for both requests: with the system prompt and without it, by
    # the foundation model's id, after the answer had started.
    operations = [r["operation"] for r in await emu.requests()]
    assert operations[:1] == ["ConverseStream"]
    calls = await count_calls(emu)
    assert len(calls) == 2
    assert {c["model_id"] for c in calls} == {CLAUDE}
    systems = sorted(str(c["body"]["input"]["converse"].get("system")) for c in calls)
    assert systems == ["None", str([{"text": SYSTEM}])]
    assert system_prompt_tokens(gateway, "claude-system") == 2 * system


async def test_poe_no_system_prompt_is_none_of_the_prompt_on_any_model(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emu: AsyncEmulatorClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="fmgate.requests"):
        row = await ledger_row(gateway, await poe_request(poe, "claude-plain", "Hi otters"))
    assert (row.system_tokens, row.input_tokens_excl_system) == (0, row.input_tokens)
    assert summary_split(caplog, "claude-plain") == [("0", str(row.input_tokens))]
    assert await count_calls(emu) == []


async def test_poe_a_model_that_does_not_count_has_no_split(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emu: AsyncEmulatorClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="fmgate.requests"):
        row = await ledger_row(gateway, await poe_request(poe, "nova-system", "Hi otters"))
    assert (row.system_tokens, row.input_tokens_excl_system) == (None, None)
    assert row.input_tokens > 0
    assert summary_split(caplog, "nova-system") == [("n/a", "n/a")]
    assert await count_calls(emu) == []


async def test_poe_the_split_covers_the_prompt_read_from_the_cache(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
) -> None:
    system = count_tokens(LONG_SYSTEM)
    with caplog.at_level(logging.INFO, logger="fmgate.requests"):
        written = await ledger_row(gateway, await poe_request(poe, "claude-cached", "Hi otters"))
        read = await ledger_row(gateway, await poe_request(poe, "claude-cached", "And seals?"))
    assert written.cache_write_tokens >= system
    assert read.cache_read_tokens >= system
    for row in (written, read):
        assert row.system_tokens == system
        assert row.input_tokens_excl_system == prompt_tokens(row) - system
    line = next(
        r.getMessage() for r in reversed(caplog.records) if "bot=claude-cached " in r.getMessage()
    )
    assert f"cache_read_tokens={read.cache_read_tokens}" in line
    assert f"(system={system} excl_system={prompt_tokens(read) - system})" in line


async def test_openai_concurrent_requests_with_a_new_system_message_count_it_once(
    openai_client: AsyncOpenAI, api_gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    instruction = "Reply as a pirate would, briefly."

    async def ask(n: int) -> str:
        completion = await openai_client.chat.completions.with_raw_response.create(
            model="claude-plain",
            messages=[
                {"role": "system", "content": instruction},
                {"role": "user", "content": f"question {n}"},
            ],
        )
        return completion.headers["x-request-id"]

    request_ids = await asyncio.gather(*(ask(n) for n in range(6)))
    rows = [await ledger_row(api_gateway, request_id) for request_id in request_ids]
    assert {row.system_tokens for row in rows} == {count_tokens(instruction)}
    assert all(
        row.input_tokens_excl_system == row.input_tokens - count_tokens(instruction) for row in rows
    )
    assert len(await count_calls(emu)) == 2


async def test_a_failing_count_never_fails_the_request_and_is_logged_once(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emu: AsyncEmulatorClient,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await emu.inject("throttle", operation="CountTokens", count=-1)
    with caplog.at_level(logging.INFO):
        rows = [
            await ledger_row(gateway, await poe_request(poe, "claude-system", f"question {n}"))
            for n in range(3)
        ]
    assert [row.outcome for row in rows] == ["ok"] * 3
    assert all(row.output_tokens > 0 for row in rows)
    assert {(row.system_tokens, row.input_tokens_excl_system) for row in rows} == {(None, None)}
    assert summary_split(caplog, "claude-system") == [("n/a", "n/a")] * 3
    warnings = [
        r.getMessage() for r in caplog.records if r.name == "fmgate.accounting.system_prompts"
    ]
    assert len(warnings) == 1
    assert f"on {CLAUDE} (throttled)" in warnings[0]
    assert len(await count_calls(emu)) == 2  # not tried again for the later requests (yet)
