"""Bedrock Runtime errors as the service returns them: status, ``x-amzn-ErrorType``, message.

Raise :class:`BedrockError` anywhere in a request path; the app turns it into the HTTP answer
(before the first byte) or into a ``:message-type=exception`` frame (inside an event stream).
"""

from __future__ import annotations

import json

from aiohttp import web

#: HTTP status of each error code Bedrock Runtime answers with.
ERROR_STATUS: dict[str, int] = {
    "ValidationException": 400,
    "ServiceQuotaExceededException": 400,
    "AccessDeniedException": 403,
    "UnrecognizedClientException": 403,
    "InvalidSignatureException": 403,
    "ResourceNotFoundException": 404,
    "UnknownOperationException": 404,
    "ModelTimeoutException": 408,
    "ModelErrorException": 424,
    "ThrottlingException": 429,
    "ModelNotReadyException": 429,
    "InternalServerException": 500,
    "ServiceUnavailableException": 503,
}

INVALID_MODEL_ID = "The provided model identifier is invalid."


class BedrockError(Exception):
    """An error answer: ``code`` is the Bedrock exception name (e.g. ``ThrottlingException``)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message

    @property
    def status(self) -> int:
        return ERROR_STATUS[self.code]


def validation(message: str) -> BedrockError:
    """Shorthand for the most common error, a 400 ValidationException."""
    return BedrockError("ValidationException", message)


def error_response(error: BedrockError) -> web.Response:
    """The HTTP answer for ``error``, shaped like Bedrock's (botocore parses the header)."""
    return web.Response(
        status=error.status,
        body=json.dumps({"message": error.message}).encode(),
        content_type="application/json",
        headers={
            "x-amzn-ErrorType": f"{error.code}:http://internal.amazon.com/coral/com.amazon.bedrock/"
        },
    )
