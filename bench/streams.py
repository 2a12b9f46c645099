"""The load generator's stream clients: one per path, each timing first and last token.

- :class:`DirectStream`: aiobotocore ConverseStream straight to the emulator (the floor);
- :class:`PoeStream`: a Poe ``query`` through fmgate, answered as Poe SSE;
- :class:`OpenAIStream`: an OpenAI-compatible streaming chat completion (fmgate's
  ``/v1/chat/completions`` and every peer: LiteLLM, Portkey, TensorZero), the same client for all.

All of them share one pooled connection set per client and parse as little as possible: a stream
is timed at its first text token and at its end (``done`` / ``[DONE]`` / end of the event stream).
A stream that fails or ends without a token counts as failed, with the reason kept.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any, Protocol

import aiohttp
import orjson
from aiobotocore.config import AioConfig
from aiobotocore.session import AioSession

from bench.sse import SseParser

#: What every path is asked: the same short user turn and the same output cap.
#: Long enough that the emulator's echo reply is cut at ``max_tokens`` (so every path streams the
#: same number of tokens).
PROMPT = (
    "Benchmark turn: a gateway should add almost nothing to the time a model takes, so this "
    "request measures how much time and memory each path adds while streaming the same reply "
    "token by token from the same local Bedrock emulator over loopback."
)
READ_CHUNK = 64 * 1024

OnOpen = Callable[[], None]


@dataclass(frozen=True, slots=True)
class StreamTiming:
    """One stream, in ``time.perf_counter()`` seconds; ``first_token``/``finished`` 0 if never."""

    started: float
    first_token: float
    finished: float
    ok: bool
    error: str | None = None

    @property
    def ttft(self) -> float:
        return self.first_token - self.started

    @property
    def total(self) -> float:
        return self.finished - self.started


class StreamClient(Protocol):
    """A path under test: runs one stream at a time per call, any number concurrently."""

    name: str

    async def stream_once(self, on_open: OnOpen | None = None) -> StreamTiming: ...

    async def aclose(self) -> None: ...


def failed(started: float, first_token: float, reason: str) -> StreamTiming:
    return StreamTiming(started, first_token, time.perf_counter(), ok=False, error=reason)


def new_http_session(max_connections: int) -> aiohttp.ClientSession:
    """A pooled keep-alive session for loopback load: no limit below ``max_connections``."""
    connector = aiohttp.TCPConnector(limit=max_connections, limit_per_host=0, ttl_dns_cache=None)
    timeout = aiohttp.ClientTimeout(total=300.0, sock_connect=30.0)
    return aiohttp.ClientSession(connector=connector, timeout=timeout, auto_decompress=False)


class PoeStream:
    """POST /bot/<name> with a Poe ``query``; first ``text`` event = first token, ``done`` = end."""

    def __init__(self, base_url: str, bot_name: str, access_key: str, max_connections: int) -> None:
        self.name = "fmgate"
        self._url = f"{base_url}/bot/{bot_name}"
        self._headers = {
            "Authorization": f"Bearer {access_key}",
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        }
        self._body = orjson.dumps(
            {
                "version": "1.2",
                "type": "query",
                "query": [{"role": "user", "content": PROMPT, "content_type": "text/markdown"}],
                "user_id": "bench-user",
                "conversation_id": "bench-conversation",
                "message_id": "bench-message",
            }
        )
        self._session = new_http_session(max_connections)

    async def stream_once(self, on_open: OnOpen | None = None) -> StreamTiming:
        started = time.perf_counter()
        first_token = 0.0
        parser = SseParser()
        try:
            async with self._session.post(self._url, data=self._body, headers=self._headers) as r:
                if r.status != 200:
                    return failed(started, first_token, f"HTTP {r.status}")
                if on_open is not None:
                    on_open()
                async for chunk in r.content.iter_any():
                    for event, _data in parser.feed(chunk):
                        if event == b"text" and not first_token:
                            first_token = time.perf_counter()
                        elif event == b"error":
                            return failed(started, first_token, "error event")
                        elif event == b"done":
                            if not first_token:
                                return failed(started, first_token, "done without text")
                            return StreamTiming(started, first_token, time.perf_counter(), True)
        except (aiohttp.ClientError, TimeoutError) as exc:
            return failed(started, first_token, type(exc).__name__)
        return failed(started, first_token, "stream ended without done")

    async def aclose(self) -> None:
        await self._session.close()


class OpenAIStream:
    """POST a chat completion with ``stream: true`` to ``url``; first non-empty delta = first
    token, ``[DONE]`` = end. ``headers`` are the path's own (its key, a peer's provider)."""

    def __init__(
        self,
        name: str,
        url: str,
        headers: dict[str, str],
        model: str,
        max_tokens: int,
        max_connections: int,
    ) -> None:
        self.name = name
        self._url = url
        self._headers = {
            **headers,
            "Content-Type": "application/json",
            "Accept": "text/event-stream",
        }
        self._body = orjson.dumps(
            {
                "model": model,
                "stream": True,
                "max_tokens": max_tokens,
                "messages": [{"role": "user", "content": PROMPT}],
            }
        )
        self._session = new_http_session(max_connections)

    async def stream_once(self, on_open: OnOpen | None = None) -> StreamTiming:
        started = time.perf_counter()
        first_token = 0.0
        parser = SseParser()
        try:
            async with self._session.post(self._url, data=self._body, headers=self._headers) as r:
                if r.status != 200:
                    return failed(started, first_token, f"HTTP {r.status}")
                if on_open is not None:
                    on_open()
                async for chunk in r.content.iter_any():
                    for event, data in parser.feed(chunk):
                        if event == b"error":
                            return failed(started, first_token, "error event")
                        if data == b"[DONE]":
                            if not first_token:
                                return failed(started, first_token, "[DONE] without content")
                            return StreamTiming(started, first_token, time.perf_counter(), True)
                        if not first_token and has_content(data):
                            first_token = time.perf_counter()
        except (aiohttp.ClientError, TimeoutError) as exc:
            return failed(started, first_token, type(exc).__name__)
        return failed(started, first_token, "stream ended without [DONE]")

    async def aclose(self) -> None:
        await self._session.close()


def has_content(data: bytes) -> bool:
    """Whether an OpenAI chunk carries text in ``choices[0].delta.content`` (or is an error)."""
    chunk: Any = orjson.loads(data)
    choices = chunk.get("choices") or [{}]
    return bool((choices[0].get("delta") or {}).get("content"))


class DirectStream:
    """aiobotocore ``converse_stream`` to the emulator; first text delta = first token."""

    def __init__(
        self,
        endpoint_url: str,
        model_id: str,
        max_tokens: int,
        access_key_id: str,
        secret_access_key: str,
        max_connections: int,
        region: str = "us-east-1",
    ) -> None:
        self.name = "direct"
        self._endpoint_url = endpoint_url
        self._region = region
        self._credentials = (access_key_id, secret_access_key)
        self._max_connections = max_connections
        self._request: dict[str, Any] = {
            "modelId": model_id,
            "messages": [{"role": "user", "content": [{"text": PROMPT}]}],
            "inferenceConfig": {"maxTokens": max_tokens},
        }
        self._stack = AsyncExitStack()
        self._client: Any = None

    async def open(self) -> DirectStream:
        config = AioConfig(
            max_pool_connections=self._max_connections,
            retries={"max_attempts": 1, "mode": "standard"},
            connect_timeout=30,
            read_timeout=300,
        )
        self._client = await self._stack.enter_async_context(
            AioSession().create_client(
                "bedrock-runtime",
                region_name=self._region,
                endpoint_url=self._endpoint_url,
                aws_access_key_id=self._credentials[0],
                aws_secret_access_key=self._credentials[1],
                config=config,
            )
        )
        return self

    async def stream_once(self, on_open: OnOpen | None = None) -> StreamTiming:
        started = time.perf_counter()
        first_token = 0.0
        try:
            response = await self._client.converse_stream(**self._request)
            if on_open is not None:
                on_open()
            async for event in response["stream"]:
                if not first_token and "contentBlockDelta" in event:
                    first_token = time.perf_counter()
        except Exception as exc:  # any SDK failure is a failed stream, counted and named
            return failed(started, first_token, type(exc).__name__)
        if not first_token:
            return failed(started, first_token, "no text delta")
        return StreamTiming(started, first_token, time.perf_counter(), True)

    async def aclose(self) -> None:
        await self._stack.aclose()
