"""SseResponse: every chunk arrives, in order, however sends and the stream interleave."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from fmgate.fronts.sse_response import SseResponse


async def chunks(count: int, pause_every: int) -> AsyncIterator[bytes]:
    for n in range(count):
        if n % pause_every == 0:
            await asyncio.sleep(0)
        yield f"event: text\r\ndata: {n}\r\n\r\n".encode()


@pytest.mark.parametrize(("pause_every", "send_delay"), [(1, 0.0), (3, 0.001), (50, 0.0)])
async def test_all_chunks_arrive_in_order(pause_every: int, send_delay: float) -> None:
    sent: list[dict[str, object]] = []
    finished = asyncio.Event()

    async def send(message: dict[str, object]) -> None:
        sent.append(message)
        await asyncio.sleep(send_delay)  # slow client: the stream runs ahead meanwhile

    async def receive() -> dict[str, object]:
        await finished.wait()
        return {"type": "http.disconnect"}

    response = SseResponse(chunks(200, pause_every), headers={})
    await response({"type": "http"}, receive, send)  # type: ignore[arg-type]
    finished.set()
    assert sent[0]["type"] == "http.response.start"
    bodies = [m for m in sent[1:] if m["type"] == "http.response.body"]
    assert bodies[-1]["more_body"] is False  # the last chunks leave with the end of the body
    assert all(m["more_body"] for m in bodies[:-1])
    received = b"".join(m["body"] for m in bodies)  # type: ignore[misc]
    expected = b"".join([f"event: text\r\ndata: {n}\r\n\r\n".encode() for n in range(200)])
    assert received == expected


async def test_client_disconnect_cancels_the_stream() -> None:
    cancelled = asyncio.Event()

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x"
                await asyncio.sleep(0.001)
        finally:
            cancelled.set()

    async def send(message: dict[str, object]) -> None:
        return None

    calls = 0

    async def receive() -> dict[str, object]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.02)
        return {"type": "http.disconnect"}

    await asyncio.wait_for(SseResponse(endless(), headers={})({"type": "http"}, receive, send), 5)  # type: ignore[arg-type]
    assert cancelled.is_set()
