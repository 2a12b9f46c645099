"""Pooled clients: one Bedrock Runtime client (and one S3 client) per region, and the streamed
chat call's own transport.

aiobotocore clients serve every call but ConverseStream, which fmgate sends itself on one shared
aiohttp session (:mod:`fmgate.bedrock.stream_transport`: the hot path without botocore's
per-request pipeline), to the endpoint the region's aiobotocore client resolved, authenticated
as botocore would (:mod:`fmgate.bedrock.request_auth`).

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
from collections.abc import Mapping
from contextlib import AsyncExitStack
from typing import Protocol, TypedDict

import aiohttp
from aiobotocore.config import AioConfig
from aiobotocore.credentials import AioCredentials
from aiobotocore.session import get_session

from fmgate import __version__
from fmgate.bedrock.request_auth import (
    BearerAuth,
    CredentialSource,
    RequestAuth,
    SigV4Auth,
    bearer_token,
)
from fmgate.bedrock.stream_transport import ConverseStreamTransport

#: The User-Agent of the requests fmgate sends itself.
USER_AGENT = f"fmgate/{__version__}"

#: A JSON object as botocore returns it.
Response = Mapping[str, object]


class StreamingBody(Protocol):
    """A response body read as a whole (aiobotocore ``StreamingBody``)."""

    async def read(self, amt: int | None = None) -> bytes: ...

    def close(self) -> None: ...


class InvokeModelResponse(TypedDict):
    body: StreamingBody


class ClientMeta(Protocol):
    """What a botocore client says about itself (``client.meta``)."""

    @property
    def endpoint_url(self) -> str: ...


class BedrockRuntimeClient(Protocol):
    """The Bedrock Runtime operations the gateway uses (an aiobotocore client)."""

    @property
    def meta(self) -> ClientMeta: ...

    async def converse(self, **kwargs: object) -> Response: ...

    async def invoke_model(self, **kwargs: object) -> InvokeModelResponse: ...

    async def start_async_invoke(self, **kwargs: object) -> Response: ...

    async def get_async_invoke(self, **kwargs: object) -> Response: ...

    async def count_tokens(self, **kwargs: object) -> Response: ...


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
        self._streams: dict[str, ConverseStreamTransport] = {}
        self._http: aiohttp.ClientSession | None = None
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_pool_connections = max_pool_connections
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

    async def streams(self, region: str) -> ConverseStreamTransport:
        """The ConverseStream transport for ``region`` (created on first use, with the region's
        client: its endpoint is the one botocore resolved)."""
        existing = self._streams.get(region)
        if existing is not None:
            return existing
        client = await self.get(region)
        async with self._lock:
            if region not in self._streams:
                self._check_open()
                self._streams[region] = ConverseStreamTransport(
                    self._http_session(),
                    client.meta.endpoint_url,
                    await self._stream_auth(region),
                    USER_AGENT,
                )
            return self._streams[region]

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
            self._streams.clear()
            self._s3.clear()
            await self._stack.aclose()
            if self._http is not None:
                await self._http.close()
                self._http = None

    def _check_open(self) -> None:
        if self._closed:
            raise RuntimeError("BedrockClients is closed")

    def _http_session(self) -> aiohttp.ClientSession:
        """The aiohttp session every region's ConverseStream shares (its pool is the point):
        the same pool size and timeouts as the aiobotocore clients'."""
        if self._http is None:
            self._http = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_pool_connections),
                timeout=aiohttp.ClientTimeout(
                    total=None, sock_connect=self._connect_timeout, sock_read=self._read_timeout
                ),
                auto_decompress=False,
                skip_auto_headers=("Accept-Encoding",),
            )
        return self._http

    async def _stream_auth(self, region: str) -> RequestAuth:
        """How ConverseStream is authenticated, as botocore decides it: explicit credentials,
        else a Bedrock API key from the environment, else the default credential chain."""
        if self._credentials:
            explicit = AioCredentials(
                self._credentials["aws_access_key_id"],
                self._credentials["aws_secret_access_key"],
                self._credentials.get("aws_session_token"),
            )
            return SigV4Auth(explicit, region)
        token = bearer_token()
        if token is not None:
            return BearerAuth(token)
        chain: CredentialSource | None = await self._session.get_credentials()
        return SigV4Auth(chain, region)

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
