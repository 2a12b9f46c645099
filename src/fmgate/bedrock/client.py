"""Pooled aiobotocore clients: one Bedrock Runtime client (and one S3 client) per region.

Clients are created on first use — by an ``await``, under a lock, so concurrent first requests
share one client — kept open for the life of the gateway (their connection pools are the point),
and closed together by :meth:`BedrockClients.aclose` in the app's lifespan.

botocore's own retries are off (``total_max_attempts=1``): :mod:`fmgate.resilience.retry`
retries with knowledge botocore lacks (whether output already reached the user).

aiobotocore ships no type information; the Protocols below describe the few operations the
gateway calls, so the rest of ``fmgate.bedrock`` stays typed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack
from typing import Protocol, TypedDict

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session

#: A JSON object as botocore returns it.
Response = Mapping[str, object]


class EventStreamBody(Protocol):
    """A ConverseStream ``stream``: parsed events, one ``{member: payload}`` dict each."""

    def __aiter__(self) -> AsyncIterator[Mapping[str, object]]: ...

    def close(self) -> None: ...


class ConverseStreamResponse(TypedDict):
    stream: EventStreamBody


class StreamingBody(Protocol):
    """A response body read as a whole (aiobotocore ``StreamingBody``)."""

    async def read(self, amt: int | None = None) -> bytes: ...

    def close(self) -> None: ...


class InvokeModelResponse(TypedDict):
    body: StreamingBody


class BedrockRuntimeClient(Protocol):
    """The Bedrock Runtime operations the gateway uses (an aiobotocore client)."""

    async def converse(self, **kwargs: object) -> Response: ...

    async def converse_stream(self, **kwargs: object) -> ConverseStreamResponse: ...

    async def invoke_model(self, **kwargs: object) -> InvokeModelResponse: ...

    async def start_async_invoke(self, **kwargs: object) -> Response: ...

    async def get_async_invoke(self, **kwargs: object) -> Response: ...

    async def count_tokens(self, **kwargs: object) -> Response: ...

    async def apply_guardrail(self, **kwargs: object) -> Response: ...


class GetObjectResponse(TypedDict):
    Body: StreamingBody


class S3Client(Protocol):
    """The S3 operations the gateway uses (reading video results)."""

    async def get_object(self, **kwargs: object) -> GetObjectResponse: ...


class BedrockClients:
    """Long-lived aiobotocore clients for Bedrock Runtime and S3, one of each per region.

    ``endpoint_url`` None means AWS's own endpoints; explicit credentials (all None: botocore's
    default chain — env, profile, SSO, instance role). S3 has its own endpoint and credentials
    because the bucket holding video results need not sit behind the Bedrock endpoint (an
    emulator, a VPC endpoint); they default to the Bedrock ones.
    """

    def __init__(
        self,
        *,
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        connect_timeout: float = 30.0,
        read_timeout: float = 300.0,
        max_pool_connections: int = 4096,
        s3_endpoint_url: str | None = None,
        s3_access_key_id: str | None = None,
        s3_secret_access_key: str | None = None,
    ) -> None:
        self._endpoint_url = endpoint_url
        self._credentials = _credential_args(access_key_id, secret_access_key, session_token)
        self._s3_endpoint_url = s3_endpoint_url
        self._s3_credentials = (
            _credential_args(s3_access_key_id, s3_secret_access_key, None)
            if s3_access_key_id is not None
            else self._credentials
        )
        self._config = AioConfig(
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            max_pool_connections=max_pool_connections,
            tcp_keepalive=True,
            # One attempt in all. (botocore's ``max_attempts`` counts *retries*: 1 would mean
            # two calls; ``total_max_attempts`` counts calls.)
            retries={"total_max_attempts": 1, "mode": "standard"},
        )
        self._session = get_session()
        self._stack = AsyncExitStack()
        self._lock = asyncio.Lock()
        self._runtime: dict[str, BedrockRuntimeClient] = {}
        self._s3: dict[str, S3Client] = {}
        self._closed = False

    async def get(self, region: str) -> BedrockRuntimeClient:
        """The Bedrock Runtime client for ``region`` (created on first use)."""
        existing = self._runtime.get(region)
        if existing is not None:
            return existing
        async with self._lock:
            if region not in self._runtime:
                self._check_open()
                args = self._client_args(region, self._endpoint_url, self._credentials)
                self._runtime[region] = await self._stack.enter_async_context(
                    self._session.create_client("bedrock-runtime", **args)
                )
            return self._runtime[region]

    async def s3(self, region: str) -> S3Client:
        """The S3 client for ``region`` (created on first use), for video results."""
        existing = self._s3.get(region)
        if existing is not None:
            return existing
        async with self._lock:
            if region not in self._s3:
                self._check_open()
                args = self._client_args(region, self._s3_endpoint_url, self._s3_credentials)
                self._s3[region] = await self._stack.enter_async_context(
                    self._session.create_client("s3", **args)
                )
            return self._s3[region]

    async def aclose(self) -> None:
        """Close every client (and its connection pool). Later ``get`` calls fail."""
        async with self._lock:
            self._closed = True
            self._runtime.clear()
            self._s3.clear()
            await self._stack.aclose()

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("BedrockClients is closed")

    def _client_args(
        self, region: str, endpoint_url: str | None, credentials: Mapping[str, str]
    ) -> dict[str, object]:
        """``create_client`` keywords (aiobotocore's clients are untyped; the attribute a
        client is stored in gives it its Protocol type)."""
        return {
            "region_name": region,
            "endpoint_url": endpoint_url,
            "config": self._config,
            **credentials,
        }


def _credential_args(
    access_key_id: str | None, secret_access_key: str | None, session_token: str | None
) -> dict[str, str]:
    """Explicit credentials as ``create_client`` keywords (none: the default chain)."""
    if access_key_id is None or secret_access_key is None:
        return {}
    args = {"aws_access_key_id": access_key_id, "aws_secret_access_key": secret_access_key}
    if session_token is not None:
        args["aws_session_token"] = session_token
    return args
