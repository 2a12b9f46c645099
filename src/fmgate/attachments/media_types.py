"""What kind of file an attachment is: a table from extension / content type to file type.

An attachment is classified from what the caller declared (its content type and file name);
the bytes get the last word for images and binary documents (:func:`sniff_image_format`,
:func:`has_document_signature`), so a text file named ``cat.png`` is never sent as an image.

A file type can be several things at once: ``notes.md`` is text (it can be expanded into the
conversation) *and* a Converse ``md`` document. The policy in ``fmgate.attachments.content``
decides which use a given bot makes of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fmgate.core.model_request import DocumentFormat, ImageFormat

AttachmentKind = Literal["image", "text", "document", "other"]


@dataclass(frozen=True, slots=True)
class FileType:
    """How a file may be used: as text, as an image block, as a document block."""

    #: Readable as UTF-8 text that can be placed into the conversation.
    text: bool = False
    #: An image; ``image_format`` is None for image types Converse does not take (bmp, heic...).
    image: bool = False
    image_format: ImageFormat | None = None
    #: The Converse document format, when the file can be a ``document`` block.
    document_format: DocumentFormat | None = None

    @property
    def kind(self) -> AttachmentKind:
        """The primary kind: image, else text, else document, else other."""
        if self.image:
            return "image"
        if self.text:
            return "text"
        if self.document_format is not None:
            return "document"
        return "other"


UNKNOWN = FileType()
TEXT = FileType(text=True)

_IMAGE_TYPES: dict[str, FileType] = {
    "png": FileType(image=True, image_format="png"),
    "jpeg": FileType(image=True, image_format="jpeg"),
    "gif": FileType(image=True, image_format="gif"),
    "webp": FileType(image=True, image_format="webp"),
    "unsupported": FileType(image=True),
}

_CODE_EXTENSIONS = (
    "py",
    "pyi",
    "js",
    "mjs",
    "cjs",
    "jsx",
    "ts",
    "tsx",
    "java",
    "kt",
    "kts",
    "scala",
    "c",
    "h",
    "cc",
    "cpp",
    "cxx",
    "hpp",
    "hh",
    "cs",
    "go",
    "rs",
    "rb",
    "php",
    "pl",
    "pm",
    "swift",
    "m",
    "mm",
    "r",
    "jl",
    "lua",
    "dart",
    "ex",
    "exs",
    "erl",
    "hs",
    "ml",
    "clj",
    "sh",
    "bash",
    "zsh",
    "fish",
    "ps1",
    "bat",
    "sql",
    "graphql",
    "proto",
    "css",
    "scss",
    "less",
    "vue",
    "svelte",
    "toml",
    "ini",
    "cfg",
    "conf",
    "env",
    "properties",
    "gradle",
    "cmake",
    "mk",
    "makefile",
    "dockerfile",
    "tf",
    "hcl",
    "yaml",
    "yml",
    "xml",
    "json",
    "jsonl",
    "ndjson",
    "tex",
    "rst",
    "log",
    "diff",
    "patch",
    "ipynb",
    "srt",
    "vtt",
    "tsv",
)

#: File-name extension (lower case, no dot) -> file type.
EXTENSION_TYPES: dict[str, FileType] = {
    **dict.fromkeys(_CODE_EXTENSIONS, TEXT),
    "txt": FileType(text=True, document_format="txt"),
    "text": FileType(text=True, document_format="txt"),
    "md": FileType(text=True, document_format="md"),
    "markdown": FileType(text=True, document_format="md"),
    "csv": FileType(text=True, document_format="csv"),
    "html": FileType(text=True, document_format="html"),
    "htm": FileType(text=True, document_format="html"),
    "pdf": FileType(document_format="pdf"),
    "doc": FileType(document_format="doc"),
    "docx": FileType(document_format="docx"),
    "xls": FileType(document_format="xls"),
    "xlsx": FileType(document_format="xlsx"),
    "png": _IMAGE_TYPES["png"],
    "jpg": _IMAGE_TYPES["jpeg"],
    "jpeg": _IMAGE_TYPES["jpeg"],
    "gif": _IMAGE_TYPES["gif"],
    "webp": _IMAGE_TYPES["webp"],
    **dict.fromkeys(
        ("bmp", "tif", "tiff", "heic", "heif", "avif", "ico", "svg"), _IMAGE_TYPES["unsupported"]
    ),
}

#: Content type (lower case, without parameters) -> file type.
CONTENT_TYPES: dict[str, FileType] = {
    "text/plain": EXTENSION_TYPES["txt"],
    "text/markdown": EXTENSION_TYPES["md"],
    "text/x-markdown": EXTENSION_TYPES["md"],
    "text/csv": EXTENSION_TYPES["csv"],
    "text/html": EXTENSION_TYPES["html"],
    "application/json": TEXT,
    "application/xml": TEXT,
    "application/x-yaml": TEXT,
    "application/yaml": TEXT,
    "application/x-sh": TEXT,
    "application/sql": TEXT,
    "application/javascript": TEXT,
    "application/x-python-code": TEXT,
    "application/pdf": EXTENSION_TYPES["pdf"],
    "application/msword": EXTENSION_TYPES["doc"],
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": (
        EXTENSION_TYPES["docx"]
    ),
    "application/vnd.ms-excel": EXTENSION_TYPES["xls"],
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": EXTENSION_TYPES["xlsx"],
    "image/png": _IMAGE_TYPES["png"],
    "image/jpeg": _IMAGE_TYPES["jpeg"],
    "image/jpg": _IMAGE_TYPES["jpeg"],
    "image/pjpeg": _IMAGE_TYPES["jpeg"],
    "image/gif": _IMAGE_TYPES["gif"],
    "image/webp": _IMAGE_TYPES["webp"],
}

#: Content-type families that are text whatever the subtype (text/x-python, text/x-rust, ...).
TEXT_CONTENT_TYPE_PREFIXES = ("text/",)
IMAGE_CONTENT_TYPE_PREFIX = "image/"

#: Leading bytes of each image format Converse takes (WEBP also needs "WEBP" at offset 8).
IMAGE_SIGNATURES: tuple[tuple[bytes, ImageFormat], ...] = (
    (b"\x89PNG\r\n\x1a\n", "png"),
    (b"\xff\xd8\xff", "jpeg"),
    (b"GIF87a", "gif"),
    (b"GIF89a", "gif"),
    (b"RIFF", "webp"),
)

_ZIP = (b"PK\x03\x04",)
_OLE = (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",)
#: Leading bytes of the binary document formats; text formats have no signature to check.
DOCUMENT_SIGNATURES: dict[DocumentFormat, tuple[bytes, ...]] = {
    "pdf": (b"%PDF-",),
    "docx": _ZIP,
    "xlsx": _ZIP,
    "doc": _OLE,
    "xls": _OLE,
}


def media_type(content_type: str) -> str:
    """``'Text/Plain; charset=utf-8'`` -> ``'text/plain'``."""
    return content_type.split(";", 1)[0].strip().lower()


def extension(name: str) -> str:
    """Lower-case extension without the dot; the whole name for ``Makefile``-style names."""
    base = name.rsplit("/", 1)[-1].strip().lower()
    return base.rsplit(".", 1)[-1] if "." in base else base


def classify(name: str, content_type: str) -> FileType:
    """The file type from the declared content type, falling back to the file name.

    A specific known content type wins; a generic one (``application/octet-stream``, an unknown
    ``text/x-...``) defers to a known extension, and any ``text/*`` type is at least text.
    """
    declared = media_type(content_type)
    known = CONTENT_TYPES.get(declared)
    if known is not None:
        return known
    by_name = EXTENSION_TYPES.get(extension(name))
    if by_name is not None:
        return by_name
    if declared.startswith(TEXT_CONTENT_TYPE_PREFIXES):
        return TEXT
    if declared.startswith(IMAGE_CONTENT_TYPE_PREFIX):
        return _IMAGE_TYPES["unsupported"]
    return UNKNOWN


def sniff_image_format(data: bytes) -> ImageFormat | None:
    """The image format the bytes really are (png, jpeg, gif, webp), or None."""
    for signature, image_format in IMAGE_SIGNATURES:
        if data.startswith(signature):
            if image_format == "webp" and data[8:12] != b"WEBP":
                continue
            return image_format
    return None


def has_document_signature(document_format: DocumentFormat, data: bytes) -> bool:
    """True when the bytes start like the format says (always true for text formats)."""
    signatures = DOCUMENT_SIGNATURES.get(document_format)
    return signatures is None or data.startswith(signatures)
