"""Errors in Anthropic's shape: ``{"type": "error", "error": {"type", "message"}}``.

The status is the gateway error's own; the ``type`` follows from it as Anthropic's API names
it. In a stream that already started, the same body goes out as an ``error`` event.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from fmgate.core.errors import GatewayError
from fmgate.fronts.pipeline import Refusal

#: HTTP status -> Anthropic error ``type``; anything else is an ``api_error``.
ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}

#: Anthropic's own status for "overloaded" (its SDK raises ``OverloadedError`` and retries it).
OVERLOADED_STATUS = 529


def error_body(status: int, message: str) -> dict[str, object]:
    return {
        "type": "error",
        "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message},
    }


def error_response(
    status: int,
    message: str,
    request_id: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> Response:
    all_headers = {**(headers or {}), **({"request-id": request_id} if request_id else {})}
    return Response(
        orjson.dumps(error_body(status, message)),
        status_code=status,
        media_type="application/json",
        headers=all_headers or None,
    )


def gateway_error_body(error: GatewayError) -> dict[str, object]:
    return error_body(error.status, error.user_message)


def gateway_error_response(error: GatewayError, request_id: str) -> Response:
    return error_response(error.status, error.user_message, request_id)


class AnthropicErrors:
    """The pipeline's errors in Anthropic's shape."""

    def refusal(self, refusal: Refusal) -> Response:
        return error_response(refusal.status, refusal.message, headers=refusal.headers)

    def overloaded(self, refusal: Refusal) -> Response:
        return error_response(OVERLOADED_STATUS, refusal.message, headers=refusal.headers)

    def gateway_error(self, error: GatewayError, request_id: str) -> Response:
        return gateway_error_response(error, request_id)


ANTHROPIC_ERRORS = AnthropicErrors()
