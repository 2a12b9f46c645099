"""Bedrock's errors -> the gateway's error tree, in one place, by code and type.

Two tables decide everything:

* :data:`ERRORS_BY_CODE` — a botocore ``ClientError``'s ``Error.Code`` (HTTP errors such as
  ``ThrottlingException``, and S3's codes for video results). In-stream exceptions arrive as
  ``EventStreamError`` (a ``ClientError``) whose code is the event member name in lower camel
  case (``throttlingException``); :data:`STREAM_ERRORS_BY_CODE` overrides the few that mean
  something else mid-stream (the model failed part-way).
* :data:`ERRORS_BY_TYPE` — transport failures by exception class (connection refused, reset,
  timeouts, a cut-off stream), looked up along the exception's MRO so the most specific class
  wins.

A code neither table knows falls back to its HTTP status class. Bedrock's own message text is
never read: it can carry account ids and ARNs, and matching on it breaks when AWS rewords it.
The one thing Bedrock says only in text is "the conversation is longer than the model's context
window" (a ``ValidationException``); that stays :class:`~fmgate.core.errors.InvalidRequest` here,
whose user message names the likely cause. ConverseStream also reports it as the stop reason
``model_context_window_exceeded``, which :mod:`fmgate.bedrock.converse` turns into
:class:`~fmgate.core.errors.ContextTooLong`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from contextlib import contextmanager

import aiohttp
from botocore import exceptions as boto
from botocore.eventstream import ParserError as EventStreamParserError

from fmgate.core.errors import (
    AccessDenied,
    BotMisconfigured,
    GatewayError,
    InvalidRequest,
    ModelNotFound,
    ModelNotReady,
    ModelStreamFailed,
    ServiceUnavailable,
    Throttled,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)

#: What users see when Bedrock rejects a request as invalid (it does not say why in a code).
VALIDATION_MESSAGE = (
    "The model could not process this request. The conversation may be too long for the model, "
    "or an attachment or option may not be supported. Try a shorter message or a new chat."
)

#: Bedrock Runtime (and S3, for video results) error codes -> gateway errors.
ERRORS_BY_CODE: Mapping[str, type[GatewayError]] = {
    # The request as sent cannot succeed.
    "ValidationException": InvalidRequest,
    # Credentials, signature or model access: the operator must act.
    "AccessDeniedException": AccessDenied,
    "UnrecognizedClientException": AccessDenied,
    "InvalidSignatureException": AccessDenied,
    "ExpiredTokenException": AccessDenied,
    "IncompleteSignature": AccessDenied,
    "MissingAuthenticationToken": AccessDenied,
    "ResourceNotFoundException": ModelNotFound,
    # Capacity: wait and try again.
    "ThrottlingException": Throttled,
    "ServiceQuotaExceededException": Throttled,
    "TooManyRequestsException": Throttled,
    "ModelNotReadyException": ModelNotReady,
    "ModelTimeoutException": UpstreamTimeout,
    "ModelErrorException": UpstreamUnavailable,
    "InternalServerException": UpstreamUnavailable,
    "ServiceUnavailableException": ServiceUnavailable,
    "ModelStreamErrorException": ModelStreamFailed,
    # S3 (video results).
    "AccessDenied": AccessDenied,
    "NoSuchBucket": BotMisconfigured,
    "NoSuchKey": UpstreamUnavailable,
    "SlowDown": Throttled,
    "InternalError": UpstreamUnavailable,
}

#: In-stream exceptions (the code as upper camel case) that differ from their HTTP meaning:
#: the model had started answering, so a server failure is a stream failure.
STREAM_ERRORS_BY_CODE: Mapping[str, type[GatewayError]] = {
    "InternalServerException": ModelStreamFailed,
    "ModelErrorException": ModelStreamFailed,
}

#: Transport failures, by exception class (looked up along the MRO, most specific first).
ERRORS_BY_TYPE: Mapping[type[BaseException], type[GatewayError]] = {
    boto.ConnectTimeoutError: UpstreamTimeout,
    boto.ReadTimeoutError: UpstreamTimeout,
    aiohttp.ServerTimeoutError: UpstreamTimeout,
    asyncio.TimeoutError: UpstreamTimeout,
    boto.EndpointConnectionError: UpstreamUnavailable,
    boto.ConnectionClosedError: UpstreamUnavailable,
    boto.ResponseStreamingError: UpstreamUnavailable,
    boto.HTTPClientError: UpstreamUnavailable,
    boto.ConnectionError: UpstreamUnavailable,
    aiohttp.ClientPayloadError: UpstreamUnavailable,
    aiohttp.ServerDisconnectedError: UpstreamUnavailable,
    aiohttp.ClientConnectionError: UpstreamUnavailable,
    EventStreamParserError: ModelStreamFailed,
    boto.NoCredentialsError: AccessDenied,
    boto.PartialCredentialsError: AccessDenied,
    boto.ParamValidationError: BotMisconfigured,
}

#: Every foreign exception :func:`bedrock_errors` translates; anything else (a bug) propagates.
FOREIGN_ERRORS: tuple[type[BaseException], ...] = (
    boto.ClientError,
    boto.BotoCoreError,
    aiohttp.ClientError,
    asyncio.TimeoutError,
    EventStreamParserError,
)

#: User messages that differ from the gateway error's default.
_USER_MESSAGES: Mapping[type[GatewayError], str] = {InvalidRequest: VALIDATION_MESSAGE}


def error_for_status(status: int) -> type[GatewayError]:
    """The gateway error for an HTTP status whose error code we do not know."""
    if status == 429:
        return Throttled
    if status in (401, 403):
        return AccessDenied
    if status == 404:
        return ModelNotFound
    if status in (408, 504):
        return UpstreamTimeout
    if 400 <= status < 500:
        return InvalidRequest
    return UpstreamUnavailable


def upper_camel(code: str) -> str:
    """``throttlingException`` (event-stream member) -> ``ThrottlingException``."""
    return code[:1].upper() + code[1:]


def map_client_error(exc: boto.ClientError) -> GatewayError:
    """A ``ClientError`` / ``EventStreamError`` -> gateway error, by its code (then status)."""
    response: Mapping[str, object] = exc.response
    error = response.get("Error")
    metadata = response.get("ResponseMetadata")
    raw_code = error.get("Code") if isinstance(error, Mapping) else None
    status = metadata.get("HTTPStatusCode") if isinstance(metadata, Mapping) else None
    request_id = metadata.get("RequestId") if isinstance(metadata, Mapping) else None
    return error_for_answer(
        exc.operation_name,
        code=raw_code if isinstance(raw_code, str) else "",
        status=status if isinstance(status, int) else None,
        request_id=request_id if isinstance(request_id, str) else None,
        in_stream=isinstance(exc, boto.EventStreamError),
    )


def error_for_answer(
    operation: str,
    *,
    code: str,
    status: int | None,
    request_id: str | None,
    in_stream: bool = False,
) -> GatewayError:
    """Bedrock's error answer -> gateway error, by its code (then its HTTP status): what a
    botocore ``ClientError`` becomes, and what :mod:`fmgate.bedrock.stream_transport` raises
    for a refused ConverseStream."""
    code = upper_camel(code)
    error_type = (STREAM_ERRORS_BY_CODE.get(code) if in_stream else None) or ERRORS_BY_CODE.get(
        code
    )
    if error_type is None:
        error_type = error_for_status(status) if status is not None else UpstreamUnavailable

    where = "in stream" if in_stream else f"HTTP {status}"
    detail = f"bedrock {operation}: {code or 'unknown error code'} ({where})"
    if request_id:
        detail += f" request-id={request_id}"
    return error_type(detail, user_message=_USER_MESSAGES.get(error_type))


def map_transport_error(exc: BaseException) -> GatewayError:
    """A connection/timeout/stream-decoding failure -> gateway error, by exception type."""
    for cls in type(exc).__mro__:
        error_type = ERRORS_BY_TYPE.get(cls)
        if error_type is not None:
            return error_type(f"bedrock transport: {type(exc).__name__}")
    return UpstreamUnavailable(f"bedrock transport: {type(exc).__name__}")


def map_bedrock_error(exc: BaseException) -> GatewayError:
    """Translate any failure of a Bedrock (or S3) call into a :class:`GatewayError`.

    A ``GatewayError`` is returned as it is. Unknown exception types become a plain
    :class:`~fmgate.core.errors.UpstreamError` whose detail names the type (never its text).
    """
    if isinstance(exc, GatewayError):
        return exc
    if isinstance(exc, boto.ClientError):
        return map_client_error(exc)
    if isinstance(exc, FOREIGN_ERRORS):
        return map_transport_error(exc)
    return UpstreamError(f"bedrock: unexpected {type(exc).__name__}")


@contextmanager
def bedrock_errors() -> Iterator[None]:
    """Re-raise botocore / aiohttp failures inside the block as gateway errors (``from`` them).

    Programming errors (``TypeError``, ``KeyError``...) and cancellation pass through unchanged.
    """
    try:
        yield
    except FOREIGN_ERRORS as exc:
        raise map_bedrock_error(exc) from exc
