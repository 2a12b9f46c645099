"""build_attachment_content: what the model gets and what the user is told, per policy row."""

from __future__ import annotations

import io
import random
from typing import Any

import pytest
from PIL import Image

from fmgate.attachments.content import AttachmentContent, build_attachment_content
from fmgate.attachments.download import AttachmentFetcher
from fmgate.config.bot_config import AttachmentLimits, ChatBotConfig
from fmgate.core.bot_request import Attachment
from fmgate.core.errors import AttachmentRejected
from fmgate.core.model_request import DocumentBlock, ImageBlock, TextBlock
from tests.harness.attachment_files import (
    DATA_CSV,
    GIF,
    JPEG,
    NOTES_TXT,
    PDF_BYTES,
    PNG,
    README_MD,
    WEBP,
    FileServer,
)


def bot(**fields: Any) -> ChatBotConfig:
    return ChatBotConfig(bot_name="test-bot", model_id="test.model-v1", **fields)


def served(server: FileServer, name: str, content_type: str, **extra: Any) -> Attachment:
    return Attachment(
        name=name, content_type=content_type, url=server.url(f"files/{name}"), **extra
    )


async def build(
    fetcher: AttachmentFetcher, config: ChatBotConfig, *attachments: Attachment, **kwargs: Any
) -> AttachmentContent:
    return await build_attachment_content(attachments, config, fetcher, **kwargs)


# -- text files -------------------------------------------------------------------------------


async def test_text_files_are_expanded_with_their_names(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    content = await build(
        fetcher,
        bot(),
        served(file_server, "notes.txt", "text/plain"),
        served(file_server, "readme.md", "text/markdown"),
        served(file_server, "data.csv", "text/csv"),
    )
    assert content.blocks == (
        TextBlock(f'<attachment name="notes.txt">\n{NOTES_TXT}\n</attachment>'),
        TextBlock(f'<attachment name="readme.md">\n{README_MD}\n</attachment>'),
        TextBlock(f'<attachment name="data.csv">\n{DATA_CSV}\n</attachment>'),
    )
    assert content.notices == ()


async def test_parsed_content_is_used_without_downloading(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    attachment = served(file_server, "notes.txt", "text/plain", parsed_content="from Poe")
    content = await build(fetcher, bot(), attachment)
    assert content.blocks == (TextBlock('<attachment name="notes.txt">\nfrom Poe\n</attachment>'),)
    assert file_server.requests == []


async def test_code_file_with_generic_content_type_is_text(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(
        name="main.py", content_type="application/octet-stream", data=b"print('hi')\n"
    )
    content = await build(fetcher, bot(), attachment)
    assert content.blocks == (
        TextBlock("<attachment name=\"main.py\">\nprint('hi')\n\n</attachment>"),
    )


async def test_invalid_utf8_is_replaced_not_fatal(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(name="log.txt", content_type="text/plain", data=b"ok \xff\xfe end")
    content = await build(fetcher, bot(), attachment)
    assert content.blocks == (
        TextBlock('<attachment name="log.txt">\nok \ufffd\ufffd end\n</attachment>'),
    )


async def test_text_over_the_budget_is_cut_and_reported(fetcher: AttachmentFetcher) -> None:
    config = bot(attachments=AttachmentLimits(text_budget_chars=1000))
    first = Attachment(name="a.txt", content_type="text/plain", data=b"a" * 700)
    second = Attachment(name="b.txt", content_type="text/plain", data=b"b" * 500)
    third = Attachment(name="c.txt", content_type="text/plain", data=b"c" * 50)
    content = await build(fetcher, config, first, second, third)
    assert content.blocks == (
        TextBlock('<attachment name="a.txt">\n' + "a" * 700 + "\n</attachment>"),
        TextBlock('<attachment name="b.txt">\n' + "b" * 300 + "\n</attachment>"),
    )
    assert content.notices == (
        '"b.txt" was cut to its first 300 characters to fit the 1,000-character limit for '
        "attached text (200 characters left out).",
        '"c.txt" was not included: the 1,000 characters this bot allows for attached text were '
        "already used.",
    )


async def test_text_expansion_off_uses_document_blocks_when_supported(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    config = bot(expand_text_attachments=False, supports_documents=True)
    content = await build(fetcher, config, served(file_server, "data.csv", "text/csv"))
    assert content.blocks == (DocumentBlock("csv", "data", DATA_CSV.encode()),)


async def test_text_expansion_off_without_documents_is_reported(fetcher: AttachmentFetcher) -> None:
    config = bot(expand_text_attachments=False)
    attachment = Attachment(name="a.txt", content_type="text/plain", data=b"hello")
    content = await build(fetcher, config, attachment)
    assert content.blocks == ()
    assert content.notices == ('This bot does not read text attachments, so "a.txt" was not used.',)


# -- images ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content_type", "image_format", "data"),
    [
        ("photo.png", "image/png", "png", PNG),
        ("photo.jpg", "image/jpeg", "jpeg", JPEG),
        ("anim.gif", "image/gif", "gif", GIF),
        ("pic.webp", "image/webp", "webp", WEBP),
    ],
)
async def test_vision_models_get_image_blocks(
    fetcher: AttachmentFetcher,
    file_server: FileServer,
    name: str,
    content_type: str,
    image_format: str,
    data: bytes,
) -> None:
    content = await build(
        fetcher, bot(supports_images=True), served(file_server, name, content_type)
    )
    assert content.blocks == (ImageBlock(image_format, data),)  # type: ignore[arg-type]
    assert content.notices == ()


async def test_the_bytes_decide_the_image_format(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(name="really-a-jpeg.png", content_type="image/png", data=JPEG)
    content = await build(fetcher, bot(supports_images=True), attachment)
    assert content.blocks == (ImageBlock("jpeg", JPEG),)


async def test_text_posing_as_png_is_refused_with_a_notice(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    content = await build(
        fetcher,
        bot(supports_images=True),
        served(file_server, "fake.png", "image/png"),
        served(file_server, "photo.png", "image/png"),
    )
    assert content.blocks == (ImageBlock("png", PNG),)
    assert content.notices == (
        'The image "fake.png" was not used: it is not a PNG, JPEG, GIF or WebP image.',
    )


async def test_image_wider_than_bedrock_allows_is_refused(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    content = await build(
        fetcher, bot(supports_images=True), served(file_server, "wide.png", "image/png")
    )
    assert content.blocks == ()
    assert content.notices == (
        'The image "wide.png" was not used: it is 8100x2 pixels; the limit is 8000x8000.',
    )


async def test_image_over_the_bots_pixel_limit_is_refused(fetcher: AttachmentFetcher) -> None:
    config = bot(supports_images=True, attachments=AttachmentLimits(max_image_pixels=64 * 64))
    attachment = Attachment(name="photo.png", content_type="image/png", data=PNG)  # 64x48
    content = await build(fetcher, config, attachment)
    assert content.blocks == (ImageBlock("png", PNG),)
    big = Attachment(name="big.png", content_type="image/png", data=_png(100, 50))
    content = await build(fetcher, config, big)
    assert content.notices == (
        'The image "big.png" was not used: it has 5,000 pixels; this bot takes at most 4,096.',
    )


async def test_unsupported_image_type_is_reported(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    content = await build(
        fetcher, bot(supports_images=True), served(file_server, "old.bmp", "image/bmp")
    )
    assert content.notices == (
        '"old.bmp" was not used: only PNG, JPEG, GIF and WebP images are supported.',
    )
    assert file_server.requests == []


async def test_image_over_the_file_cap_is_refused(fetcher: AttachmentFetcher) -> None:
    config = bot(supports_images=True, attachments=AttachmentLimits(max_file_bytes=1024))
    big = _png(300, 300, noise=True)
    assert len(big) > 1024
    attachment = Attachment(name="noise.png", content_type="image/png", data=big)
    content = await build(fetcher, config, attachment)
    assert content.notices == ('"noise.png" is too large: the limit is 1 KB.',)


async def test_text_only_model_uses_poes_image_description(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(
        name="cat.jpg",
        content_type="image/jpeg",
        url="https://pfst.cf2.poecdn.net/base/image/cat.jpg?token=x",
        parsed_content="cat.jpg***A grey cat asleep on a sofa.",
    )
    content = await build(fetcher, bot(enable_image_comprehension=True), attachment)
    assert content.blocks == (TextBlock("[Image cat.jpg: A grey cat asleep on a sofa.]"),)
    assert content.notices == ()


async def test_text_only_model_without_description_is_told(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(name="cat.jpg", content_type="image/jpeg", data=JPEG)
    content = await build(fetcher, bot(), attachment)
    assert content.blocks == ()
    assert content.notices == ('This model cannot see images, so "cat.jpg" was not used.',)


# -- documents ------------------------------------------------------------------------------


async def test_documents_become_document_blocks_with_safe_unique_names(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    config = bot(supports_documents=True)
    pdf = served(file_server, "report.pdf", "application/pdf")
    same_name = Attachment(name="report.pdf", content_type="application/pdf", data=PDF_BYTES)
    odd_name = Attachment(
        name="Q3   report (final).v2.pdf", content_type="application/pdf", data=PDF_BYTES
    )
    content = await build(fetcher, config, pdf, same_name, odd_name)
    assert content.blocks == (
        DocumentBlock("pdf", "report", PDF_BYTES),
        DocumentBlock("pdf", "report (2)", PDF_BYTES),
        DocumentBlock("pdf", "Q3 report (final) v2", PDF_BYTES),
    )


async def test_docx_is_a_document(fetcher: AttachmentFetcher, file_server: FileServer) -> None:
    kind = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    content = await build(
        fetcher, bot(supports_documents=True), served(file_server, "letter.docx", kind)
    )
    assert [type(b) for b in content.blocks] == [DocumentBlock]
    assert content.blocks[0] == DocumentBlock("docx", "letter", content.blocks[0].data)  # type: ignore[union-attr]


async def test_a_fake_pdf_is_refused(fetcher: AttachmentFetcher, file_server: FileServer) -> None:
    content = await build(
        fetcher, bot(supports_documents=True), served(file_server, "fake.pdf", "application/pdf")
    )
    assert content.notices == ('"fake.pdf" was not used: it is not a valid PDF file.',)


async def test_at_most_five_documents(fetcher: AttachmentFetcher) -> None:
    pdfs = [
        Attachment(name=f"d{i}.pdf", content_type="application/pdf", data=PDF_BYTES)
        for i in range(6)
    ]
    content = await build(fetcher, bot(supports_documents=True), *pdfs)
    assert len(content.blocks) == 5
    assert content.notices == ('"d5.pdf" was not used: at most 5 documents fit in one request.',)


async def test_model_without_documents_uses_parsed_text(fetcher: AttachmentFetcher) -> None:
    pdf = Attachment(
        name="r.pdf", content_type="application/pdf", data=PDF_BYTES, parsed_content="Page one."
    )
    content = await build(fetcher, bot(), pdf)
    assert content.blocks == (TextBlock('<attachment name="r.pdf">\nPage one.\n</attachment>'),)


async def test_model_without_documents_and_no_text_is_told(fetcher: AttachmentFetcher) -> None:
    pdf = Attachment(name="r.pdf", content_type="application/pdf", data=PDF_BYTES)
    content = await build(fetcher, bot(), pdf)
    assert content.notices == ('This model cannot read PDF documents, so "r.pdf" was not used.',)


# -- limits, refusals, the empty-message rule -----------------------------------------------


async def test_unknown_file_types_are_reported(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(name="a.zip", content_type="application/zip", data=b"PK")
    content = await build(fetcher, bot(), attachment)
    assert content.notices == (
        '"a.zip" was not used: its file type (application/zip) is not supported.',
    )


async def test_files_over_the_count_limit_are_reported(fetcher: AttachmentFetcher) -> None:
    config = bot(attachments=AttachmentLimits(max_files=2))
    files = [Attachment(name=f"{i}.txt", content_type="text/plain", data=b"x") for i in range(4)]
    content = await build(fetcher, config, *files)
    assert len(content.blocks) == 2
    assert content.notices == (
        'This bot reads at most 2 files per message, so it ignored "2.txt", "3.txt".',
    )


async def test_total_bytes_per_message_are_capped(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    config = bot(attachments=AttachmentLimits(max_file_bytes=4096, max_total_bytes=4096))
    first = Attachment(name="a.txt", content_type="text/plain", data=b"a" * 4080)
    second = served(file_server, "notes.txt", "text/plain")
    content = await build(fetcher, config, first, second)
    assert len(content.blocks) == 1  # notes.txt (40 bytes) would pass the 4096-byte total
    assert content.notices == (
        '"notes.txt" was not used: the files of one message may add up to at most 4 KB.',
    )


async def test_disallowed_host_becomes_a_notice(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(
        name="x.txt", content_type="text/plain", url="http://169.254.169.254/latest/meta-data/"
    )
    content = await build(fetcher, bot(), attachment)
    assert content.notices == (
        '"x.txt" could not be downloaded: it is not hosted on an allowed attachment server.',
    )


async def test_bot_without_attachments_ignores_them(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(name="a.txt", content_type="text/plain", data=b"hi")
    content = await build(fetcher, bot(allow_attachments=False), attachment)
    assert content == AttachmentContent(
        notices=('This bot does not read attachments, so it ignored "a.txt".',)
    )


async def test_nothing_usable_and_no_text_raises_with_the_reasons(
    fetcher: AttachmentFetcher,
) -> None:
    attachment = Attachment(name="cat.jpg", content_type="image/jpeg", data=JPEG)
    with pytest.raises(AttachmentRejected) as caught:
        await build(fetcher, bot(), attachment, message_text="  ")
    assert caught.value.user_message == ('This model cannot see images, so "cat.jpg" was not used.')


async def test_nothing_usable_but_a_question_goes_ahead(fetcher: AttachmentFetcher) -> None:
    attachment = Attachment(name="cat.jpg", content_type="image/jpeg", data=JPEG)
    content = await build(fetcher, bot(), attachment, message_text="What is this?")
    assert content.blocks == ()
    assert content.notices


async def test_no_attachments_no_work(fetcher: AttachmentFetcher) -> None:
    assert await build(fetcher, bot(), message_text="") == AttachmentContent()


def _png(width: int, height: int, *, noise: bool = False) -> bytes:
    image = Image.new("RGB", (width, height))
    if noise:
        rng = random.Random(7)
        image.putdata(
            [
                (rng.randrange(256), rng.randrange(256), rng.randrange(256))
                for _ in range(width * height)
            ]
        )
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


# -- the text a guardrail screens ---------------------------------------------------------------


async def test_the_text_to_screen_is_the_placed_text_and_the_documents_extracted_text(
    fetcher: AttachmentFetcher, file_server: FileServer
) -> None:
    content = await build(
        fetcher,
        bot(supports_documents=True, supports_images=True),
        served(file_server, "notes.txt", "text/plain"),
        served(file_server, "report.pdf", "application/pdf", parsed_content="The report says hi."),
        served(file_server, "photo.png", "image/png", parsed_content="photo.png***A red square"),
        served(file_server, "data.csv", "text/csv", parsed_content="  "),
    )
    placed = [block.text for block in content.blocks if isinstance(block, TextBlock)]
    assert content.texts == (placed[0], "The report says hi.", placed[1])
    assert NOTES_TXT in placed[0]
