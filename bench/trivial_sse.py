"""A trivial SSE server to measure the load generator alone: ``python -m bench.trivial_sse``.

It answers every ``POST`` with the same pre-encoded Poe-shaped stream (``meta``, N ``text``
events, ``done``) over keep-alive HTTP/1.1, with no framework and no per-request work beyond
reading the request. Whatever throughput the load generator reaches against it is the load
generator's own ceiling.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from typing import cast

import uvloop


def sse_body(tokens: int) -> bytes:
    text = b"".join(b'event: text\r\ndata: {"text": "tok "}\r\n\r\n' for _ in range(tokens))
    return (
        b'event: meta\r\ndata: {"content_type": "text/markdown"}\r\n\r\n'
        + text
        + (b"event: done\r\ndata: {}\r\n\r\n")
    )


def http_response(body: bytes) -> bytes:
    head = (
        "HTTP/1.1 200 OK\r\n"
        "Content-Type: text/event-stream\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: keep-alive\r\n\r\n"
    )
    return head.encode() + body


class TrivialSse(asyncio.Protocol):
    """Reads requests (head + Content-Length body) and answers each with the fixed stream."""

    def __init__(self, response: bytes) -> None:
        self._response = response
        self._buffer = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)  # uvloop's is not a subclass

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        while True:
            end = self._buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            length = content_length(self._buffer[:end])
            if len(self._buffer) < end + 4 + length:
                return
            self._buffer = self._buffer[end + 4 + length :]
            if self._transport is not None:
                self._transport.write(self._response)


def content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


async def serve(host: str, port: int, tokens: int) -> None:
    response = http_response(sse_body(tokens))
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: TrivialSse(response), host, port, backlog=4096)
    async with server:
        await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--tokens", type=int, default=32)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        uvloop.run(serve(args.host, args.port, args.tokens))


if __name__ == "__main__":
    main()
