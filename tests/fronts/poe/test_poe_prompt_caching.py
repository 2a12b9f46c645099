"""Prompt caching end to end: 20-turn Poe conversations through fastapi_poe's client, the
gateway's automatic checkpoints, the emulator's prompt cache, the ledger and Poe's cost capture.

From turn 2 on, at least 80% of each prompt's input tokens must be cache reads, as the emulator
recorded them and as the ledger rows say; a bot whose model takes no checkpoints never sends one;
every charge is the price of the usage at the cache rates.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import fastapi_poe as fp
import httpx
import pytest

from fmgate.accounting.ledger import UsageRecord
from fmgate.accounting.pricing import price
from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.core.events import Usage
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.emulator import aws_for
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, query
from tests.harness.poe_gateway import pointed_at

CLAUDE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
NOVA = "amazon.nova-pro-v1:0"
LLAMA = "meta.llama3-70b-instruct-v1:0"
#: 1,100 emulator tokens (one per word), well above Claude's 1,024 and Nova's 1,000.
SYSTEM_PROMPT = " ".join(f"rule{i}" for i in range(1100))
TURNS = 20

CATALOG = f"""
version: 1
gateway:
  max_attempts: 2
  retry_base_delay_seconds: 0.001
  retry_max_delay_seconds: 0.01
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
  system_prompt: "{SYSTEM_PROMPT}"
templates:
  chat:
    kind: chat
    max_tokens: 512
    max_tokens_limit: 4096
bots:
  - bot_name: claude
    template: chat
    model_id: {CLAUDE}
    prompt_caching: {{min_tokens: 1024, tools: true}}
    pricing: {{input_token: 0.3, output_token: 1.5, cache_read_token: 0.03,
               cache_write_token: 0.375}}
  - bot_name: nova
    template: chat
    model_id: {NOVA}
    prompt_caching: {{min_tokens: 1000, tools: false}}
    pricing: {{input_token: 0.08, output_token: 0.32, cache_read_token: 0.02}}
  - bot_name: sonnet-hour
    template: chat
    model_id: {SONNET_45}
    prompt_caching: {{min_tokens: 1024, ttl: 1h, ttls: [5m, 1h], tools: true}}
    pricing: {{input_token: 0.33, output_token: 1.65, cache_read_token: 0.033,
               cache_write_token: 0.4125, cache_write_1h_token: 0.66}}
  - bot_name: llama
    template: chat
    model_id: {LLAMA}
    pricing: {{input_token: 0.265, output_token: 0.35}}
  - bot_name: claude-or-llama
    template: chat
    model_id: {CLAUDE}
    prompt_caching: {{min_tokens: 1024, tools: true}}
    fallbacks: [{{model_id: {LLAMA}}}]
    pricing: {{input_token: 0.3, output_token: 1.5}}
"""


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    return pointed_at(parse_catalog(CATALOG, "caching-catalog.yaml"), poe_api)


@dataclass
class Served:
    """A gateway with a ledger, and a Poe-client session into it that notes request ids."""

    gateway: Gateway
    session: httpx.AsyncClient
    request_ids: list[str]


@pytest.fixture
async def served(
    catalog: Catalog, emulator: Emulator, moto_url: str, tmp_path: Path
) -> AsyncIterator[Served]:
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=tmp_path / "usage.db")
    request_ids: list[str] = []

    async def note_request_id(response: httpx.Response) -> None:
        # fastapi_poe's client reports the ``data`` events it does not know (a report_error
        # request, answered without a request id).
        if "x-request-id" in response.headers:
            request_ids.append(response.headers["x-request-id"])

    async with Gateway.open(catalog, options) as gateway:
        transport = httpx.ASGITransport(app=build_app(gateway))
        async with httpx.AsyncClient(
            transport=transport,
            base_url="http://gateway",
            event_hooks={"response": [note_request_id]},
        ) as session:
            yield Served(gateway, session, request_ids)


@dataclass(frozen=True)
class TurnResult:
    reply: str
    #: Usage as the emulator answered it (Bedrock's TokenUsage).
    recorded: dict[str, Any]
    #: The request's body as the emulator received it.
    body: dict[str, Any]
    row: UsageRecord


def user_question(turn: int) -> str:
    return f"Question number {turn}: what does rule{turn} say about the weather today?"


async def converse(
    served: Served, emu: AsyncEmulatorClient, bot: str, turns: int
) -> list[TurnResult]:
    """Talk ``turns`` turns with ``bot`` as Poe does: each query carries the whole chat."""
    history: list[fp.ProtocolMessage] = [fp.ProtocolMessage(role="bot", content="Hi there!")]
    results: list[TurnResult] = []
    for turn in range(1, turns + 1):
        history.append(fp.ProtocolMessage(role="user", content=user_question(turn)))
        request = query(*history, bot_query_id=f"bq-{bot}-{turn}", conversation_id=f"c-{bot}")
        reply = ""
        async for partial in fp.stream_request(
            request, bot, TEST_POE_KEY, base_url=BASE_URL, session=served.session, num_tries=1
        ):
            reply += partial.text
        assert reply
        history.append(fp.ProtocolMessage(role="bot", content=reply))
        await served.gateway.finisher.drain()
        assert served.gateway.ledger is not None
        row = await served.gateway.ledger.get(served.request_ids[-1])
        assert row is not None
        assert row.outcome == "ok"
        record = (await emu.requests())[-1]
        assert record["operation"] == "ConverseStream"
        results.append(TurnResult(reply, record["usage"], record["body"], row))
    return results


def read_share(cache_read: int, prompt_tokens: int) -> float:
    return cache_read / prompt_tokens


@pytest.mark.parametrize("bot", ["claude", "nova"])
async def test_twenty_turns_read_most_of_each_prompt_from_the_cache(
    served: Served, emu: AsyncEmulatorClient, poe_api: FakePoeApi, bot: str
) -> None:
    results = await converse(served, emu, bot, TURNS)

    first = results[0].recorded
    assert first["cacheReadInputTokens"] == 0
    assert first["cacheWriteInputTokens"] > 1100  # the system prompt and the first question
    for turn, result in enumerate(results[1:], start=2):
        usage = result.recorded
        prompt = (
            usage["inputTokens"] + usage["cacheReadInputTokens"] + usage["cacheWriteInputTokens"]
        )
        assert read_share(usage["cacheReadInputTokens"], prompt) >= 0.8, (turn, usage)
        row = result.row
        row_prompt = row.input_tokens + row.cache_read_tokens + row.cache_write_tokens
        assert read_share(row.cache_read_tokens, row_prompt) >= 0.8, (turn, row)
        assert (row.input_tokens, row.cache_read_tokens, row.cache_write_tokens) == (
            usage["inputTokens"],
            usage["cacheReadInputTokens"],
            usage["cacheWriteInputTokens"],
        )
        assert row.output_tokens == usage["outputTokens"]
        # What this turn read is what the previous turn's prompt held up to its last checkpoint.
        before = results[turn - 2].recorded
        assert usage["cacheReadInputTokens"] == (
            before["cacheReadInputTokens"] + before["cacheWriteInputTokens"]
        )

    # Every charge is the price of the usage at the cache rates, captured once with Poe.
    pricing = served.gateway.catalog.bot(bot).pricing
    captured = {capture.bot_query_id: capture.total for capture in poe_api.captures}
    for turn, result in enumerate(results, start=1):
        usage = result.recorded
        expected = price(
            pricing,
            usage=Usage(
                input_tokens=usage["inputTokens"],
                output_tokens=usage["outputTokens"],
                cache_read_tokens=usage["cacheReadInputTokens"],
                cache_write_tokens=usage["cacheWriteInputTokens"],
            ),
        )
        assert result.row.cost_milli_cents == expected.total_rounded
        assert captured[f"bq-{bot}-{turn}"] == expected.total_rounded
    assert len(poe_api.captures) == TURNS


async def test_one_hour_writes_are_counted_and_priced_apart(
    served: Served, emu: AsyncEmulatorClient, poe_api: FakePoeApi
) -> None:
    results = await converse(served, emu, "sonnet-hour", 3)
    for result in results:
        assert all(point.get("ttl") == "1h" for point in cache_points(result.body))
        written = result.recorded["cacheWriteInputTokens"]
        assert result.recorded.get("cacheDetails", []) == (
            [{"ttl": "1h", "inputTokens": written}] if written else []
        )
        row = result.row
        assert row.cache_write_1h_tokens == row.cache_write_tokens == written
        pricing = served.gateway.catalog.bot("sonnet-hour").pricing
        expected = price(
            pricing,
            usage=Usage(
                input_tokens=row.input_tokens,
                output_tokens=row.output_tokens,
                cache_read_tokens=row.cache_read_tokens,
                cache_write_tokens=written,
                cache_write_1h_tokens=written,
            ),
        )
        assert row.cost_milli_cents == expected.total_rounded
    # An hour later nothing is left to read.
    await emu.advance_clock(3601)
    [late] = await converse_once_more(served, emu, "sonnet-hour")
    assert late["cacheReadInputTokens"] == 0


async def converse_once_more(
    served: Served, emu: AsyncEmulatorClient, bot: str
) -> list[dict[str, Any]]:
    request = query(("user", user_question(1)), bot_query_id="bq-late")
    async for _ in fp.stream_request(
        request, bot, TEST_POE_KEY, base_url=BASE_URL, session=served.session, num_tries=1
    ):
        pass
    return [(await emu.requests())[-1]["usage"]]


def cache_points(body: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = [
        *((body.get("toolConfig") or {}).get("tools") or []),
        *(body.get("system") or []),
        *(block for message in body["messages"] for block in message["content"]),
    ]
    return [block["cachePoint"] for block in blocks if "cachePoint" in block]


async def test_a_model_without_prompt_caching_never_gets_a_checkpoint(
    served: Served, emu: AsyncEmulatorClient
) -> None:
    results = await converse(served, emu, "llama", 3)  # the emulator refuses any checkpoint
    for result in results:
        assert cache_points(result.body) == []
        assert "cacheReadInputTokens" not in result.recorded
        assert result.row.cache_read_tokens == result.row.cache_write_tokens == 0


async def test_a_fallback_to_another_model_gets_no_checkpoint(
    served: Served, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", model_id=CLAUDE, count=-1)
    request = query(("user", "What do the rules say?"), bot_query_id="bq-fallback")
    reply = ""
    async for partial in fp.stream_request(
        request,
        "claude-or-llama",
        TEST_POE_KEY,
        base_url=BASE_URL,
        session=served.session,
        num_tries=1,
    ):
        reply += partial.text
    assert "What do the rules say?" in reply
    records = await emu.requests()
    tried = [r for r in records if r["base_model_id"] == CLAUDE.removeprefix("us.")]
    assert tried
    assert all(cache_points(r["body"]) for r in tried)  # the bot's own model got them
    [answered] = [r for r in records if r["model_id"] == LLAMA]
    assert cache_points(answered["body"]) == []
    assert "usage" in answered
