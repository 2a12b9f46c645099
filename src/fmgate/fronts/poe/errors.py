"""Gateway errors as Poe shows them: the ``error_type`` of an ``error`` event.

Poe reads ``error_type`` to decide what the user sees (``insufficient_fund`` opens the points
dialog, ``user_message_too_long`` asks for a shorter message). The table maps the gateway's
error classes to it; a class inherits its nearest ancestor's entry, and errors without one go out
without an ``error_type``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from fmgate.core.errors import ContextTooLong, GatewayError, InsufficientFunds, RequestRejected

PoeErrorType = Literal[
    "user_message_too_long", "insufficient_fund", "user_caused_error", "privacy_authorization_error"
]

POE_ERROR_TYPES: Mapping[type[GatewayError], PoeErrorType] = {
    ContextTooLong: "user_message_too_long",
    RequestRejected: "user_caused_error",
    InsufficientFunds: "insufficient_fund",
}


def poe_error_type(error: GatewayError) -> PoeErrorType | None:
    """The ``error_type`` of ``error``'s class or its nearest ancestor in the table."""
    for cls in type(error).__mro__:
        found = POE_ERROR_TYPES.get(cls)
        if found is not None:
            return found
    return None
