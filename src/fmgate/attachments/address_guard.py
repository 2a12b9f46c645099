"""Connect-time address checks: an httpx transport that dials only addresses the policy allows.

The host name is resolved here, every resolved address is checked with
:func:`fmgate.attachments.url_policy.check_addresses`, and the connection goes to a checked
address. So the address that is checked is the address that is dialled: a DNS answer that
changes between a check and the connection (DNS rebinding) cannot slip through. TLS still
verifies the certificate against the host *name* (httpcore sends the name as SNI).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

import httpcore
import httpx

from fmgate.attachments.url_policy import HostPolicy, IPAddress, URLRefused, check_addresses

SocketOption = (
    tuple[int, int, int] | tuple[int, int, bytes | bytearray] | tuple[int, int, None, int]
)


class AddressCheckingBackend(httpcore.AsyncNetworkBackend):
    """An httpcore network backend that refuses non-public addresses (see module docstring)."""

    def __init__(self, policy: HostPolicy, inner: httpcore.AsyncNetworkBackend) -> None:
        self._policy = policy
        self._inner = inner

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's backend interface)
        local_address: str | None = None,
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        if self._policy.trusts_address_of(host, port):
            targets = [host]
        else:
            try:
                async with asyncio.timeout(timeout):
                    addresses = await resolve(host, port)
            except TimeoutError as exc:
                raise httpcore.ConnectTimeout("resolving the host timed out") from exc
            check_addresses(addresses)
            targets = [str(a) for a in addresses]
        last_error: httpcore.ConnectError | httpcore.ConnectTimeout | None = None
        for target in targets:
            try:
                return await self._inner.connect_tcp(
                    target,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        assert last_error is not None
        raise last_error

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's backend interface)
        socket_options: Iterable[SocketOption] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise URLRefused("local sockets are never used for attachments")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to, in resolver order, without duplicates."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise httpcore.ConnectError(f"could not resolve {host}") from exc
    addresses: dict[IPAddress, None] = {}
    for _family, _type, _proto, _canonname, sockaddr in infos:
        # Drop an IPv6 scope id ("fe80::1%eth0"): the address itself decides.
        addresses[ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])] = None
    return list(addresses)


class AddressCheckingTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport (so httpx maps httpcore errors as usual) on the checking backend."""

    def __init__(self, policy: HostPolicy, *, limits: httpx.Limits) -> None:
        super().__init__(limits=limits, trust_env=False)
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=AddressCheckingBackend(policy, httpcore.AnyIOBackend()),
        )
