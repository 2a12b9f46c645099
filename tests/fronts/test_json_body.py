"""The request-body reader every front uses (size cap, time limit) and its JSON decoding."""

from __future__ import annotations

import asyncio

import pytest
from starlette.requests import Request

from fmgate.fronts.request_body import (
    BadJson,
    BodyTooLarge,
    BodyTooSlow,
    decode_json_object,
    read_body,
)


def request(parts: list[bytes], *, stall: bool = False, length: int | None = None) -> Request:
    headers = [] if length is None else [(b"content-length", str(length).encode())]
    queue = list(parts)

    async def receive() -> dict[str, object]:
        if not queue:
            if stall:
                await asyncio.sleep(3600)  # a slowloris client: the rest never comes
            return {"type": "http.request", "body": b"", "more_body": False}
        return {"type": "http.request", "body": queue.pop(0), "more_body": bool(queue) or stall}

    return Request({"type": "http", "method": "POST", "headers": headers}, receive)


async def test_reads_the_whole_body() -> None:
    assert await read_body(request([b"ab", b"cd"]), 10, 1.0) == b"abcd"


async def test_declared_or_actual_size_over_the_cap_is_refused() -> None:
    with pytest.raises(BodyTooLarge):
        await read_body(request([b"x"], length=11), 10, 1.0)
    with pytest.raises(BodyTooLarge):
        await read_body(request([b"x" * 6, b"x" * 6]), 10, 1.0)


async def test_a_body_that_stops_arriving_is_refused_in_time() -> None:
    with pytest.raises(BodyTooSlow):
        await read_body(request([b'{"a":'], stall=True), 1000, 0.05)


@pytest.mark.parametrize("body", [b"[1]", b"nope", b'"text"'])
def test_only_json_objects(body: bytes) -> None:
    with pytest.raises(BadJson):
        decode_json_object(body)
    assert decode_json_object(b'{"a": 1}') == {"a": 1}
