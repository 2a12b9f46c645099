"""SigV4 verification and bearer tokens, unit and over the wire."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from fmgate_emulator import Emulator, EmulatorConfig
from fmgate_emulator.errors import BedrockError
from fmgate_emulator.sigv4 import Credentials4, SignedRequest, verify
from tests.emulator.sdk import NO_RETRIES, user
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY
from tests.harness.emulator import REGION

ACCEPTED = Credentials4(TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY, bearer_token="bedrock-api-key")
PATH = (
    "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A%3Afoundation-model%2Famazon.nova-lite-v1%3A0"
    "/converse"
)


def signed(secret: str = TEST_SECRET_ACCESS_KEY, service: str = "bedrock") -> SignedRequest:
    request = AWSRequest(
        method="POST",
        url="http://127.0.0.1:9/" + PATH.lstrip("/"),
        data=b'{"messages": []}',
        headers={"Content-Type": "application/json"},
    )
    SigV4Auth(Credentials(TEST_ACCESS_KEY_ID, secret), service, REGION).add_auth(request)
    return SignedRequest(
        method="POST",
        host_url="http://127.0.0.1:9",
        raw_path=PATH,
        headers={**dict(request.headers.items()), "host": "127.0.0.1:9"},
        body=b'{"messages": []}',
    )


def code_of(request: SignedRequest, now: datetime | None = None) -> str:
    with pytest.raises(BedrockError) as excinfo:
        verify(request, ACCEPTED, now)
    assert excinfo.value.status == 403
    return excinfo.value.code


def test_botocore_signature_over_the_encoded_path_verifies() -> None:
    principal = verify(signed(), ACCEPTED)
    assert principal.key == ACCEPTED.access_key_id  # whose prompt cache the call uses


def test_wrong_secret_wrong_service_tampered_body_are_refused() -> None:
    assert code_of(signed(secret="wrong")) == "AccessDeniedException"
    assert code_of(signed(service="s3")) == "AccessDeniedException"
    request = signed()
    tampered = SignedRequest(
        request.method, request.host_url, request.raw_path, request.headers, b'{"messages": [1]}'
    )
    assert code_of(tampered) == "AccessDeniedException"


def test_clock_skew_is_refused() -> None:
    assert code_of(signed(), datetime.now(UTC) + timedelta(minutes=6)) == (
        "InvalidSignatureException"
    )
    verify(signed(), ACCEPTED, datetime.now(UTC) + timedelta(minutes=4))


def test_bearer_tokens() -> None:
    def bearer(token: str) -> SignedRequest:
        return SignedRequest("POST", "http://h", PATH, {"Authorization": f"Bearer {token}"}, b"")

    principal = verify(bearer("bedrock-api-key"), ACCEPTED, default_region="eu-west-1")
    assert principal.key.startswith("bearer:")
    assert "bedrock-api-key" not in principal.key
    assert principal.region == "eu-west-1"
    assert code_of(bearer("other-key")) == "AccessDeniedException"


def test_wrong_secret_over_the_wire_is_403(make_bedrock: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        make_bedrock(secret="not-the-secret").converse(
            modelId="amazon.nova-lite-v1:0", messages=[user("hi")]
        )
    response = excinfo.value.response
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 403
    assert response["Error"]["Code"] == "AccessDeniedException"
    assert TEST_SECRET_ACCESS_KEY not in str(response)


def test_unknown_access_key_and_missing_authorization(
    make_bedrock: Any, emulator: Emulator
) -> None:
    with pytest.raises(ClientError) as excinfo:
        make_bedrock(access_key_id="AKIDSOMEONEELSE").converse(
            modelId="amazon.nova-lite-v1:0", messages=[user("hi")]
        )
    assert excinfo.value.response["Error"]["Code"] == "UnrecognizedClientException"
    answer = httpx.post(emulator.url + "/model/amazon.nova-lite-v1%3A0/converse", json={})
    assert answer.status_code == 403
    assert answer.headers["x-amzn-ErrorType"].startswith("AccessDeniedException")
    assert answer.json() == {"message": "Missing Authentication Token"}


def test_sdk_bearer_token_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    config = EmulatorConfig(bearer_token="bedrock-api-key-123")
    monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "bedrock-api-key-123")
    with Emulator.running(config) as emu:
        client = boto3.client(
            "bedrock-runtime", endpoint_url=emu.url, region_name=REGION, config=NO_RETRIES
        )
        response = client.converse(modelId="amazon.nova-lite-v1:0", messages=[user("hi")])
        assert response["stopReason"] == "end_turn"
        monkeypatch.setenv("AWS_BEARER_TOKEN_BEDROCK", "a-wrong-key")
        client = boto3.client(
            "bedrock-runtime", endpoint_url=emu.url, region_name=REGION, config=NO_RETRIES
        )
        with pytest.raises(ClientError) as excinfo:
            client.converse(modelId="amazon.nova-lite-v1:0", messages=[user("hi")])
        assert excinfo.value.response["Error"]["Code"] == "AccessDeniedException"
