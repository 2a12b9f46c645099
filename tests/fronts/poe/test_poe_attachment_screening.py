"""A guardrail screening attachments (``guardrail.screen_attachments``) end to end: fastapi_poe's
client, files from a local file server, the emulator's ApplyGuardrail and its default guardrail.
The text of the latest message's files is screened before the model is called; when the
guardrail intervenes the answer is its blocked message, the model is never called, and the
ledger books outcome ``guardrail``."""

from __future__ import annotations

import logging

import fastapi_poe as fp
import httpx
import pytest

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from fmgate_emulator.guardrails import DEFAULT_GUARDRAIL
from tests.fakes.poe_api import FakePoeApi
from tests.harness.api_gateway import ledger_row
from tests.harness.attachment_files import NOTES_TXT, FileServer
from tests.harness.poe_client import BASE_URL, TEST_POE_KEY, ask, query
from tests.harness.poe_gateway import pointed_at

GUARDRAIL = DEFAULT_GUARDRAIL.guardrail_id
BLOCKED_INPUT = DEFAULT_GUARDRAIL.blocked_input_messaging

CATALOG = f"""
version: 1
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  nova:
    kind: chat
    model_id: amazon.nova-lite-v1:0
    supports_documents: true
    pricing: {{input_token: 0.06, output_token: 0.24}}
bots:
  - bot_name: screened
    template: nova
    guardrail: {{id: {GUARDRAIL}, version: 1, screen_attachments: true}}
  - bot_name: unscreened
    template: nova
    guardrail: {{id: {GUARDRAIL}, version: 1}}
  - bot_name: screened-unknown
    template: nova
    guardrail: {{id: nosuchguardrail, version: 1, screen_attachments: true}}
"""

pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test


@pytest.fixture
def catalog(
    monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi, file_server: FileServer
) -> Catalog:
    """This module's catalog, attachments allowed from the test's file server."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    catalog = pointed_at(parse_catalog(CATALOG, "screening.yaml"), poe_api)
    poe = catalog.gateway.poe.model_copy(update={"attachment_hosts": (file_server.host_port,)})
    return catalog.model_copy(update={"gateway": catalog.gateway.model_copy(update={"poe": poe})})


def with_file(
    server: FileServer, name: str, content_type: str, parsed_content: str | None = None
) -> fp.QueryRequest:
    attached = fp.Attachment(
        url=server.url(f"files/{name}"),
        content_type=content_type,
        name=name,
        parsed_content=parsed_content,
    )
    return query(fp.ProtocolMessage(role="user", content="Summarise this", attachments=[attached]))


async def request_id_of(poe: httpx.AsyncClient, bot: str, request: fp.QueryRequest) -> str:
    async with poe.stream(
        "POST",
        BASE_URL + bot,
        json=request.model_dump(),
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    ) as response:
        async for _ in response.aiter_lines():
            pass
        return response.headers["x-request-id"]


async def test_a_denied_text_file_is_stopped_before_the_model_with_the_blocked_message(
    poe: httpx.AsyncClient,
    gateway: Gateway,
    emu: AsyncEmulatorClient,
    file_server: FileServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    request = with_file(file_server, "lab-notes.txt", "text/plain")
    with caplog.at_level(logging.INFO, logger="fmgate.guardrails"):
        reply = await ask(poe, "screened", request)
    [logged] = [r.getMessage() for r in caplog.records if r.name == "fmgate.guardrails"]
    assert logged == f"guardrail {GUARDRAIL} version 1 intervened: attachments: custom word BLOCKED"
    assert reply.error is None
    assert reply.text.startswith(BLOCKED_INPUT)
    assert reply.text.endswith("_A guardrail stopped this answer._")
    [screening] = await emu.requests()  # the model was never called
    assert screening["operation"] == "ApplyGuardrail"
    assert screening["body"]["source"] == "INPUT"
    [block] = screening["body"]["content"]
    assert '<attachment name="lab-notes.txt">' in block["text"]["text"]
    assert "enrich plutonium" in block["text"]["text"]

    row = await ledger_row(gateway, await request_id_of(poe, "screened", request))
    assert row.outcome == "guardrail"
    assert (row.input_tokens, row.output_tokens, row.cost_milli_cents) == (0, 0, 0)


async def test_the_extracted_text_of_a_document_is_screened_too(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient, file_server: FileServer
) -> None:
    # The PDF goes to the model as a document block, which the Converse guardrail does not
    # read as text here; Poe's extracted text of it is what the screening reads.
    request = with_file(
        file_server, "report.pdf", "application/pdf", parsed_content="Step 1: obtain plutonium."
    )
    unscreened = await ask(poe, "unscreened", request)
    assert unscreened.text == reply_text("Summarise this", None)[0]
    await emu.reset()
    screened = await ask(poe, "screened", request)
    assert screened.text.startswith(BLOCKED_INPUT)
    [screening] = await emu.requests()
    assert screening["body"]["content"] == [{"text": {"text": "Step 1: obtain plutonium."}}]


async def test_a_clean_file_is_screened_then_answered(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient, file_server: FileServer
) -> None:
    reply = await ask(poe, "screened", with_file(file_server, "notes.txt", "text/plain"))
    assert reply.error is None
    assert reply.text.startswith("Echo: Summarise this")
    assert BLOCKED_INPUT not in reply.text
    screening, answer = await emu.requests()
    assert (screening["operation"], answer["operation"]) == ("ApplyGuardrail", "ConverseStream")
    assert NOTES_TXT.strip() in screening["body"]["content"][0]["text"]["text"]
    content = answer["body"]["messages"][-1]["content"]  # guarded text: only this turn
    texts = [block["guardContent"]["text"]["text"] for block in content]
    assert any(NOTES_TXT.strip() in text for text in texts)  # the model got the file


async def test_no_screening_without_files_or_without_the_option(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient, file_server: FileServer
) -> None:
    await ask(poe, "screened", "Tell me about otters")
    await ask(poe, "unscreened", with_file(file_server, "notes.txt", "text/plain"))
    assert [r["operation"] for r in await emu.requests()] == ["ConverseStream"] * 2


async def test_a_screening_bedrock_refuses_fails_the_request_unanswered(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient, file_server: FileServer
) -> None:
    reply = await ask(poe, "screened-unknown", with_file(file_server, "notes.txt", "text/plain"))
    assert reply.error is not None
    assert [r["operation"] for r in await emu.requests()] == ["ApplyGuardrail"]
