"""map_bedrock_error: botocore error codes and transport exception types -> gateway errors."""

from __future__ import annotations

import aiohttp
import pytest
from botocore.eventstream import ChecksumMismatch
from botocore.exceptions import (
    ClientError,
    ConnectTimeoutError,
    EndpointConnectionError,
    EventStreamError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from fmgate.bedrock.errors import bedrock_errors, map_bedrock_error
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
    UpstreamTimeout,
    UpstreamUnavailable,
)

LEAKY_MESSAGE = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/secret-thing is bad"


def client_error(code: str, status: int, operation: str = "ConverseStream") -> ClientError:
    return ClientError(
        {
            "Error": {"Code": code, "Message": LEAKY_MESSAGE},
            "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "req-123"},
        },
        operation,
    )


def stream_error(code: str) -> EventStreamError:
    return EventStreamError({"Error": {"Code": code, "Message": LEAKY_MESSAGE}}, "ConverseStream")


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("ValidationException", 400, InvalidRequest),
        ("AccessDeniedException", 403, AccessDenied),
        ("UnrecognizedClientException", 403, AccessDenied),
        ("ExpiredTokenException", 403, AccessDenied),
        ("ResourceNotFoundException", 404, ModelNotFound),
        ("ModelTimeoutException", 408, UpstreamTimeout),
        ("ModelErrorException", 424, UpstreamUnavailable),
        ("ThrottlingException", 429, Throttled),
        ("ModelNotReadyException", 429, ModelNotReady),
        ("ServiceQuotaExceededException", 400, Throttled),
        ("InternalServerException", 500, UpstreamUnavailable),
        ("ServiceUnavailableException", 503, ServiceUnavailable),
        ("NoSuchBucket", 404, BotMisconfigured),
    ],
)
def test_http_error_codes(code: str, status: int, expected: type[GatewayError]) -> None:
    error = map_bedrock_error(client_error(code, status))

    assert type(error) is expected
    assert code in error.detail
    assert f"HTTP {status}" in error.detail
    assert "req-123" in error.detail


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("throttlingException", Throttled),
        ("modelStreamErrorException", ModelStreamFailed),
        ("internalServerException", ModelStreamFailed),
        ("serviceUnavailableException", ServiceUnavailable),
        ("validationException", InvalidRequest),
    ],
)
def test_in_stream_exception_codes(code: str, expected: type[GatewayError]) -> None:
    error = map_bedrock_error(stream_error(code))

    assert type(error) is expected
    assert "in stream" in error.detail


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (429, Throttled),
        (403, AccessDenied),
        (404, ModelNotFound),
        (418, InvalidRequest),
        (502, UpstreamUnavailable),
    ],
)
def test_unknown_codes_fall_back_to_the_status(status: int, expected: type[GatewayError]) -> None:
    assert type(map_bedrock_error(client_error("SomethingNewException", status))) is expected


@pytest.mark.parametrize(
    ("exc", "expected"),
    [
        (EndpointConnectionError(endpoint_url="http://127.0.0.1:1"), UpstreamUnavailable),
        (ConnectTimeoutError(endpoint_url="http://127.0.0.1:1"), UpstreamTimeout),
        (ReadTimeoutError(endpoint_url="http://127.0.0.1:1"), UpstreamTimeout),
        (aiohttp.ClientPayloadError("cut"), UpstreamUnavailable),
        (aiohttp.ServerDisconnectedError(), UpstreamUnavailable),
        (aiohttp.ServerTimeoutError(), UpstreamTimeout),
        (ChecksumMismatch(1, 2), ModelStreamFailed),
        (NoCredentialsError(), AccessDenied),
        (ParamValidationError(report="bad"), BotMisconfigured),
    ],
)
def test_transport_errors_by_type(exc: Exception, expected: type[GatewayError]) -> None:
    assert type(map_bedrock_error(exc)) is expected


def test_user_messages_never_carry_bedrock_text() -> None:
    for exc in (client_error("ValidationException", 400), stream_error("throttlingException")):
        error = map_bedrock_error(exc)
        assert "arn:" not in error.user_message
        assert "123456789012" not in error.user_message
        assert "123456789012" not in error.detail
        assert "123456789012" not in str(error)


def test_validation_message_names_the_likely_causes() -> None:
    assert "too long" in map_bedrock_error(client_error("ValidationException", 400)).user_message


def test_bedrock_errors_raises_from_the_original() -> None:
    original = client_error("ThrottlingException", 429)

    with pytest.raises(Throttled) as caught, bedrock_errors():
        raise original

    assert caught.value.__cause__ is original


def test_bedrock_errors_lets_programming_errors_through() -> None:
    with pytest.raises(KeyError), bedrock_errors():
        raise KeyError("bug")


def test_gateway_errors_pass_unchanged() -> None:
    error = Throttled("already ours")
    assert map_bedrock_error(error) is error
