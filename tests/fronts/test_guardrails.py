"""Guardrails end to end: Poe (fastapi_poe's client), OpenAI and Anthropic (the official SDKs)
against the emulator's guardrail. Blocked input, output blocked mid-stream (sync and async), the
guardrail's own message shown, the ledger outcome, the metrics and the log."""

from __future__ import annotations

import logging

import httpx
import httpx2
import pytest
from anthropic import AsyncAnthropic
from openai import AsyncOpenAI
from prometheus_client.parser import text_string_to_metric_families

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text, split_tokens
from fmgate_emulator.guarded_answer import CHUNK_TOKENS
from fmgate_emulator.guardrails import DEFAULT_GUARDRAIL
from tests.fakes.poe_api import FakePoeApi
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, ledger_row
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, ask, query
from tests.harness.poe_gateway import pointed_at

GUARDRAIL = DEFAULT_GUARDRAIL.guardrail_id
BLOCKED_INPUT = DEFAULT_GUARDRAIL.blocked_input_messaging
BLOCKED_OUTPUT = DEFAULT_GUARDRAIL.blocked_outputs_messaging
#: Its echo holds the output-only denied word "swordfish" after two whole chunks of text.
LATE_WORD = "one two three four five six seven eight nine ten eleven twelve thirteen swordfish"

CATALOG = f"""
version: 1
gateway:
  api_keys: [{{caller: alice, key: env:FMGATE_TEST_API_KEY}}]
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  guarded:
    kind: chat
    model_id: amazon.nova-lite-v1:0
    pricing: {{input_token: 0.1, output_token: 0.5}}
    guardrail: {{id: {GUARDRAIL}, version: 1}}
bots:
  - bot_name: guarded
    template: guarded
  - bot_name: guarded-async
    template: guarded
    guardrail: {{stream_processing_mode: async, trace: enabled_full}}
  - bot_name: guarded-whole
    template: guarded
    streaming: false
  - bot_name: guarded-all-turns
    template: guarded
    guardrail: {{guard: all, trace: disabled}}
"""


pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    """This module's catalog in place of the harness's: its ``gateway``, ``poe``
    and ``api_gateway`` / ``api_http`` serve it."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    return pointed_at(parse_catalog(CATALOG, "guardrails.yaml"), poe_api)


def released(mode: str) -> str:
    """The part of LATE_WORD's answer the guardrail lets out before its message."""
    tokens = split_tokens(reply_text(LATE_WORD, None)[0])
    at = next(i for i, token in enumerate(tokens) if "swordfish" in token)
    start = at - at % CHUNK_TOKENS
    return "".join(tokens[: start + CHUNK_TOKENS] if mode == "async" else tokens[:start])


def requests_with_outcome(gateway: Gateway, bot: str, outcome: str) -> float:
    text = gateway.metrics.render()[0].decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        if family.name == "fmgate_requests"
        for sample in family.samples
        if sample.name == "fmgate_requests_total"
        and sample.labels["bot"] == bot
        and sample.labels["outcome"] == outcome
    )


async def poe_request_id(poe: httpx.AsyncClient, bot: str, text: str) -> str:
    async with poe.stream(
        "POST",
        BASE_URL + bot,
        json=query(("user", text)).model_dump(),
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    ) as response:
        async for _ in response.aiter_lines():
            pass
        return response.headers["x-request-id"]


# --- Poe -------------------------------------------------------------------------------------


@pytest.mark.parametrize("bot", ["guarded", "guarded-whole"])
async def test_poe_shows_the_blocked_input_message_and_books_a_guardrail_outcome(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emu: AsyncEmulatorClient,
    caplog: pytest.LogCaptureFixture,
    bot: str,
) -> None:
    with caplog.at_level(logging.INFO, logger="fmgate.guardrails"):
        reply = await ask(poe, bot, "How do I enrich plutonium?")
    assert reply.error is None
    assert reply.text.startswith(BLOCKED_INPUT)
    assert reply.text.endswith("_A guardrail stopped this answer._")
    [record] = await emu.requests()
    assert record["body"]["guardrailConfig"]["guardrailIdentifier"] == GUARDRAIL
    [logged] = [r.getMessage() for r in caplog.records if r.name == "fmgate.guardrails"]
    assert logged == f"guardrail {GUARDRAIL} version 1 intervened: input: custom word BLOCKED"
    assert "plutonium" not in logged  # trace "enabled": no user content in the log

    request_id = await poe_request_id(poe, bot, "plutonium again")
    row = await ledger_row(gateway, request_id)
    assert row.outcome == "guardrail"
    assert (row.input_tokens, row.output_tokens, row.cost_milli_cents) == (0, 0, 0)
    assert requests_with_outcome(gateway, bot, "guardrail") == 2


async def test_poe_only_the_latest_turn_is_assessed(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    conversation = query(
        ("user", "tell me about plutonium"),
        ("bot", "I cannot."),
        ("user", "then tell me about otters"),
    )
    reply = await ask(poe, "guarded", conversation)
    assert reply.text == reply_text("then tell me about otters", None)[0]
    [record] = await emu.requests()
    last = record["body"]["messages"][-1]["content"]
    assert last == [{"guardContent": {"text": {"text": "then tell me about otters"}}}]
    everything = await ask(poe, "guarded-all-turns", conversation)
    assert everything.text.startswith(BLOCKED_INPUT)


@pytest.mark.parametrize(("bot", "mode"), [("guarded", "sync"), ("guarded-async", "async")])
async def test_poe_output_blocked_mid_stream(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    caplog: pytest.LogCaptureFixture,
    bot: str,
    mode: str,
) -> None:
    with caplog.at_level(logging.INFO, logger="fmgate.guardrails"):
        request_id = await poe_request_id(poe, bot, LATE_WORD)
        reply = await ask(poe, bot, LATE_WORD)
    assert reply.text.startswith(released(mode) + BLOCKED_OUTPUT)
    assert ("swordfish" in reply.text) is (mode == "async")
    row = await ledger_row(gateway, request_id)
    assert row.outcome == "guardrail"
    assert row.output_tokens > 0  # the model's output before the intervention is billed
    assert row.cost_milli_cents > 0
    [logged, _] = [r.getMessage() for r in caplog.records if r.name == "fmgate.guardrails"]
    if mode == "async":  # trace enabled_full: the log quotes the match and the model output
        assert "output: custom word 'swordfish' BLOCKED" in logged
        assert "model output: " in logged
    else:
        assert logged.endswith("intervened: output: custom word BLOCKED")


# --- OpenAI and Anthropic ----------------------------------------------------------------------


async def test_openai_blocked_input_is_a_content_filter_finish(
    api_http: httpx2.AsyncClient, api_gateway: Gateway
) -> None:
    client = AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )
    raw = await client.chat.completions.with_raw_response.create(
        model="guarded", messages=[{"role": "user", "content": "Some stock tips, please"}]
    )
    [choice] = raw.parse().choices
    assert choice.message.content == BLOCKED_INPUT
    assert choice.finish_reason == "content_filter"
    row = await ledger_row(api_gateway, raw.headers["x-request-id"])
    assert (row.outcome, row.front) == ("guardrail", "openai")


@pytest.mark.parametrize(("bot", "mode"), [("guarded", "sync"), ("guarded-async", "async")])
async def test_openai_stream_blocked_mid_answer(
    api_http: httpx2.AsyncClient, api_gateway: Gateway, bot: str, mode: str
) -> None:
    client = AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )
    raw = await client.chat.completions.with_raw_response.create(
        model=bot, messages=[{"role": "user", "content": LATE_WORD}], stream=True
    )
    pieces: list[str] = []
    finish = None
    async for chunk in raw.parse():
        for choice in chunk.choices:
            pieces.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(pieces) == released(mode) + BLOCKED_OUTPUT
    assert finish == "content_filter"
    row = await ledger_row(api_gateway, raw.headers["x-request-id"])
    assert row.outcome == "guardrail"


async def test_anthropic_blocked_output_is_a_refusal(
    api_http: httpx2.AsyncClient, api_gateway: Gateway
) -> None:
    client = AsyncAnthropic(
        api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )
    async with client.messages.stream(
        model="guarded-async",
        max_tokens=256,
        messages=[{"role": "user", "content": LATE_WORD}],
    ) as stream:
        message = await stream.get_final_message()
    assert message.stop_reason == "refusal"
    assert "".join(b.text for b in message.content if b.type == "text") == (
        released("async") + BLOCKED_OUTPUT
    )
    raw = await client.messages.with_raw_response.create(
        model="guarded-whole", max_tokens=256, messages=[{"role": "user", "content": "plutonium"}]
    )
    assert (await raw.parse()).stop_reason == "refusal"
    row = await ledger_row(api_gateway, raw.headers["request-id"])
    assert (row.outcome, row.front) == ("guardrail", "anthropic")
    assert requests_with_outcome(api_gateway, "guarded-async", "guardrail") == 1
