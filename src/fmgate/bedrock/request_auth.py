"""How the one request fmgate sends itself (ConverseStream) is authenticated: SigV4 or a bearer key.

botocore signs every other call. The streamed chat call is the hot path, and botocore's request
pipeline (hooks, endpoint rules, signing through ``AWSRequest``) cost about a third of the
gateway's CPU per request; this module signs that one call directly, the way botocore's
``SigV4Auth`` does for Bedrock Runtime (signing name ``bedrock``, payload hashed, the path's
percent-encoding encoded once more for the canonical URI, as for every service but S3). A test
compares the signature with botocore's for the same request.

The derived signing key depends only on the secret, the day, the region and the service, so it is
computed once a day per secret instead of four HMACs per request.

Which of the two, as botocore decides it (``botocore.handlers._should_prefer_bearer_auth``):
explicit credentials -> SigV4 with them; else ``AWS_BEARER_TOKEN_BEDROCK`` set -> the bearer key
(a Bedrock API key); else SigV4 with the default credential chain (refreshed when it expires).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import time
from collections.abc import Mapping
from typing import Final, Protocol
from urllib.parse import quote

from botocore.exceptions import NoCredentialsError

#: The service name Bedrock Runtime is signed for (``signingName`` in botocore's service model).
SIGNING_NAME: Final = "bedrock"
#: Where botocore finds a Bedrock API key (``AWS_BEARER_TOKEN_`` + the signing name).
BEARER_TOKEN_VARIABLE: Final = "AWS_BEARER_TOKEN_BEDROCK"  # noqa: S105 - a variable name
_ALGORITHM: Final = "AWS4-HMAC-SHA256"
_CONTENT_TYPE: Final = "application/json"


class CredentialSource(Protocol):
    """Where the current credentials come from (botocore/aiobotocore credentials objects fit:
    ``get_frozen_credentials`` refreshes them when they are about to expire)."""

    async def get_frozen_credentials(self) -> FrozenCredentialsLike: ...


class FrozenCredentialsLike(Protocol):
    """botocore's ``ReadOnlyCredentials`` (a named tuple): one set of credentials at one
    moment (a refreshable set is frozen per request)."""

    @property
    def access_key(self) -> str: ...

    @property
    def secret_key(self) -> str: ...

    @property
    def token(self) -> str | None: ...


class RequestAuth(Protocol):
    """The headers that authenticate one POST of ``body`` to ``canonical_path`` on ``host``."""

    async def headers(self, host: str, canonical_path: str, body: bytes) -> dict[str, str]: ...


def amz_date(now: float) -> str:
    """``X-Amz-Date``: the UTC time as ``YYYYMMDDTHHMMSSZ``."""
    return time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now))


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signing_key(secret_key: str, day: str, region: str, service: str) -> bytes:
    """SigV4's derived key: ``secret -> day -> region -> service -> aws4_request``."""
    key = _hmac(("AWS4" + secret_key).encode(), day)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


class SigV4Signer:
    """Signs POSTs of JSON to one region's Bedrock Runtime (the last signing key kept)."""

    __slots__ = ("_cached_key", "_region", "_service")

    def __init__(self, region: str, service: str = SIGNING_NAME) -> None:
        self._region = region
        self._service = service
        self._cached_key: tuple[str, str, bytes] | None = None  # (secret, day, key)

    def sign(
        self,
        credentials: FrozenCredentialsLike,
        host: str,
        canonical_path: str,
        body: bytes,
        now: float | None = None,
    ) -> dict[str, str]:
        """The request's headers: ``Content-Type``, ``Host``, ``X-Amz-Date``, the session token
        when there is one, and ``Authorization``. ``canonical_path`` is the path as it is sent
        (percent-encoded); the canonical URI encodes it once more."""
        stamp = amz_date(time.time() if now is None else now)
        day = stamp[:8]
        headers = {"content-type": _CONTENT_TYPE, "host": host, "x-amz-date": stamp}
        if credentials.token:
            headers["x-amz-security-token"] = credentials.token
        signed = ";".join(headers)  # already in sorted order
        canonical = "\n".join(
            (
                "POST",
                canonical_uri(canonical_path),
                "",
                *(f"{name}:{value.strip()}" for name, value in headers.items()),
                "",
                signed,
                hashlib.sha256(body).hexdigest(),
            )
        )
        scope = f"{day}/{self._region}/{self._service}/aws4_request"
        to_sign = "\n".join(
            (_ALGORITHM, stamp, scope, hashlib.sha256(canonical.encode()).hexdigest())
        )
        signature = hmac.new(
            self._key(credentials.secret_key, day), to_sign.encode(), hashlib.sha256
        ).hexdigest()
        headers["authorization"] = (
            f"{_ALGORITHM} Credential={credentials.access_key}/{scope}, "
            f"SignedHeaders={signed}, Signature={signature}"
        )
        return headers

    def _key(self, secret_key: str, day: str) -> bytes:
        cached = self._cached_key
        if cached is not None and cached[0] == secret_key and cached[1] == day:
            return cached[2]
        key = signing_key(secret_key, day, self._region, self._service)
        self._cached_key = (secret_key, day, key)
        return key


def canonical_uri(path: str) -> str:
    """The canonical URI of an already percent-encoded path: encoded once more, ``/`` and ``~``
    kept (``%3A`` -> ``%253A``), as botocore's ``SigV4Auth`` has it for services other than S3."""
    return quote(path, safe="/~")


class SigV4Auth:
    """SigV4 with the credentials ``source`` gives at each request (None: there are none, and
    the call fails as botocore's would, with ``NoCredentialsError``)."""

    __slots__ = ("_signer", "_source")

    def __init__(self, source: CredentialSource | None, region: str) -> None:
        self._source = source
        self._signer = SigV4Signer(region)

    async def headers(self, host: str, canonical_path: str, body: bytes) -> dict[str, str]:
        if self._source is None:
            raise NoCredentialsError()
        credentials = await self._source.get_frozen_credentials()
        return self._signer.sign(credentials, host, canonical_path, body)


class BearerAuth:
    """A Bedrock API key, sent as ``Authorization: Bearer``."""

    __slots__ = ("_authorization",)

    def __init__(self, token: str) -> None:
        self._authorization = f"Bearer {token}"

    async def headers(self, host: str, canonical_path: str, body: bytes) -> dict[str, str]:
        return {"content-type": _CONTENT_TYPE, "host": host, "authorization": self._authorization}


def bearer_token(environ: Mapping[str, str] | None = None) -> str | None:
    """The Bedrock API key botocore would use, if one is set."""
    token = (os.environ if environ is None else environ).get(BEARER_TOKEN_VARIABLE)
    return token or None
