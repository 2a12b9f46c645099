"""The text of a Converse document block, in the passages a model can cite.

Claude cites documents by their smallest citable units (Anthropic's "Citations" page): a plain
text document is chunked into sentences and cited by character offsets (0-based, end
exclusive), a PDF's extracted text into sentences cited by page (1-based, end exclusive), a
document given as content blocks by block (0-based, end exclusive). The emulator reads:

* ``txt``, ``md``, ``csv``, ``html`` documents (``source.bytes``, UTF-8, or ``source.text``):
  sentences, by character;
* PDFs whose page contents it can read (uncompressed or FlateDecode content streams, text shown
  with literal strings): sentences of each page, by page; a PDF it cannot read (a scan, other
  encodings) has nothing to cite, as a scanned PDF has nothing for Claude to cite;
* ``source.content`` blocks: each text block one chunk;
* nothing in other formats (doc, docx, xls, xlsx): what Bedrock cites in those is not
  confirmed.
"""

from __future__ import annotations

import base64
import binascii
import re
import zlib
from dataclasses import dataclass
from typing import Any, Literal

Unit = Literal["char", "page", "chunk"]
#: Bedrock's location member for each unit.
LOCATION_MEMBERS: dict[Unit, str] = {
    "char": "documentChar",
    "page": "documentPage",
    "chunk": "documentChunk",
}
TEXT_FORMATS = frozenset({"txt", "md", "csv", "html"})

_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)\s*|\n\s*")
_OBJECT = re.compile(rb"(\d+)\s+\d+\s+obj\b(.*?)\bendobj", re.DOTALL)
_PAGE = re.compile(rb"/Type\s*/Page(?![A-Za-z])")
_CATALOG = re.compile(rb"/Type\s*/Catalog\b")
_PAGES = re.compile(rb"/Pages\s+(\d+)\s+\d+\s+R")
_KIDS = re.compile(rb"/Kids\s*\[([^\]]*)\]")
_CONTENTS = re.compile(rb"/Contents\s*(\[[^\]]*\]|\d+\s+\d+\s+R)")
_REFERENCE = re.compile(rb"(\d+)\s+\d+\s+R")
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\n?endstream", re.DOTALL)
#: Text operators after which the shown text goes on on a new line.
_LINE_OPERATORS = frozenset({"Td", "TD", "T*", "Tm", "'", '"', "ET"})
_ESCAPES = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f"}


@dataclass(frozen=True, slots=True)
class Passage:
    """One citable unit of a document: its text as the document has it, and where it is."""

    text: str
    unit: Unit
    start: int
    end: int


def sentences(text: str) -> list[tuple[int, int]]:
    """``text``'s sentences as (start, end) offsets, each with its trailing whitespace."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        if text[start : match.end()].strip():
            spans.append((start, match.end()))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text)))
    return spans


def source_bytes(source: dict[str, Any]) -> bytes | None:
    """A document source's bytes (base64 in the request's JSON), None when it has none."""
    raw = source.get("bytes")
    if not isinstance(raw, str):
        return None
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        return None


def passages(document: dict[str, Any]) -> list[Passage]:
    """The citable passages of a Converse ``document`` block (empty: nothing to cite)."""
    source = document.get("source")
    if not isinstance(source, dict):
        return []
    if isinstance(source.get("content"), list):
        chunks = [str(block.get("text", "")) for block in source["content"] if "text" in block]
        return [Passage(text, "chunk", i, i + 1) for i, text in enumerate(chunks) if text.strip()]
    if isinstance(source.get("text"), str):
        return text_passages(source["text"])
    data = source_bytes(source)
    if data is None:
        return []
    fmt = document.get("format")
    if fmt in TEXT_FORMATS:
        return text_passages(data.decode("utf-8", errors="replace"))
    if fmt == "pdf":
        return [
            Passage(page[start:end], "page", number, number + 1)
            for number, page in enumerate(pdf_pages(data), 1)
            for start, end in sentences(page)
        ]
    return []


def text_passages(text: str) -> list[Passage]:
    return [Passage(text[start:end], "char", start, end) for start, end in sentences(text)]


def pdf_pages(data: bytes) -> list[str]:
    """The text of each page of a PDF, in page order (a page the emulator cannot read is
    empty)."""
    objects = {int(number): body for number, body in _OBJECT.findall(data)}
    pages: list[str] = []
    for page in page_objects(objects):
        contents = _CONTENTS.search(dictionary(page))
        refs = _REFERENCE.findall(contents.group(1)) if contents else []
        pages.append("".join(stream_text(objects.get(int(ref), b"")) for ref in refs))
    return pages


def dictionary(body: bytes) -> bytes:
    """An object's dictionary: what comes before its stream, if it has one."""
    return body.split(b"stream", 1)[0]


def page_objects(objects: dict[int, bytes]) -> list[bytes]:
    """The page objects in page order: the catalog's page tree, depth first (without a catalog,
    the page objects in the file's order)."""
    for body in objects.values():
        head = dictionary(body)
        root = _PAGES.search(head) if _CATALOG.search(head) else None
        if root is not None:
            found: list[bytes] = []
            walk_pages(objects, int(root.group(1)), found, set())
            return found
    return [body for body in objects.values() if _PAGE.search(dictionary(body))]


def walk_pages(objects: dict[int, bytes], number: int, found: list[bytes], seen: set[int]) -> None:
    if number in seen or number not in objects:
        return
    seen.add(number)
    head = dictionary(objects[number])
    kids = _KIDS.search(head)
    if kids is not None:
        for ref in _REFERENCE.findall(kids.group(1)):
            walk_pages(objects, int(ref), found, seen)
    elif _PAGE.search(head):
        found.append(objects[number])


def stream_text(body: bytes) -> str:
    """The text a content stream object shows ("" when it cannot be read)."""
    match = _STREAM.search(body)
    if match is None:
        return ""
    content = match.group(1)
    head = body[: match.start()]
    if b"/Filter" in head:
        if b"/FlateDecode" not in head:
            return ""
        try:
            content = zlib.decompress(content)
        except zlib.error:
            return ""
    return shown_text(content.decode("latin-1"))


def shown_text(content: str) -> str:
    """The literal strings a content stream shows, a line break where the text moves to a new
    line."""
    out: list[str] = []
    position = 0
    while position < len(content):
        char = content[position]
        if char == "(":
            text, position = literal_string(content, position + 1)
            out.append(text)
            continue
        if char.isalpha() or char in "*'\"":
            end = position
            while end < len(content) and (content[end].isalpha() or content[end] in "*'\""):
                end += 1
            if content[position:end] in _LINE_OPERATORS and out and not out[-1].endswith("\n"):
                out.append("\n")
            position = end
            continue
        position += 1
    return "".join(out)


def literal_string(content: str, position: int) -> tuple[str, int]:
    """A PDF literal string starting after its "(": its text and the position after its ")"."""
    out: list[str] = []
    depth = 1
    while position < len(content):
        char = content[position]
        if char == "\\" and position + 1 < len(content):
            escaped = content[position + 1]
            octal = re.match(r"[0-7]{1,3}", content[position + 1 : position + 4])
            if octal:
                out.append(chr(int(octal.group(), 8)))
                position += 1 + len(octal.group())
                continue
            out.append(_ESCAPES.get(escaped, escaped))
            position += 2
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return "".join(out), position + 1
        out.append(char)
        position += 1
    return "".join(out), position
