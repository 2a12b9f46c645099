"""Checking an image before it goes to a vision model as a Converse ``image`` block.

The bytes decide the format (magic bytes, then Pillow must agree); Bedrock's limits are
checked here: at most :data:`BEDROCK_MAX_IMAGE_BYTES` per image and :data:`MAX_IMAGE_SIDE`
pixels per side, plus the bot's ``max_image_pixels``. Problems raise ``AttachmentRejected``
with a message naming the file.
"""

from __future__ import annotations

import asyncio
import io
from dataclasses import dataclass

from PIL import Image, UnidentifiedImageError

from fmgate.attachments.download import format_size
from fmgate.attachments.media_types import sniff_image_format
from fmgate.core.errors import AttachmentRejected
from fmgate.core.model_request import ImageBlock, ImageFormat

#: Bedrock Converse: an image may be at most 3.75 MB ...
BEDROCK_MAX_IMAGE_BYTES = 3_750_000
#: ... and at most 8000 pixels wide and high.
MAX_IMAGE_SIDE = 8000

#: Pillow's format names -> Converse image formats.
PILLOW_FORMATS: dict[str, ImageFormat] = {
    "PNG": "png",
    "JPEG": "jpeg",
    "MPO": "jpeg",  # a JPEG with extra frames (phone cameras); still a JPEG file
    "GIF": "gif",
    "WEBP": "webp",
}

SUPPORTED_NAMES = "PNG, JPEG, GIF or WebP"


@dataclass(frozen=True, slots=True)
class ImageFacts:
    format: ImageFormat
    width: int
    height: int


def image_max_bytes(max_file_bytes: int) -> int:
    """The byte cap for an image download: the bot's file cap, at most Bedrock's limit."""
    return min(max_file_bytes, BEDROCK_MAX_IMAGE_BYTES)


async def image_block(name: str, data: bytes, *, max_pixels: int) -> ImageBlock:
    """An ``ImageBlock`` for ``data``, or ``AttachmentRejected`` saying what is wrong."""
    if len(data) > BEDROCK_MAX_IMAGE_BYTES:
        raise _rejected(
            name, f"it is larger than {format_size(BEDROCK_MAX_IMAGE_BYTES)}", "image bytes"
        )
    sniffed = sniff_image_format(data)
    if sniffed is None:
        raise _rejected(name, f"it is not a {SUPPORTED_NAMES} image", "bad magic bytes")
    facts = await asyncio.to_thread(read_image_facts, data)
    if facts is None or facts.format != sniffed:
        raise _rejected(name, "the image file is damaged or not what it claims to be", "pillow")
    if facts.width > MAX_IMAGE_SIDE or facts.height > MAX_IMAGE_SIDE:
        raise _rejected(
            name,
            f"it is {facts.width}x{facts.height} pixels; the limit is "
            f"{MAX_IMAGE_SIDE}x{MAX_IMAGE_SIDE}",
            "image side",
        )
    if facts.width * facts.height > max_pixels:
        raise _rejected(
            name,
            f"it has {facts.width * facts.height:,} pixels; this bot takes at most {max_pixels:,}",
            "image pixels",
        )
    return ImageBlock(format=facts.format, data=data)


def read_image_facts(data: bytes) -> ImageFacts | None:
    """Format and size as Pillow reads them (header only, then ``verify``); None if unreadable.

    Blocking (Pillow parses the file): call it through ``asyncio.to_thread``.
    """
    try:
        with Image.open(io.BytesIO(data)) as image:
            image_format = PILLOW_FORMATS.get(image.format or "")
            width, height = image.size
            image.verify()
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, SyntaxError):
        return None
    if image_format is None:
        return None
    return ImageFacts(image_format, width, height)


def _rejected(name: str, reason: str, detail: str) -> AttachmentRejected:
    return AttachmentRejected(
        f"image rejected: {detail}", user_message=f'The image "{name}" was not used: {reason}.'
    )
