"""Which attachment URLs and network addresses the gateway may fetch (the SSRF rules).

Two checks, at two moments:

1. Before a request (and before each redirect is followed), :meth:`HostPolicy.check_url`:
   the scheme is ``http`` or ``https``, the URL carries no user-info (``user@host`` tricks),
   and the host is on the allow-list. Allow-list entries are exact host names (any port), or
   ``host:port`` / ``[v6]:port`` entries that allow that one port.
2. When a connection is opened (``fmgate.attachments.address_guard``), every address the host
   resolves to must be a public one (:func:`is_public_address`): no loopback, private,
   link-local, cloud-metadata, multicast or reserved address. Checking at connect time, on the
   address actually dialled, also defeats DNS rebinding.

The one exception to (2): an explicit ``host:port`` entry trusts that host and port whatever it
resolves to. That is how tests (and an operator's local file server) allow ``127.0.0.1:PORT``;
a bare ``127.0.0.1`` or ``localhost`` entry is *not* enough to reach a loopback address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import httpx

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = frozenset({"http", "https"})

#: Never dialled unless trusted by an explicit host:port entry (on top of ``is_global``).
BLOCKED_NETWORKS: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...] = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",  # "this network", 0.0.0.0
        "10.0.0.0/8",
        "100.64.0.0/10",  # carrier-grade NAT (also Alibaba's metadata 100.100.100.200)
        "127.0.0.0/8",
        "169.254.0.0/16",  # link-local, AWS/GCP/Azure metadata 169.254.169.254
        "172.16.0.0/12",
        "192.0.0.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "224.0.0.0/4",  # multicast
        "240.0.0.0/4",  # reserved, broadcast
        "::/128",
        "::1/128",
        "fc00::/7",  # unique local, AWS metadata fd00:ec2::254
        "fe80::/10",
        "ff00::/8",
    )
)

_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class URLRefused(Exception):
    """A URL or address the policy does not allow; ``reason`` is safe to show to a user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class HostRule:
    """One allow-list entry: a host, and the one port it allows (None: any port)."""

    host: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> HostRule:
        """``"example.com"``, ``"example.com:8443"``, ``"[::1]:8080"`` or ``"127.0.0.1:5000"``."""
        text = entry.strip().lower()
        if text.startswith("["):
            host, _, rest = text[1:].partition("]")
            port_text = rest.removeprefix(":") if rest.startswith(":") else ""
        elif text.count(":") == 1:
            host, port_text = text.split(":")
        else:
            host, port_text = text, ""
        if not host:
            raise ValueError(f"attachment host entry has no host: {entry!r}")
        if not port_text:
            return cls(host)
        if not port_text.isdigit() or not 0 < int(port_text) < 65536:
            raise ValueError(f"attachment host entry has a bad port: {entry!r}")
        return cls(host, int(port_text))


class HostPolicy:
    """The allow-list of attachment hosts, parsed once."""

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        self._rules = tuple(HostRule.parse(entry) for entry in allowed_hosts)

    @property
    def rules(self) -> tuple[HostRule, ...]:
        return self._rules

    def permits(self, host: str, port: int) -> bool:
        """The host (and port) is on the allow-list."""
        host = host.lower()
        return any(r.host == host and r.port in (None, port) for r in self._rules)

    def trusts_address_of(self, host: str, port: int) -> bool:
        """An explicit ``host:port`` entry lets this host reach non-public addresses."""
        host = host.lower()
        return any(r.host == host and r.port == port for r in self._rules)

    def check_url(self, url: httpx.URL) -> None:
        """Raise :class:`URLRefused` unless the URL may be fetched (addresses checked later)."""
        if url.scheme not in ALLOWED_SCHEMES:
            raise URLRefused("only http and https links can be downloaded")
        if url.userinfo:
            raise URLRefused("links with user names or passwords are not accepted")
        if not url.host:
            raise URLRefused("the link has no host")
        if not self.permits(url.host, effective_port(url)):
            raise URLRefused("it is not hosted on an allowed attachment server")


def effective_port(url: httpx.URL) -> int:
    """The port the URL connects to (the scheme's default when none is written)."""
    if url.port is not None:
        return url.port
    return 443 if url.scheme == "https" else 80


def embedded_ipv4(address: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one carries (IPv4-mapped, 6to4, NAT64), if any."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def is_public_address(address: IPAddress) -> bool:
    """True for globally routable unicast addresses only."""
    if isinstance(address, ipaddress.IPv6Address):
        inner = embedded_ipv4(address)
        if inner is not None and not is_public_address(inner):
            return False
    if any(address in network for network in BLOCKED_NETWORKS):
        return False
    return address.is_global and not address.is_multicast


def check_addresses(addresses: Sequence[IPAddress]) -> None:
    """Raise :class:`URLRefused` unless there is at least one address and all are public."""
    if not addresses:
        raise URLRefused("its server could not be found")
    if not all(is_public_address(a) for a in addresses):
        raise URLRefused("its server is on a private or internal network address")
