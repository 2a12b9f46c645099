"""Safe download of attachment files: allowed hosts only, size caps, timeouts, checked redirects.

:class:`AttachmentFetcher` owns one pooled ``httpx.AsyncClient`` for the gateway's lifetime.
Every failure becomes :class:`fmgate.core.errors.AttachmentRejected` (or its subclass
:class:`AttachmentTooLarge`) with a user-facing message that names the file, never the URL:
Poe's attachment links carry signed tokens in their query strings.

Rules (see ``docs/attachments.md``):

- only ``http``/``https``, no user-info, host on the allow-list (``url_policy``);
- every connection goes to a public address unless an explicit ``host:port`` entry trusts it
  (``address_guard``); environment proxies are ignored;
- redirects are followed by hand, at most :data:`MAX_REDIRECTS`, each one checked like the
  first URL;
- ``Content-Length`` above the cap is refused before reading; otherwise the body is read as a
  stream and the download stops as soon as the cap is passed;
- connect and read timeouts per operation, and a total time limit for the whole download;
- no content encoding is accepted (``Accept-Encoding: identity``), so the cap counts real bytes
  and a compressed "bomb" cannot expand behind it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import Self

import httpx

from fmgate.attachments.address_guard import AddressCheckingTransport
from fmgate.attachments.media_types import media_type
from fmgate.attachments.url_policy import HostPolicy, URLRefused
from fmgate.config.bot_config import AttachmentLimits
from fmgate.core.errors import AttachmentRejected

logger = logging.getLogger(__name__)

MAX_REDIRECTS = 3
REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
IDENTITY_ENCODINGS = frozenset({"", "identity"})
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 10.0

#: httpx error type -> what the user is told (first matching type wins, most specific first).
HTTPX_ERROR_REASONS: tuple[tuple[type[httpx.HTTPError], str], ...] = (
    (httpx.ConnectTimeout, "its server did not answer in time"),
    (httpx.TimeoutException, "the download took too long"),
    (httpx.ConnectError, "its server could not be reached"),
    (httpx.RemoteProtocolError, "its server sent a broken answer"),
    (httpx.NetworkError, "the connection to its server failed"),
    (httpx.DecodingError, "its server sent a broken answer"),
    (httpx.UnsupportedProtocol, "only http and https links can be downloaded"),
    (httpx.HTTPError, "the download failed"),
)


class AttachmentTooLarge(AttachmentRejected):
    """The file is larger than the cap the download was given."""


@dataclass(frozen=True, slots=True)
class Downloaded:
    """A downloaded file: its bytes and the media type its server declared (lower case)."""

    data: bytes
    content_type: str


class AttachmentFetcher:
    """Downloads attachment URLs safely (see the module docstring); one per gateway."""

    def __init__(
        self,
        allowed_hosts: Sequence[str],
        limits: AttachmentLimits | None = None,
        *,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        max_connections: int = 32,
    ) -> None:
        """``allowed_hosts``: exact host names (any port) or ``host:port`` entries.

        ``limits`` gives the default total download time (``download_timeout_seconds``);
        callers pass each download's byte cap to :meth:`fetch`.
        """
        self._policy = HostPolicy(allowed_hosts)
        self._limits = limits or AttachmentLimits()
        pool = httpx.Limits(max_connections=max_connections, max_keepalive_connections=8)
        self._client = httpx.AsyncClient(
            transport=AddressCheckingTransport(self._policy, limits=pool),
            follow_redirects=False,
            trust_env=False,
            timeout=httpx.Timeout(connect=connect_timeout, read=read_timeout, write=5.0, pool=5.0),
            headers={"Accept-Encoding": "identity", "User-Agent": "fmgate-attachments"},
        )

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def fetch(
        self,
        url: str,
        *,
        max_bytes: int,
        name: str | None = None,
        time_limit: float | None = None,
    ) -> Downloaded:
        """Download ``url``, at most ``max_bytes`` bytes, within ``time_limit`` seconds in total.

        ``name`` is the file name used in messages (default: the URL's last path segment);
        ``time_limit`` defaults to the limits' ``download_timeout_seconds``.
        Raises :class:`AttachmentTooLarge` or :class:`AttachmentRejected`.
        """
        label = name or file_label(url)
        total = time_limit if time_limit is not None else self._limits.download_timeout_seconds
        try:
            async with asyncio.timeout(total):
                return await self._follow(url, max_bytes=max_bytes, label=label)
        except TimeoutError as exc:
            raise _rejected(label, "the download took too long", "total timeout") from exc
        except URLRefused as exc:
            raise _rejected(label, exc.reason, "refused by policy") from exc
        except httpx.InvalidURL as exc:
            raise _rejected(label, "the link is not valid", "invalid URL") from exc
        except httpx.HTTPError as exc:
            reason = next(r for kind, r in HTTPX_ERROR_REASONS if isinstance(exc, kind))
            raise _rejected(label, reason, type(exc).__name__) from exc

    async def _follow(self, url: str, *, max_bytes: int, label: str) -> Downloaded:
        target = _parse(url)
        for _hop in range(MAX_REDIRECTS + 1):
            self._policy.check_url(target)
            async with self._client.stream("GET", target) as response:
                if response.status_code in REDIRECT_STATUSES:
                    location = response.headers.get("location")
                    if not location:
                        raise _rejected(label, "its server sent a broken redirect", "no location")
                    target = target.join(location)
                    continue
                return await _read_body(response, max_bytes=max_bytes, label=label)
        raise _rejected(label, "its server redirected too many times", "too many redirects")


async def _read_body(response: httpx.Response, *, max_bytes: int, label: str) -> Downloaded:
    """Check status, encoding and declared size; then read, stopping as soon as the cap passes."""
    if not response.is_success:
        status = response.status_code
        raise _rejected(label, f"its server answered with HTTP status {status}", f"HTTP {status}")
    encoding = response.headers.get("content-encoding", "").strip().lower()
    if encoding not in IDENTITY_ENCODINGS:
        raise _rejected(label, "its server sent it compressed", f"content-encoding {encoding}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(label, max_bytes)
    received = bytearray()
    async for chunk in response.aiter_raw():
        received += chunk
        if len(received) > max_bytes:
            raise _too_large(label, max_bytes)
    return Downloaded(bytes(received), media_type(response.headers.get("content-type", "")))


def file_label(url: str) -> str:
    """A name for messages: the URL path's last segment, never its query string."""
    try:
        path = httpx.URL(url).path
    except httpx.InvalidURL:
        return "the attachment"
    segment = path.rstrip("/").rsplit("/", 1)[-1]
    return segment or "the attachment"


def format_size(size: int) -> str:
    """Bytes as a short human size: ``'3.8 MB'``, ``'512 KB'``, ``'900 bytes'``."""
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    if size >= 1024:
        return f"{size // 1024} KB"
    return f"{size} bytes"


def _parse(url: str) -> httpx.URL:
    try:
        return httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise URLRefused("the link is not valid") from exc


def _rejected(label: str, reason: str, detail: str) -> AttachmentRejected:
    logger.info("attachment refused: %s", detail)
    return AttachmentRejected(
        f"attachment download refused: {detail}",
        user_message=f'"{label}" could not be downloaded: {reason}.',
    )


def _too_large(label: str, max_bytes: int) -> AttachmentTooLarge:
    return AttachmentTooLarge(
        f"attachment larger than {max_bytes} bytes",
        user_message=f'"{label}" is too large: the limit is {format_size(max_bytes)}.',
    )
