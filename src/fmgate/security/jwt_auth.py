"""JWT bearer validation for callers other than Poe (PyJWT underneath).

A :class:`JwtVerifier` accepts a token only when all of these hold:

- its header's ``alg`` is in the configured allow-list (``none`` can never be allowed, and
  HMAC and public-key algorithms cannot be mixed, which rules out algorithm confusion);
- its signature verifies with the configured key (by ``kid`` when several keys are given);
- ``iss`` equals the configured issuer and ``aud`` contains the configured audience;
- ``exp`` is present and in the future, ``nbf``/``iat`` (when present) not in the future,
  each with ``leeway_seconds`` of clock skew.

Anything else raises :class:`TokenRejected`, whose ``reason`` is a short fixed phrase (safe to
log; never the token, a claim value or a key). Callers answer 401 without detail.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import jwt
from jwt.algorithms import get_default_algorithms

#: Algorithms that sign with a shared secret; the rest use a private/public key pair.
HMAC_ALGORITHMS: Final = frozenset({"HS256", "HS384", "HS512"})

#: PyJWT exception types -> the reason we report (by type, most specific first).
REJECTION_REASONS: Final[tuple[tuple[type[jwt.PyJWTError], str], ...]] = (
    (jwt.ExpiredSignatureError, "token expired"),
    (jwt.ImmatureSignatureError, "token not yet valid"),
    (jwt.InvalidIssuerError, "wrong issuer"),
    (jwt.InvalidAudienceError, "wrong audience"),
    (jwt.MissingRequiredClaimError, "required claim missing"),
    (jwt.InvalidAlgorithmError, "algorithm not allowed"),
    (jwt.InvalidSignatureError, "bad signature"),
    (jwt.DecodeError, "malformed token"),
    (jwt.InvalidTokenError, "invalid token"),
)


class TokenRejected(Exception):
    """The token is not acceptable; ``reason`` is a fixed phrase, safe to log."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class JwtPolicy:
    """What a valid token must look like.

    ``keys`` maps a key id (``kid``) to an HMAC secret or a PEM public key; a single key may use
    any id and is then used for tokens without a ``kid`` too.
    """

    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    keys: Mapping[str, str | bytes]
    leeway_seconds: float = 30.0
    required_claims: tuple[str, ...] = ("exp", "iss", "aud")

    def __post_init__(self) -> None:
        if not self.algorithms:
            raise ValueError("at least one algorithm must be allowed")
        known = get_default_algorithms()
        for name in self.algorithms:
            if name.lower() == "none" or name not in known:
                raise ValueError(f"algorithm {name!r} cannot be allowed")
        kinds = {name in HMAC_ALGORITHMS for name in self.algorithms}
        if len(kinds) > 1:
            raise ValueError("do not mix HMAC and public-key algorithms in one policy")
        if not self.keys:
            raise ValueError("at least one key is needed")
        for key in self.keys.values():
            _check_key(self.algorithms, key)


@dataclass(frozen=True, slots=True)
class VerifiedToken:
    """A token that passed every check: its subject and all its claims."""

    subject: str | None
    claims: Mapping[str, Any]


class JwtVerifier:
    """Validates bearer tokens against one :class:`JwtPolicy`."""

    def __init__(self, policy: JwtPolicy) -> None:
        self._policy = policy
        self._keys = dict(policy.keys)

    def verify(self, token: str) -> VerifiedToken:
        """The token's claims, or :class:`TokenRejected`."""
        policy = self._policy
        try:
            header = jwt.get_unverified_header(token)
            key = self._key_for(header.get("kid"))
            claims = jwt.decode(
                token,
                key=key,
                algorithms=list(policy.algorithms),
                audience=policy.audience,
                issuer=policy.issuer,
                leeway=policy.leeway_seconds,
                options={"require": list(policy.required_claims)},
            )
        except jwt.PyJWTError as exc:
            raise TokenRejected(rejection_reason(exc)) from None
        subject = claims.get("sub")
        return VerifiedToken(subject=subject if isinstance(subject, str) else None, claims=claims)

    def verify_authorization(self, authorization: str | None) -> VerifiedToken:
        """Verify an ``Authorization: Bearer <token>`` header value."""
        if not authorization:
            raise TokenRejected("no bearer token")
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise TokenRejected("no bearer token")
        return self.verify(token.strip())

    def _key_for(self, kid: object) -> str | bytes:
        if isinstance(kid, str) and kid in self._keys:
            return self._keys[kid]
        if len(self._keys) == 1 and kid is None:
            return next(iter(self._keys.values()))
        raise TokenRejected("unknown key id")


def rejection_reason(error: jwt.PyJWTError) -> str:
    """The fixed phrase for a PyJWT error, chosen by its type."""
    for error_type, reason in REJECTION_REASONS:
        if isinstance(error, error_type):
            return reason
    return "invalid token"


def _check_key(algorithms: tuple[str, ...], key: str | bytes) -> None:
    """Fail at start-up when a key suits none of the allowed algorithms (a PEM public key
    given for HS256, an HMAC secret for RS256, ...)."""
    available = get_default_algorithms()
    for name in algorithms:
        try:
            available[name].prepare_key(key)
        except (jwt.InvalidKeyError, ValueError, TypeError):
            continue
        return
    raise ValueError("a configured key suits none of the allowed algorithms")
