"""Virtual API keys for the OpenAI- and Anthropic-compatible fronts (separate from Poe keys).

The catalog names each caller and a reference to its key (``gateway.api_keys``); the keys are
resolved once at start-up. A presented key is compared with every known key in constant time,
and the matching caller's name is what the usage ledger records as the user (with the end user
the caller names, when it names one: :func:`ledger_user`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from fmgate.config.gateway_settings import ApiKeyRef, JwtSettings
from fmgate.config.secrets import SecretError, SecretResolver
from fmgate.observability.logging import register_secret
from fmgate.security.jwt_auth import JwtPolicy, JwtVerifier, TokenRejected

logger = logging.getLogger("fmgate")

#: The caller recorded for keyless (DEV ONLY) requests.
ANONYMOUS_CALLER = "anonymous"
#: The caller recorded for requests made with the DEV ONLY gateway-wide key.
DEV_CALLER = "dev"
#: Callers authenticated by a JWT are recorded as this prefix + the token's subject.
JWT_CALLER_PREFIX = "jwt:"
#: Between the caller and the end user it names, in the user the ledger records.
END_USER_SEPARATOR = "/"
#: Longest end-user id kept (Anthropic's ``metadata.user_id`` and OpenAI's ``user``).
MAX_END_USER_LENGTH = 256


def ledger_user(caller: str, end_user: str | None) -> str:
    """The user a request is recorded under: its caller, then the end user the caller named
    (``alice/user-42``), so one key's end users never pass for another key's."""
    named = (end_user or "").strip()[:MAX_END_USER_LENGTH]
    return f"{caller}{END_USER_SEPARATOR}{named}" if named else caller


@dataclass(frozen=True, slots=True)
class ApiKeys:
    """Resolved keys: ``(caller, key)`` pairs. ``keyless`` (DEV ONLY) lets anyone in.

    With a ``jwt`` verifier (``gateway.jwt``), a bearer token that is not a virtual key is tried
    as a JWT; a valid one's caller is ``jwt:<subject>``.
    """

    keys: tuple[tuple[str, str], ...] = ()
    keyless: bool = False
    jwt: JwtVerifier | None = None
    #: Callers whose streamed chat completions always end with usage (``stream_usage: always``).
    always_stream_usage: frozenset[str] = frozenset()

    def streams_usage(self, caller: str) -> bool:
        """Whether ``caller``'s streams report usage even when the request does not ask."""
        return caller in self.always_stream_usage

    def caller(self, presented: str | None) -> str | None:
        """The caller whose key was presented, or None. Every key is compared, in constant time."""
        if self.keyless:
            return ANONYMOUS_CALLER
        if not presented:
            return None
        offered = presented.encode()
        found: str | None = None
        for caller, key in self.keys:
            if hmac.compare_digest(offered, key.encode()) and found is None:
                found = caller
        if found is None and self.jwt is not None:
            try:
                token = self.jwt.verify(presented)
            except TokenRejected as rejected:
                logger.info("bearer token rejected: %s", rejected.reason)
                return None
            return f"{JWT_CALLER_PREFIX}{token.subject or 'unknown'}"
        return found


async def resolve_api_keys(
    refs: Sequence[ApiKeyRef],
    secrets: SecretResolver,
    *,
    dev_access_key: str | None = None,
    allow_without_key: bool = False,
) -> ApiKeys:
    """Resolve every configured key; fail start-up on an unresolvable one (unless DEV keys)."""

    async def resolve(ref: ApiKeyRef) -> str:
        try:
            return await secrets.resolve(ref.key)
        except SecretError:
            if dev_access_key is None:
                raise
            return dev_access_key

    resolved = await asyncio.gather(*(resolve(ref) for ref in refs))
    pairs = tuple((ref.caller, key) for ref, key in zip(refs, resolved, strict=True))
    if not pairs and dev_access_key is not None:
        pairs = ((DEV_CALLER, dev_access_key),)
    for _, key in pairs:
        register_secret(key)
    if not pairs and allow_without_key:
        logger.warning("DEV MODE: the /v1 API fronts are served WITHOUT keys: anyone can call them")
        return ApiKeys(keyless=True)
    if not pairs:
        logger.info("no gateway.api_keys configured: the /v1 API fronts refuse every caller")
    always = frozenset(ref.caller for ref in refs if ref.stream_usage == "always")
    return ApiKeys(pairs, always_stream_usage=always)


async def resolve_jwt_verifier(
    settings: JwtSettings | None, secrets: SecretResolver
) -> JwtVerifier | None:
    """The JWT verifier for ``gateway.jwt``, its keys resolved from their references."""
    if settings is None:
        return None
    kids = list(settings.keys)
    values = await asyncio.gather(*(secrets.resolve(settings.keys[kid]) for kid in kids))
    for value in values:
        register_secret(value)
    return JwtVerifier(
        JwtPolicy(
            issuer=settings.issuer,
            audience=settings.audience,
            algorithms=settings.algorithms,
            keys=dict(zip(kids, values, strict=True)),
            leeway_seconds=settings.leeway_seconds,
        )
    )
