"""Reading a request body within a size cap and a time limit (shared by every front)."""

from __future__ import annotations

import asyncio

import orjson
from starlette.requests import Request


class BodyTooLarge(Exception):
    """The body is larger than the gateway accepts (answered with 413)."""


class BodyTooSlow(Exception):
    """The body did not arrive within the time limit (answered with 408; slowloris)."""


class BadJson(Exception):
    """The body is not a JSON object (answered with 400)."""


async def read_body(request: Request, limit: int, time_limit: float) -> bytes:
    """The whole body, refusing (before reading, when declared) anything over ``limit`` bytes
    and giving up after ``time_limit`` seconds."""
    try:
        async with asyncio.timeout(time_limit):
            return await _read_capped(request, limit)
    except TimeoutError:
        raise BodyTooSlow from None


async def _read_capped(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def decode_json_object(body: bytes) -> dict[str, object]:
    """``body`` decoded as a JSON object."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadJson("The request body is not valid JSON.") from exc
    if not isinstance(data, dict):
        raise BadJson("The request body must be a JSON object.")
    return data
