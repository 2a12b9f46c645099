"""Bedrock answers carrying members fmgate does not model (a content block of a new kind, new
usage and metrics fields, a new stop reason, a new stream event: the emulator's
``unknown_members`` fault) reach users whole through the fronts: the text is the model's, none
of the unknown block's content shows, the usage is billed, and each kind is logged once."""

from __future__ import annotations

import logging

import httpx
import httpx2
import pytest
from openai import AsyncOpenAI

from fmgate.bedrock import unknown_members
from fmgate.bedrock.unknown_members import UnknownMembers
from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from fmgate_emulator.unknown_members import UNKNOWN_TEXT
from tests.fakes.poe_api import FakePoeApi
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY, ledger_row
from tests.harness.poe_client import TEST_POE_KEY, ask
from tests.harness.poe_gateway import pointed_at

NOVA_LITE = "amazon.nova-lite-v1:0"
LOGGER = "fmgate.bedrock.unknown_members"

CATALOG = f"""
version: 1
gateway:
  api_keys: [{{caller: alice, key: env:FMGATE_TEST_API_KEY}}]
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
  pricing: {{input_token: 0.006, output_token: 0.024}}
bots:
  - bot_name: nova-streamed
    model_id: {NOVA_LITE}
  - bot_name: nova-whole
    model_id: {NOVA_LITE}
    streaming: false
"""

pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    """This module's catalog in place of the harness's: its ``gateway`` and ``poe`` serve it."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    return pointed_at(parse_catalog(CATALOG, "unknown-members.yaml"), poe_api)


@pytest.fixture(autouse=True)
def fresh_record(monkeypatch: pytest.MonkeyPatch) -> None:
    """A record of logged members of this test's own."""
    monkeypatch.setattr(unknown_members, "UNKNOWN_MEMBERS", UnknownMembers())


def unknown_member_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER]


async def test_poe_streams_the_whole_answer_and_logs_each_kind_once(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    await emu.inject("unknown_members", count=2)

    first = await ask(poe, "nova-streamed", "What is new?")
    second = await ask(poe, "nova-streamed", "And now?")

    assert (first.error, second.error) == (None, None)
    assert first.text == reply_text("What is new?", None)[0]
    assert second.text == reply_text("And now?", None)[0]
    lines = unknown_member_lines(caplog)
    assert len(lines) == len(set(lines)) == 7  # event, block start/delta, stop, 3 members
    assert any("'futureBlock'" in line for line in lines)
    assert all(UNKNOWN_TEXT not in line for line in lines)


@pytest.mark.parametrize("bot", ["nova-streamed", "nova-whole"])
async def test_openai_chat_completions_answer_in_full_and_bill_the_usage(
    gateway: Gateway, emu: AsyncEmulatorClient, bot: str
) -> None:
    await emu.inject("unknown_members")
    transport = httpx2.ASGITransport(app=build_app(gateway))
    async with httpx2.AsyncClient(transport=transport, base_url=GATEWAY_URL) as http:
        client = AsyncOpenAI(
            api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=http, max_retries=0
        )
        raw = await client.chat.completions.with_raw_response.create(
            model=bot, messages=[{"role": "user", "content": "Anything new?"}], stream=True
        )
        chunks = [chunk async for chunk in raw.parse()]
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == reply_text("Anything new?", None)[0]
    assert UNKNOWN_TEXT not in text
    finish = [
        c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason
    ]
    assert finish == ["stop"]  # an unknown stop reason finishes the answer as a plain stop
    [record] = await emu.requests()
    assert record["operation"] == ("ConverseStream" if bot == "nova-streamed" else "Converse")
    row = await ledger_row(gateway, raw.headers["x-request-id"])
    assert row.outcome == "ok"
    assert row.output_tokens == record["usage"]["outputTokens"]
