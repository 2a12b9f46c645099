"""Citations end to end against the emulator: Poe (fastapi_poe's client) shows them as numbered
footnotes, /v1/messages (the official Anthropic SDK) passes them on in Anthropic's shape,
streamed (``citations_delta``) and whole (text blocks with ``citations``); the OpenAI APIs
answer the same text without them; refusals name the bot."""

from __future__ import annotations

import base64
import json

import fastapi_poe as fp
import httpx
import httpx2
import pytest
from anthropic import AsyncAnthropic, BadRequestError
from anthropic.types import MessageParam
from openai import AsyncOpenAI

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate_emulator import AsyncEmulatorClient
from fmgate_emulator.content import reply_text
from tests.fakes.poe_api import FakePoeApi
from tests.harness.api_gateway import GATEWAY_URL, TEST_API_KEY
from tests.harness.attachment_files import FACTS_PDF, FACTS_TXT, FileServer
from tests.harness.poe_client import TEST_POE_KEY, ask, query, raw_events
from tests.harness.poe_gateway import pointed_at

CATALOG = """
version: 1
gateway:
  api_keys: [{caller: alice, key: env:FMGATE_TEST_API_KEY}]
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  claude:
    kind: chat
    model_id: us.anthropic.claude-sonnet-4-5-20250929-v1:0
    supports_documents: true
    max_tokens_limit: 4096
    pricing: {input_token: 0.1, output_token: 0.5}
bots:
  - bot_name: cited
    template: claude
    citations: true
  - bot_name: cited-whole
    template: claude
    citations: true
    streaming: false
  - bot_name: uncited
    template: claude
"""

OTTERS = "Otters hold hands while they sleep."
SKY = "The sky is blue."

pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test


@pytest.fixture
def catalog(
    monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi, file_server: FileServer
) -> Catalog:
    """This module's catalog, its files fetched from the test file server."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    monkeypatch.setenv("FMGATE_TEST_API_KEY", TEST_API_KEY)
    catalog = pointed_at(parse_catalog(CATALOG, "citations.yaml"), poe_api)
    poe = catalog.gateway.poe.model_copy(update={"attachment_hosts": (file_server.host_port,)})
    return catalog.model_copy(update={"gateway": catalog.gateway.model_copy(update={"poe": poe})})


def echo(question: str) -> str:
    return reply_text(question, None)[0]


# --- Poe -------------------------------------------------------------------------------------


def poe_question(server: FileServer, question: str) -> fp.ProtocolMessage:
    files = [("facts.txt", "text/plain"), ("facts.pdf", "application/pdf")]
    return fp.ProtocolMessage(
        role="user",
        content=question,
        attachments=[
            fp.Attachment(url=server.url(f"files/{name}"), content_type=kind, name=name)
            for name, kind in files
        ],
    )


@pytest.mark.parametrize("bot", ["cited", "cited-whole"])
async def test_poe_shows_citations_as_numbered_footnotes(
    poe: httpx.AsyncClient, file_server: FileServer, emu: AsyncEmulatorClient, bot: str
) -> None:
    question = "Do otters hold hands?"
    reply = await ask(poe, bot, query(poe_question(file_server, question)))
    assert reply.error is None
    assert reply.text == (
        f"{echo(question)}\n\n"
        f"According to facts: {OTTERS}[^1]\n"
        f"According to facts (2): {OTTERS}[^2]\n\n"
        f"[^1]: facts: “{OTTERS}”\n"
        f"[^2]: facts (2), page 2: “{OTTERS}”"
    )
    [record] = await emu.requests()
    documents = [b["document"] for b in record["body"]["messages"][0]["content"] if "document" in b]
    assert [(d["name"], d["format"], d["citations"]) for d in documents] == [
        ("facts", "txt", {"enabled": True}),  # a text file goes as a document, to be cited
        ("facts (2)", "pdf", {"enabled": True}),
    ]


async def test_poe_keeps_the_models_text_without_footnotes_for_the_next_turn(
    poe: httpx.AsyncClient, file_server: FileServer
) -> None:
    question = "What colour is the sky?"
    body = query(poe_question(file_server, question)).model_dump()
    events = await raw_events(poe, "cited", body)
    [state] = [json.loads(str(data["metadata"])) for name, data in events if name == "data"]
    said = f"{echo(question)}\n\nAccording to facts: {SKY}\nAccording to facts (2): {SKY}"
    assert state["turns"][-1]["text"] == said


async def test_poe_without_citations_expands_text_files_and_cites_nothing(
    poe: httpx.AsyncClient, file_server: FileServer, emu: AsyncEmulatorClient
) -> None:
    question = "Do otters hold hands?"
    reply = await ask(poe, "uncited", query(poe_question(file_server, question)))
    assert reply.error is None
    assert "According to" not in reply.text
    assert "[^" not in reply.text
    [record] = await emu.requests()
    content = record["body"]["messages"][0]["content"]
    assert all("citations" not in b.get("document", {}) for b in content)
    assert any('<attachment name="facts.txt">' in b.get("text", "") for b in content)


# --- Anthropic -------------------------------------------------------------------------------


@pytest.fixture
def anthropic_client(api_http: httpx2.AsyncClient) -> AsyncAnthropic:
    return AsyncAnthropic(
        api_key=TEST_API_KEY, base_url=GATEWAY_URL, http_client=api_http, max_retries=0
    )


def cited_question(question: str, *, cite_pdf: bool = True) -> list[MessageParam]:
    pdf = base64.b64encode(FACTS_PDF).decode()
    return [
        {
            "role": "user",
            "content": [
                {
                    "type": "document",
                    "source": {"type": "text", "media_type": "text/plain", "data": FACTS_TXT},
                    "title": "facts",
                    "citations": {"enabled": True},
                },
                {
                    "type": "document",
                    "source": {"type": "base64", "media_type": "application/pdf", "data": pdf},
                    "title": "report",
                    "citations": {"enabled": cite_pdf},
                },
                {"type": "text", "text": question},
            ],
        }
    ]


def expected_content(question: str) -> list[dict[str, object]]:
    char = {
        "type": "char_location",
        "cited_text": FACTS_TXT[37:73],
        "document_index": 0,
        "document_title": "facts",
        "start_char_index": 37,
        "end_char_index": 73,
        "file_id": None,
    }
    page = {
        "type": "page_location",
        "cited_text": f"{OTTERS}\n",
        "document_index": 1,
        "document_title": "report",
        "start_page_number": 2,
        "end_page_number": 3,
        "file_id": None,
    }
    return [
        {"type": "text", "text": f"{echo(question)}\n\nAccording to facts: ", "citations": None},
        {"type": "text", "text": OTTERS, "citations": [char]},
        {"type": "text", "text": "\nAccording to report: ", "citations": None},
        {"type": "text", "text": OTTERS, "citations": [page]},
    ]


@pytest.mark.parametrize("bot", ["cited", "cited-whole"])
async def test_messages_answer_text_blocks_with_their_citations(
    anthropic_client: AsyncAnthropic, bot: str
) -> None:
    question = "Do otters hold hands?"
    message = await anthropic_client.messages.create(
        model=bot, max_tokens=1024, messages=cited_question(question)
    )
    assert [block.model_dump() for block in message.content] == expected_content(question)
    assert message.stop_reason == "end_turn"


async def test_a_messages_stream_sends_citations_deltas_in_their_text_blocks(
    anthropic_client: AsyncAnthropic,
) -> None:
    question = "Do otters hold hands?"
    kinds: list[tuple[str, int, str]] = []
    async with anthropic_client.messages.stream(
        model="cited", max_tokens=1024, messages=cited_question(question)
    ) as stream:
        async for event in stream:
            if event.type == "content_block_delta":
                kinds.append((event.type, event.index, event.delta.type))
            elif event.type in ("content_block_start", "content_block_stop"):
                kinds.append((event.type, event.index, ""))
        final = await stream.get_final_message()
    assert [block.model_dump() for block in final.content] == expected_content(question)
    cited_block = [kind for kind in kinds if kind[1] == 1]
    assert cited_block[0] == ("content_block_start", 1, "")
    assert cited_block[1] == ("content_block_delta", 1, "citations_delta")
    assert {kind[2] for kind in cited_block[2:-1]} == {"text_delta"}
    assert cited_block[-1] == ("content_block_stop", 1, "")
    assert max(kind[1] for kind in kinds) == 3  # four text blocks


async def test_messages_refuse_citations_a_bot_has_off_and_citations_on_some_documents(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    with pytest.raises(BadRequestError) as off:
        await anthropic_client.messages.create(
            model="uncited", max_tokens=256, messages=cited_question("Hi")
        )
    assert "Model uncited does not cite documents" in str(off.value)
    with pytest.raises(BadRequestError) as some:
        await anthropic_client.messages.create(
            model="cited", max_tokens=256, messages=cited_question("Hi", cite_pdf=False)
        )
    assert "all or none of the documents" in str(some.value)
    assert await emu.requests() == []  # Bedrock never asked


# --- OpenAI ----------------------------------------------------------------------------------


async def test_the_responses_api_answers_the_same_text_without_citations(
    api_http: httpx2.AsyncClient,
) -> None:
    client = AsyncOpenAI(
        api_key=TEST_API_KEY, base_url=f"{GATEWAY_URL}/v1", http_client=api_http, max_retries=0
    )
    question = "What colour is the sky?"
    data = base64.b64encode(FACTS_TXT.encode()).decode()
    response = await client.responses.create(
        model="cited",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_file", "filename": "facts.txt", "file_data": data},
                    {"type": "input_text", "text": question},
                ],
            }
        ],
    )
    assert response.output_text == f"{echo(question)}\n\nAccording to facts: {SKY}"
    [message] = response.output
    assert message.type == "message"
    assert [part.annotations for part in message.content if part.type == "output_text"] == [[]]
