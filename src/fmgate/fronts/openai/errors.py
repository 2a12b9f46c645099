"""Errors in OpenAI's shape: ``{"error": {"message", "type", "param", "code"}}`` and its status.

Gateway errors keep their own status; the ``type`` follows from the status (as OpenAI's SDKs
read it), the ``code`` is the gateway error's stable code. Messages are the errors'
``user_message``: never upstream text or secrets.
"""

from __future__ import annotations

from collections.abc import Mapping

import orjson
from starlette.responses import Response

from fmgate.core.errors import GatewayError
from fmgate.fronts.pipeline import Refusal

#: HTTP status -> OpenAI error ``type``; anything else is a ``server_error``.
ERROR_TYPES: Mapping[int, str] = {
    400: "invalid_request_error",
    401: "invalid_request_error",
    402: "insufficient_quota",
    403: "permission_error",
    404: "invalid_request_error",
    413: "invalid_request_error",
    429: "rate_limit_error",
}


def error_body(
    message: str, *, status: int, code: str | None, param: str | None = None
) -> dict[str, object]:
    return {
        "error": {
            "message": message,
            "type": ERROR_TYPES.get(status, "server_error"),
            "param": param,
            "code": code,
        }
    }


def error_response(
    status: int,
    message: str,
    code: str | None,
    *,
    param: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    return Response(
        orjson.dumps(error_body(message, status=status, code=code, param=param)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def gateway_error_body(error: GatewayError) -> dict[str, object]:
    return error_body(error.user_message, status=error.status, code=error.code)


def gateway_error_response(error: GatewayError, request_id: str) -> Response:
    headers = {"X-Request-Id": request_id}
    return error_response(error.status, error.user_message, error.code, headers=headers)


class OpenAiErrors:
    """The pipeline's errors in OpenAI's shape."""

    def refusal(self, refusal: Refusal) -> Response:
        return error_response(
            refusal.status,
            refusal.message,
            refusal.code,
            param=refusal.param,
            headers=refusal.headers,
        )

    def overloaded(self, refusal: Refusal) -> Response:
        """OpenAI answers an overloaded server with 503 (``server_error``); its SDK retries it
        after ``Retry-After``."""
        return self.refusal(refusal)

    def gateway_error(self, error: GatewayError, request_id: str) -> Response:
        return gateway_error_response(error, request_id)


OPENAI_ERRORS = OpenAiErrors()

INVALID_API_KEY = Refusal(
    401, "Incorrect API key provided.", "invalid_api_key", headers={"WWW-Authenticate": "Bearer"}
)


def unknown_model(name: str) -> Refusal:
    return Refusal(
        404, f"The model `{name[:100]}` does not exist.", "model_not_found", param="model"
    )
