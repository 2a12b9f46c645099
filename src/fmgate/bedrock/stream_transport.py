"""ConverseStream sent by fmgate itself: one signed POST over a pooled aiohttp session.

Everything else goes through aiobotocore. The streamed chat call is the hot path, and botocore's
per-request pipeline — parameter validation, event hooks, endpoint rules, user-agent assembly,
``AWSRequest`` signing — was about a third of the gateway's CPU per request (docs/performance.md,
the profile). Here the request is what botocore would send for ``converse_stream(**body)`` under
Bedrock Runtime's rest-json protocol: ``POST /model/{modelId}/converse-stream`` (the id
percent-encoded, ``/`` and ``:`` included), every other member as the JSON body with blobs in
base64, authenticated by :mod:`fmgate.bedrock.request_auth`.

The endpoint is the one botocore resolved for the region's client (``client.meta.endpoint_url``:
a configured ``endpoint_url``, ``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``, or AWS's own), so the two
paths never disagree about where Bedrock is.

A refusal before the stream (HTTP status other than 200) becomes the gateway error botocore's
``ClientError`` would have become (:func:`fmgate.bedrock.errors.error_for_answer`, by the code in
``x-amzn-ErrorType``); transport failures are aiohttp's own exceptions, which
:func:`fmgate.bedrock.errors.bedrock_errors` maps. Bedrock's parameter validation happens at
Bedrock (a ``ValidationException``), not client-side as botocore's would.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Final
from urllib.parse import quote, urlsplit

import aiohttp
import orjson
from yarl import URL

from fmgate.bedrock.errors import error_for_answer
from fmgate.bedrock.request_auth import RequestAuth

OPERATION: Final = "ConverseStream"
#: The most of an error answer's body read for its code (Bedrock's are a few hundred bytes).
MAX_ERROR_BODY: Final = 64 * 1024
_DEFAULT_PORTS: Final = {"https": 443, "http": 80}


def encode_blob(value: object) -> str:
    """orjson's fallback: a blob (image, document, redacted reasoning) as base64, as botocore
    serializes rest-json blobs."""
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot serialize {type(value).__name__}")


def request_path(model_id: str) -> str:
    """The request's path: the model id percent-encoded as one URI label (``-._~`` kept)."""
    return f"/model/{quote(model_id, safe='-._~')}/converse-stream"


def request_body(body: Mapping[str, object]) -> bytes:
    """Every member but ``modelId`` (the path holds it), as JSON."""
    return orjson.dumps({k: v for k, v in body.items() if k != "modelId"}, default=encode_blob)


def signed_host(endpoint_url: str) -> str:
    """The ``Host`` header for ``endpoint_url``: the port only when it is not the scheme's
    default (what botocore signs, and what the server sees)."""
    parts = urlsplit(endpoint_url)
    host = parts.hostname or ""
    if ":" in host:  # an IPv6 literal
        host = f"[{host}]"
    if parts.port is not None and parts.port != _DEFAULT_PORTS.get(parts.scheme):
        host = f"{host}:{parts.port}"
    return host


def error_code(headers: Mapping[str, str], body: bytes) -> str:
    """The error code of a rest-json error answer, as botocore reads it: ``x-amzn-ErrorType``
    up to ``:``, else the body's ``__type`` or ``code`` after any ``#``."""
    header = headers.get("x-amzn-ErrorType")
    if header:
        return header.split(":", 1)[0]
    try:
        parsed = orjson.loads(body) if body else None
    except orjson.JSONDecodeError:
        return ""
    if isinstance(parsed, dict):
        code = parsed.get("__type", parsed.get("code"))
        if isinstance(code, str):
            return code.rsplit("#", 1)[-1]
    return ""


async def read_bounded(content: aiohttp.StreamReader, limit: int) -> bytes:
    """The body up to its end or ``limit`` bytes, whichever comes first."""
    chunks: list[bytes] = []
    size = 0
    while size < limit and (chunk := await content.readany()):
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)[:limit]


class ConverseStreamTransport:
    """Sends one region's ConverseStream requests (``session`` is shared by every region)."""

    __slots__ = ("_auth", "_base", "_host", "_session", "_user_agent")

    def __init__(
        self,
        session: aiohttp.ClientSession,
        endpoint_url: str,
        auth: RequestAuth,
        user_agent: str,
    ) -> None:
        self._session = session
        self._base = endpoint_url.rstrip("/")
        self._host = signed_host(endpoint_url)
        self._auth = auth
        self._user_agent = user_agent

    @property
    def endpoint_url(self) -> str:
        """Where the requests go (the region's client's endpoint)."""
        return self._base

    async def open(self, body: Mapping[str, object]) -> aiohttp.ClientResponse:
        """Send ``converse_stream(**body)``; the response, its event stream unread. Raises the
        gateway error for a refusal; closing the response is the caller's job."""
        model_id = body["modelId"]
        if not isinstance(model_id, str):
            raise TypeError("modelId must be a string")
        path = request_path(model_id)
        payload = request_body(body)
        headers = await self._auth.headers(self._host, path, payload)
        headers["user-agent"] = self._user_agent
        response = await self._session.post(
            URL(self._base + path, encoded=True), data=payload, headers=headers
        )
        if response.status != 200:
            try:
                answer = await read_bounded(response.content, MAX_ERROR_BODY)
            finally:
                response.close()
            raise error_for_answer(
                OPERATION,
                code=error_code(response.headers, answer),
                status=response.status,
                request_id=response.headers.get("x-amzn-RequestId"),
            )
        return response
