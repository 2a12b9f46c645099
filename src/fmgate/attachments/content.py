"""Attachments -> model input: content blocks for the user message, notices for the user.

:func:`build_attachment_content` applies the bot's declared capabilities (``supports_images``,
``supports_documents``, ``expand_text_attachments``, ...) and limits to each attachment of one
message. The policy, per kind (full table in ``docs/attachments.md``):

- image: vision models get an ``ImageBlock`` (format from the bytes, size and dimensions
  checked); other models get Poe's description (``parsed_content``) as text, if there is one;
- text file: its text (Poe's ``parsed_content`` or the downloaded file) as an
  ``<attachment name="...">`` text block, within the text budget; else a document block; a
  document block also when the model is to cite it (text in the prompt cannot be cited);
- document (pdf, docx, ...): a ``DocumentBlock`` for models that take documents; else Poe's
  extracted text, if any;
- a document block asks the model to cite it when the attachment says so (a caller's choice) or,
  when it does not, the bot's ``citations`` setting does;
- anything else, or anything that fails a check: not sent, and a notice says why.

A problem with one file never fails the request: the file is skipped with a notice and the rest
goes ahead. Only when nothing usable is left *and* the user wrote no text (so there would be
nothing to answer) does :func:`build_attachment_content` raise ``AttachmentRejected``, whose
``user_message`` gathers the notices. That check needs the message text: pass
``message_text``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from fmgate.attachments.document_names import DocumentNamer
from fmgate.attachments.download import (
    AttachmentFetcher,
    AttachmentTooLarge,
    Downloaded,
    format_size,
)
from fmgate.attachments.images import image_block, image_max_bytes
from fmgate.attachments.media_types import (
    AttachmentKind,
    FileType,
    classify,
    has_document_signature,
)
from fmgate.attachments.text_budget import TextBudget, decode_text, format_attachment_text
from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.bot_request import Attachment
from fmgate.core.errors import AttachmentRejected
from fmgate.core.model_request import ContentBlock, DocumentBlock, DocumentFormat

__all__ = [
    "BEDROCK_MAX_DOCUMENTS",
    "BEDROCK_MAX_DOCUMENT_BYTES",
    "BEDROCK_MAX_IMAGES",
    "AttachmentContent",
    "AttachmentFetcher",
    "Downloaded",
    "build_attachment_content",
]

#: Bedrock Converse: at most 5 documents of at most 4.5 MB each, and 20 images, per request.
BEDROCK_MAX_DOCUMENTS = 5
BEDROCK_MAX_DOCUMENT_BYTES = 4_500_000
BEDROCK_MAX_IMAGES = 20


@dataclass(frozen=True, slots=True)
class AttachmentContent:
    """What one message's attachments add: blocks for the model, notices for the user."""

    #: To append, in order, to the user message that carried the attachments.
    blocks: tuple[ContentBlock, ...] = ()
    #: Short sentences telling the user what was skipped or cut, and why.
    notices: tuple[str, ...] = ()


async def build_attachment_content(
    attachments: Sequence[Attachment],
    config: ChatBotConfig,
    fetcher: AttachmentFetcher,
    *,
    message_text: str | None = None,
) -> AttachmentContent:
    """Turn one message's attachments into content blocks and notices (see module docstring).

    ``message_text``: the text of the message carrying the attachments. When given and blank,
    and no attachment could be used, ``AttachmentRejected`` is raised instead of returning an
    empty result. Downloads run one after another, so the total-bytes cap holds exactly.
    """
    if not attachments:
        return AttachmentContent()
    if not config.allow_attachments:
        names = _names(attachments)
        content = AttachmentContent(
            notices=(f"This bot does not read attachments, so it ignored {names}.",)
        )
    else:
        builder = _ContentBuilder(config, fetcher)
        limit = config.attachments.max_files
        for attachment in attachments[:limit]:
            await builder.add(attachment)
        if len(attachments) > limit:
            builder.notices.append(
                f"This bot reads at most {limit} files per message, so it ignored "
                f"{_names(attachments[limit:])}."
            )
        content = AttachmentContent(tuple(builder.blocks), tuple(builder.notices))
    if message_text is not None and not message_text.strip() and not content.blocks:
        raise AttachmentRejected(
            "no usable attachment and no message text",
            user_message=" ".join(content.notices) or AttachmentRejected.default_message,
        )
    return content


class _ContentBuilder:
    """Builds the blocks for one message, keeping the per-message counters and budgets."""

    def __init__(self, config: ChatBotConfig, fetcher: AttachmentFetcher) -> None:
        self._config = config
        self._limits = config.attachments
        self._fetcher = fetcher
        self._text = TextBudget(self._limits.text_budget_chars)
        self._bytes_left = self._limits.max_total_bytes
        self._namer = DocumentNamer()
        self._images = 0
        self._documents = 0
        self.blocks: list[ContentBlock] = []
        self.notices: list[str] = []
        self._handlers: dict[AttachmentKind, Callable[[Attachment, FileType], Awaitable[None]]] = {
            "image": self._add_image,
            "text": self._add_text,
            "document": self._add_document,
            "other": self._add_other,
        }

    async def add(self, attachment: Attachment) -> None:
        file_type = classify(attachment.name, attachment.content_type)
        try:
            await self._handlers[file_type.kind](attachment, file_type)
        except AttachmentRejected as exc:
            self.notices.append(exc.user_message)

    # -- kinds ----------------------------------------------------------------------------

    async def _add_image(self, attachment: Attachment, file_type: FileType) -> None:
        name = attachment.name
        if not self._config.supports_images:
            description = _image_description(attachment)
            if description is None:
                self.notices.append(f'This model cannot see images, so "{name}" was not used.')
                return
            self._place_text(name, description, wrap=_format_image_description)
            return
        if file_type.image_format is None:
            self.notices.append(
                f'"{name}" was not used: only PNG, JPEG, GIF and WebP images are supported.'
            )
            return
        if self._images >= BEDROCK_MAX_IMAGES:
            self.notices.append(
                f'"{name}" was not used: at most {BEDROCK_MAX_IMAGES} images fit in one request.'
            )
            return
        data = await self._load(attachment, image_max_bytes(self._limits.max_file_bytes))
        self.blocks.append(await image_block(name, data, max_pixels=self._limits.max_image_pixels))
        self._images += 1

    async def _add_text(self, attachment: Attachment, file_type: FileType) -> None:
        document_format = file_type.document_format
        if (
            document_format is not None
            and self._config.supports_documents
            and self._cites(attachment)
        ):
            await self._add_document_block(attachment, document_format)
            return
        if self._config.expand_text_attachments:
            if attachment.parsed_content is not None:
                self._place_text(attachment.name, attachment.parsed_content)
                return
            if self._text.left == 0:  # nothing more fits: do not download it at all
                self.notices.append(self._text.used_up_notice(attachment.name))
                return
            data = await self._load(attachment, self._limits.max_file_bytes)
            self._place_text(attachment.name, decode_text(data))
            return
        if self._config.supports_documents and file_type.document_format is not None:
            await self._add_document_block(attachment, file_type.document_format)
            return
        self.notices.append(
            f'This bot does not read text attachments, so "{attachment.name}" was not used.'
        )

    async def _add_document(self, attachment: Attachment, file_type: FileType) -> None:
        assert file_type.document_format is not None
        if self._config.supports_documents:
            await self._add_document_block(attachment, file_type.document_format)
            return
        if self._config.expand_text_attachments and attachment.parsed_content:
            self._place_text(attachment.name, attachment.parsed_content)
            return
        self.notices.append(
            f"This model cannot read {file_type.document_format.upper()} documents, so "
            f'"{attachment.name}" was not used.'
        )

    async def _add_other(self, attachment: Attachment, file_type: FileType) -> None:
        kind = attachment.content_type or "unknown"
        self.notices.append(
            f'"{attachment.name}" was not used: its file type ({kind}) is not supported.'
        )

    # -- shared steps ---------------------------------------------------------------------

    async def _add_document_block(
        self, attachment: Attachment, document_format: DocumentFormat
    ) -> None:
        name = attachment.name
        if self._documents >= BEDROCK_MAX_DOCUMENTS:
            self.notices.append(
                f'"{name}" was not used: at most {BEDROCK_MAX_DOCUMENTS} documents fit in one '
                "request."
            )
            return
        cap = min(self._limits.max_file_bytes, BEDROCK_MAX_DOCUMENT_BYTES)
        data = await self._load(attachment, cap)
        if not has_document_signature(document_format, data):
            self.notices.append(
                f'"{name}" was not used: it is not a valid {document_format.upper()} file.'
            )
            return
        name = self._namer.name(name)
        cites = self._cites(attachment)
        self.blocks.append(DocumentBlock(document_format, name, data, citations=cites))
        self._documents += 1

    def _cites(self, attachment: Attachment) -> bool:
        """Whether the model is to cite the document: the attachment's say, else the bot's."""
        if attachment.citations is not None:
            return attachment.citations
        return self._config.citations

    def _place_text(
        self, name: str, text: str, *, wrap: Callable[[str, str], str] = format_attachment_text
    ) -> None:
        placed = self._text.place(name, text, wrap=wrap)
        if placed.block is not None:
            self.blocks.append(placed.block)
        if placed.notice is not None:
            self.notices.append(placed.notice)

    async def _load(self, attachment: Attachment, file_cap: int) -> bytes:
        """The attachment's bytes (inline or downloaded), within the file and message caps."""
        if self._bytes_left <= 0:
            raise self._over_total(attachment.name)
        cap = min(file_cap, self._bytes_left)
        try:
            data = await self._bytes_of(attachment, cap)
        except AttachmentTooLarge:
            if cap < file_cap:
                raise self._over_total(attachment.name) from None
            raise
        self._bytes_left -= len(data)
        return data

    async def _bytes_of(self, attachment: Attachment, cap: int) -> bytes:
        if attachment.data is not None:
            if len(attachment.data) > cap:
                raise AttachmentTooLarge(
                    "inline attachment too large",
                    user_message=(
                        f'"{attachment.name}" is too large: the limit is {format_size(cap)}.'
                    ),
                )
            return attachment.data
        if attachment.url is None:
            raise AttachmentRejected(
                "attachment without url or data",
                user_message=f'"{attachment.name}" was not used: it arrived without its content.',
            )
        downloaded = await self._fetcher.fetch(
            attachment.url,
            max_bytes=cap,
            name=attachment.name,
            time_limit=self._limits.download_timeout_seconds,
        )
        return downloaded.data

    def _over_total(self, name: str) -> AttachmentRejected:
        total = format_size(self._limits.max_total_bytes)
        return AttachmentRejected(
            "message attachments over the total cap",
            user_message=(
                f'"{name}" was not used: the files of one message may add up to at most {total}.'
            ),
        )


def _image_description(attachment: Attachment) -> str | None:
    """Poe's description of an image (``parsed_content``), without a ``name***`` prefix."""
    text = attachment.parsed_content
    if not text or not text.strip():
        return None
    prefix = f"{attachment.name}***"
    return text.removeprefix(prefix).strip() or None


def _format_image_description(name: str, description: str) -> str:
    return f"[Image {name}: {description}]"


def _names(attachments: Sequence[Attachment]) -> str:
    return ", ".join(f'"{a.name}"' for a in attachments)
