"""Documents the model is to cite: the bot's citations setting, a caller's per-document say,
and text files sent as documents so they can be cited."""

from __future__ import annotations

from typing import Any

from fmgate.attachments.content import AttachmentContent, build_attachment_content
from fmgate.attachments.download import AttachmentFetcher
from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.bot_request import Attachment
from fmgate.core.model_request import DocumentBlock, TextBlock
from tests.harness.attachment_files import FACTS_PDF, FACTS_TXT, FileServer


def bot(**fields: Any) -> ChatBotConfig:
    return ChatBotConfig(
        bot_name="test-bot", model_id="test.model-v1", supports_documents=True, **fields
    )


def served(server: FileServer, name: str, content_type: str, **extra: Any) -> Attachment:
    return Attachment(
        name=name, content_type=content_type, url=server.url(f"files/{name}"), **extra
    )


async def build(
    fetcher: AttachmentFetcher, config: ChatBotConfig, *attachments: Attachment
) -> AttachmentContent:
    return await build_attachment_content(attachments, config, fetcher)


async def test_a_bot_with_citations_sends_its_documents_to_be_cited(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    content = await build(
        fetcher,
        bot(citations=True),
        served(file_server, "facts.pdf", "application/pdf"),
        served(file_server, "facts.txt", "text/plain", parsed_content="Poe's copy"),
    )
    assert content.blocks == (
        DocumentBlock("pdf", "facts", FACTS_PDF, citations=True),
        DocumentBlock("txt", "facts (2)", FACTS_TXT.encode(), citations=True),
    )


async def test_without_citations_text_files_are_expanded_and_documents_not_cited(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    content = await build(
        fetcher,
        bot(),
        served(file_server, "facts.pdf", "application/pdf"),
        served(file_server, "facts.txt", "text/plain"),
    )
    assert content.blocks == (
        DocumentBlock("pdf", "facts", FACTS_PDF),
        TextBlock(f'<attachment name="facts.txt">\n{FACTS_TXT}\n</attachment>'),
    )


async def test_the_callers_say_wins_over_the_bots_setting(fetcher: AttachmentFetcher) -> None:
    quiet = Attachment(
        name="facts.txt", content_type="text/plain", data=FACTS_TXT.encode(), citations=False
    )
    content = await build(fetcher, bot(citations=True), quiet)
    assert content.blocks == (
        TextBlock(f'<attachment name="facts.txt">\n{FACTS_TXT}\n</attachment>'),
    )
    cited = Attachment(
        name="facts.pdf", content_type="application/pdf", data=FACTS_PDF, citations=True
    )
    content = await build(fetcher, bot(citations=True), cited)
    assert content.blocks == (DocumentBlock("pdf", "facts", FACTS_PDF, citations=True),)
