"""Poe access-key check: ``Authorization: Bearer <key>``, compared in constant time."""

from __future__ import annotations

import hmac


def bearer_token(authorization: str | None) -> str | None:
    """The token of a ``Bearer`` Authorization header, or None."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token:
        return None
    return token.strip()


def key_matches(presented: str | None, expected: str) -> bool:
    """Constant-time comparison of the presented key with the bot's key."""
    if presented is None:
        return False
    return hmac.compare_digest(presented.encode(), expected.encode())
