"""Resolve secret references (``env:NAME``, ``file:/path``, ``aws-secretsmanager:ID#key``).

The catalog never holds a secret, only a reference to one::

    env:POE_ACCESS_KEY                               an environment variable
    file:/run/secrets/poe_key                        a file (surrounding whitespace is dropped)
    aws-secretsmanager:prod/fmgate#poe_key           one key of a JSON secret in Secrets Manager
    aws-secretsmanager:prod/fmgate-poe-key           a whole string secret
    aws-secretsmanager:arn:aws:secretsmanager:eu-west-1:123456789012:secret:x#k   (by ARN)

:class:`SecretResolver` resolves them asynchronously (files are read in a worker thread;
Secrets Manager is called through aiobotocore, with one lazily created client per region) and
caches each value for a TTL, fetching it again once expired. A failure raises
:class:`SecretError`, whose message names the reference and the reason, never the value.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import os
import time
from collections.abc import Callable, Mapping
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError

from fmgate.config.errors import SecretError

__all__ = [
    "DEFAULT_TTL_SECONDS",
    "AwsSecretRef",
    "EnvRef",
    "FileRef",
    "Secret",
    "SecretError",
    "SecretResolver",
    "parse_secret_ref",
]

DEFAULT_TTL_SECONDS: Final = 300.0
ARN_PREFIX: Final = "arn:"

#: Secrets Manager error codes -> what to tell the operator (never the service's own text).
SECRETS_MANAGER_REASONS: Final[Mapping[str, str]] = {
    "ResourceNotFoundException": "no such secret in Secrets Manager",
    "AccessDeniedException": "access to the secret was denied (check the IAM policy)",
    "DecryptionFailure": "Secrets Manager could not decrypt the secret (check the KMS key)",
    "InvalidRequestException": "the secret cannot be read now (is it scheduled for deletion?)",
    "InvalidParameterException": "Secrets Manager rejected the secret id",
    "UnrecognizedClientException": "the AWS credentials were not recognised",
    "InvalidClientTokenId": "the AWS credentials were not recognised",
    "ThrottlingException": "Secrets Manager is throttling requests; try again",
    "InternalServiceError": "Secrets Manager had an internal error; try again",
}


class Secret:
    """A secret value that does not show itself in reprs, f-strings or logs."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        """The value itself: pass it on, never print it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('****')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True, slots=True)
class EnvRef:
    """``env:NAME``: the value of an environment variable."""

    name: str


@dataclass(frozen=True, slots=True)
class FileRef:
    """``file:/path``: the contents of a file, surrounding whitespace removed."""

    path: Path


@dataclass(frozen=True, slots=True)
class AwsSecretRef:
    """``aws-secretsmanager:SECRET_ID[#json_key]``: a Secrets Manager secret (or one JSON key)."""

    secret_id: str
    json_key: str | None = None

    @property
    def region(self) -> str | None:
        """The region written in an ARN secret id (``arn:aws:secretsmanager:REGION:...``)."""
        if not self.secret_id.startswith(ARN_PREFIX):
            return None
        parts = self.secret_id.split(":")
        return parts[3] if len(parts) > 3 and parts[3] else None


SecretRefTarget = EnvRef | FileRef | AwsSecretRef


def parse_secret_ref(reference: str) -> SecretRefTarget:
    """Parse a reference; raises :class:`SecretError` for anything that is not one."""
    scheme, separator, rest = reference.partition(":")
    if separator and rest:
        if scheme == "env" and rest.isidentifier():
            return EnvRef(rest)
        if scheme == "file":
            return FileRef(Path(rest))
        if scheme == "aws-secretsmanager":
            secret_id, hash_sign, json_key = rest.partition("#")
            if secret_id and (not hash_sign or json_key):
                return AwsSecretRef(secret_id, json_key or None)
    raise SecretError(
        describe_reference(reference),
        "not a secret reference (env:NAME, file:/path, aws-secretsmanager:SECRET_ID#json_key)",
    )


def describe_reference(reference: str) -> str:
    """How to name a reference in a message: itself when its scheme is known, else a placeholder.

    Something that is not a reference may be a secret pasted by mistake, so none of it is shown.
    """
    scheme = reference.partition(":")[0]
    if scheme in ("env", "file", "aws-secretsmanager"):
        return reference
    return "<not a reference>"


@dataclass(slots=True)
class CachedSecret:
    secret: Secret
    expires_at: float


class SecretResolver:
    """Resolves secret references, caching each value for ``ttl_seconds``.

    ``region``, ``endpoint_url`` and the optional explicit credentials configure the Secrets
    Manager clients (default: the standard AWS credential chain). A secret id given as an ARN
    is fetched from the ARN's region; ``max_attempts`` and ``timeout_seconds`` bound each
    Secrets Manager call. ``clock`` (monotonic seconds) and ``environ`` are injectable for
    tests. Call :meth:`aclose` when done.
    """

    def __init__(
        self,
        *,
        region: str = "us-east-1",
        endpoint_url: str | None = None,
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        session_token: str | None = None,
        ttl_seconds: float = DEFAULT_TTL_SECONDS,
        max_attempts: int = 3,
        timeout_seconds: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        if ttl_seconds < 0:
            raise ValueError("ttl_seconds must be >= 0")
        self._region = region
        self._endpoint_url = endpoint_url
        self._credentials = {
            "aws_access_key_id": access_key_id,
            "aws_secret_access_key": secret_access_key,
            "aws_session_token": session_token,
        }
        self._ttl = ttl_seconds
        self._client_config = AioConfig(
            retries={"max_attempts": max_attempts, "mode": "standard"},
            connect_timeout=timeout_seconds,
            read_timeout=timeout_seconds,
        )
        self._clock = clock
        self._environ = environ if environ is not None else os.environ
        self._cache: dict[str, CachedSecret] = {}
        self._fetch_locks: dict[str, asyncio.Lock] = {}
        self._clients: dict[str, Any] = {}
        self._client_lock = asyncio.Lock()
        self._exit_stack = AsyncExitStack()
        self._closed = False

    async def resolve(self, ref: str) -> str:
        """The secret's value (from the cache while fresh)."""
        return (await self.resolve_secret(ref)).get_secret_value()

    async def resolve_secret(self, ref: str) -> Secret:
        """Like :meth:`resolve`, wrapped in a :class:`Secret` that does not print itself."""
        if self._closed:
            raise RuntimeError("SecretResolver is closed")
        target = parse_secret_ref(ref)
        cached = self._fresh(ref)
        if cached is not None:
            return cached
        lock = self._fetch_locks.setdefault(ref, asyncio.Lock())
        async with lock:  # one fetch per reference at a time; waiters reuse its result
            cached = self._fresh(ref)
            if cached is not None:
                return cached
            secret = Secret(await self._fetch(ref, target))
            self._cache[ref] = CachedSecret(secret, self._clock() + self._ttl)
            return secret

    def invalidate(self, ref: str | None = None) -> None:
        """Forget one cached value (or all), e.g. after the key was rotated."""
        if ref is None:
            self._cache.clear()
        else:
            self._cache.pop(ref, None)

    async def aclose(self) -> None:
        """Close the Secrets Manager clients and forget every cached value. Idempotent."""
        self._closed = True
        self._cache.clear()
        self._clients.clear()
        await self._exit_stack.aclose()

    def _fresh(self, ref: str) -> Secret | None:
        cached = self._cache.get(ref)
        if cached is None or self._clock() >= cached.expires_at:
            return None
        return cached.secret

    async def _fetch(self, ref: str, target: SecretRefTarget) -> str:
        match target:
            case EnvRef(name=name):
                value = self._environ.get(name)
                if value is None:
                    raise SecretError(ref, f"environment variable {name} is not set")
            case FileRef(path=path):
                value = await read_secret_file(ref, path)
            case AwsSecretRef():
                value = await self._fetch_aws(ref, target)
        if not value:
            raise SecretError(ref, "the secret is empty")
        return value

    async def _fetch_aws(self, ref: str, target: AwsSecretRef) -> str:
        client = await self._client(target.region or self._region)
        try:
            response = await client.get_secret_value(SecretId=target.secret_id)
        except ClientError as exc:
            code = str(exc.response.get("Error", {}).get("Code", "Unknown"))
            reason = SECRETS_MANAGER_REASONS.get(code, f"Secrets Manager error {code}")
            raise SecretError(ref, reason) from exc
        except BotoCoreError as exc:
            raise SecretError(ref, f"cannot reach Secrets Manager ({type(exc).__name__})") from exc
        return secret_from_response(ref, response, target.json_key)

    async def _client(self, region: str) -> Any:
        """The Secrets Manager client for ``region``, created on first use."""
        async with self._client_lock:
            client = self._clients.get(region)
            if client is None:
                creator = get_session().create_client(
                    "secretsmanager",
                    region_name=region,
                    endpoint_url=self._endpoint_url,
                    config=self._client_config,
                    **self._credentials,
                )
                client = await self._exit_stack.enter_async_context(creator)
                self._clients[region] = client
            return client


async def read_secret_file(ref: str, path: Path) -> str:
    """A file's text without surrounding whitespace, read off the event loop."""
    try:
        text = await asyncio.to_thread(path.read_text, encoding="utf-8")
    except UnicodeDecodeError:
        raise SecretError(ref, "the file is not UTF-8 text") from None
    except OSError as exc:
        raise SecretError(
            ref, f"cannot read the file ({exc.strerror or type(exc).__name__})"
        ) from None
    return text.strip()


def secret_from_response(ref: str, response: Mapping[str, Any], json_key: str | None) -> str:
    """The secret string, or one key of it parsed as a JSON object."""
    text = response.get("SecretString")
    if text is None:
        binary = response.get("SecretBinary")
        try:
            text = binary.decode("utf-8") if isinstance(binary, bytes) else None
        except UnicodeDecodeError:
            text = None
    if not isinstance(text, str):
        raise SecretError(ref, "the secret has no text value")
    if json_key is None:
        return text
    try:
        document = json.loads(text)
    except ValueError:
        # `from None`: a JSONDecodeError keeps the whole document, which is the secret.
        raise SecretError(ref, "the secret is not a JSON object, so it has no keys") from None
    if not isinstance(document, dict):
        raise SecretError(ref, "the secret is not a JSON object, so it has no keys")
    if json_key not in document:
        raise SecretError(ref, f'the secret has no key "{json_key}"')
    value = document[json_key]
    if not isinstance(value, str):
        raise SecretError(ref, f'the secret\'s key "{json_key}" is not a string')
    return value
