"""A real loopback file server (aiohttp) standing in for Poe's attachment CDN, and its files.

Fixture: ``file_server`` (one per test, on a free port of 127.0.0.1; stopped afterwards).
"""

from __future__ import annotations

import asyncio
import gzip
import io
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from PIL import Image

CHUNK = 64 * 1024
HUGE_BYTES = 64 * 1024 * 1024  # what the "huge" endpoints would send if nobody stopped them

NOTES_TXT = "Shopping list:\n- apples\n- pears (ripe)\n"
README_MD = "# Project\n\nSome *markdown* text. Ünïcödé ✓\n"
DATA_CSV = "city,population\nParis,2100000\nLyon,520000\n"
PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
DOCX_BYTES = b"PK\x03\x04" + b"\x00" * 60


#: A text document to cite: three sentences (char offsets 0-20, 20-37, 37-).
FACTS_TXT = "The grass is green. The sky is blue.\nOtters hold hands while they sleep.\n"


def pdf_literal(text: str) -> str:
    """``text`` as a PDF literal string (parentheses and backslashes escaped)."""
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return f"({escaped})"


def text_pdf(*pages: str) -> bytes:
    """A real, minimal PDF: one page per argument, each line of it shown in Helvetica
    (uncompressed content streams, a cross-reference table)."""
    count = len(pages)
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(count))
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {count} >>",
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, page in enumerate(pages):
        shown = " ".join(f"{pdf_literal(line)} Tj 0 -16 Td" for line in page.split("\n"))
        content = f"BT /F1 12 Tf 72 720 Td {shown} ET"
        objects.append(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            f"/Resources << /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>"
        )
        objects.append(f"<< /Length {len(content)} >>\nstream\n{content}\nendstream")
    out = b"%PDF-1.4\n"
    offsets: list[int] = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n{body}\nendobj\n".encode("latin-1")
    xref = len(out)
    entries = "".join(f"{offset:010d} 00000 n \n" for offset in offsets)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n{entries}".encode()
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    return out + trailer.encode()


#: A two-page PDF to cite (page 2 holds the otters).
FACTS_PDF = text_pdf("The grass is green.\nThe sky is blue.", "Otters hold hands while they sleep.")


def image_bytes(image_format: str, size: tuple[int, int] = (64, 48)) -> bytes:
    """A real image made by Pillow."""
    image = Image.new("RGB", size, (200, 30, 30))
    buffer = io.BytesIO()
    if image_format == "GIF":
        image = image.convert("P")
    image.save(buffer, format=image_format)
    return buffer.getvalue()


PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG")
GIF = image_bytes("GIF")
WEBP = image_bytes("WEBP")
WIDE_PNG = image_bytes("PNG", (8100, 2))  # over Bedrock's 8000-pixel side
BMP = image_bytes("BMP")

STATIC_FILES: dict[str, tuple[bytes, str]] = {
    "notes.txt": (NOTES_TXT.encode(), "text/plain"),
    "readme.md": (README_MD.encode(), "text/markdown"),
    "data.csv": (DATA_CSV.encode(), "text/csv"),
    "photo.png": (PNG, "image/png"),
    "photo.jpg": (JPEG, "image/jpeg"),
    "anim.gif": (GIF, "image/gif"),
    "pic.webp": (WEBP, "image/webp"),
    "wide.png": (WIDE_PNG, "image/png"),
    "old.bmp": (BMP, "image/bmp"),
    "fake.png": (b"I am only text pretending to be a PNG.\n", "image/png"),
    "report.pdf": (PDF_BYTES, "application/pdf"),
    "facts.txt": (FACTS_TXT.encode(), "text/plain"),
    "facts.pdf": (FACTS_PDF, "application/pdf"),
    "fake.pdf": (b"not a pdf at all", "application/pdf"),
    "letter.docx": (
        DOCX_BYTES,
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
}


@dataclass
class FileServer:
    """The running server: its address, and what it sent."""

    host: str
    port: int
    #: Body bytes each streaming endpoint wrote before it stopped (by endpoint name).
    sent: dict[str, int] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)
    stop: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self, path: str) -> str:
        return f"http://{self.host_port}/{path.lstrip('/')}"


def _app(server: FileServer) -> web.Application:
    async def static(request: web.Request) -> web.Response:
        server.requests.append(request.path_qs)
        body, content_type = STATIC_FILES[request.match_info["name"]]
        return web.Response(body=body, content_type=content_type)

    async def huge(request: web.Request, *, declare_length: bool, name: str) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        if declare_length:
            response.content_length = HUGE_BYTES
        else:
            response.enable_chunked_encoding()
        await response.prepare(request)
        server.sent[name] = 0
        chunk = b"x" * CHUNK
        try:
            while server.sent[name] < HUGE_BYTES and not server.stop.is_set():
                await response.write(chunk)
                server.sent[name] += len(chunk)
        except ConnectionError:
            return response
        return response

    async def huge_chunked(request: web.Request) -> web.StreamResponse:
        return await huge(request, declare_length=False, name="huge")

    async def huge_declared(request: web.Request) -> web.StreamResponse:
        return await huge(request, declare_length=True, name="declared")

    async def slow(request: web.Request) -> web.StreamResponse:
        """Headers, then nothing: the read timeout must fire."""
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        await server.stop.wait()
        return response

    async def drip(request: web.Request) -> web.StreamResponse:
        """A byte now and then, forever: no read timeout fires, the total time limit must."""
        response = web.StreamResponse(headers={"Content-Type": "text/plain"})
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            while not server.stop.is_set():
                await response.write(b".")
                await asyncio.sleep(0.05)
        except ConnectionError:
            return response
        return response

    async def redirect(request: web.Request) -> web.Response:
        target = request.query["to"]
        raise web.HTTPFound(location=target)

    async def loop(request: web.Request) -> web.Response:
        raise web.HTTPFound(location="/loop")

    async def gzipped(request: web.Request) -> web.Response:
        return web.Response(
            body=gzip.compress(b"a" * 100_000),
            headers={"Content-Type": "text/plain", "Content-Encoding": "gzip"},
        )

    async def signed(request: web.Request) -> web.Response:
        return web.Response(status=403, text="expired")

    app = web.Application()
    app.router.add_get("/files/{name}", static)
    app.router.add_get("/huge", huge_chunked)
    app.router.add_get("/declared-huge", huge_declared)
    app.router.add_get("/slow", slow)
    app.router.add_get("/drip", drip)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/loop", loop)
    app.router.add_get("/gzip", gzipped)
    app.router.add_get("/signed/{name}", signed)
    return app


@pytest.fixture
async def file_server() -> AsyncIterator[FileServer]:
    """A file server on 127.0.0.1 (free port) for one test; stopped afterwards."""
    server = FileServer(host="127.0.0.1", port=0)
    runner = web.AppRunner(_app(server), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    sockets = runner.addresses
    server.port = int(sockets[0][1])
    try:
        yield server
    finally:
        server.stop.set()
        await runner.cleanup()
