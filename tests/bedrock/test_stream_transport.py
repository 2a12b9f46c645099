"""fmgate's own ConverseStream request: what botocore would send, signed as botocore signs it,
authenticated the way botocore chooses, refused the way botocore's errors are mapped."""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator, Iterator

import botocore.session
import pytest
from botocore.auth import SigV4Auth as BotocoreSigV4
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials, ReadOnlyCredentials
from botocore.serialize import create_serializer

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.converse import converse_stream
from fmgate.bedrock.request_auth import (
    BEARER_TOKEN_VARIABLE,
    SigV4Signer,
    amz_date,
    canonical_uri,
)
from fmgate.bedrock.stream_transport import (
    error_code,
    request_body,
    request_path,
    signed_host,
)
from fmgate.core.errors import AccessDenied, InvalidRequest, ModelNotFound, Throttled
from fmgate.core.events import Done, accumulate
from fmgate.core.model_request import ChatMessage, ChatRequest, TextBlock
from fmgate_emulator import Emulator, EmulatorClient, EmulatorConfig
from tests.harness.credentials import TEST_ACCESS_KEY_ID, TEST_SECRET_ACCESS_KEY

NOVA = "amazon.nova-lite-v1:0"
REGION = "us-east-1"
PROFILE_ARN = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.amazon.nova-lite-v1:0"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYGD4DwABBAEAwS2OUAAAAABJRU5ErkJggg=="
)
BODY: dict[str, object] = {
    "modelId": PROFILE_ARN,
    "messages": [
        {
            "role": "user",
            "content": [
                {"text": "What is in this picture?"},
                {"image": {"format": "png", "source": {"bytes": PNG}}},
            ],
        }
    ],
    "system": [{"text": "Be brief."}],
    "inferenceConfig": {"maxTokens": 100, "temperature": 0.5},
    "additionalModelRequestFields": {"top_k": 5},
}


def botocore_request(body: dict[str, object]) -> dict[str, object]:
    """What botocore's rest-json serializer makes of ``converse_stream(**body)``."""
    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    serialized: dict[str, object] = create_serializer("rest-json").serialize_to_request(
        body, model.operation_model("ConverseStream")
    )
    return serialized


def ask(text: str) -> ChatRequest:
    return ChatRequest(model_id=NOVA, messages=(ChatMessage("user", (TextBlock(text),)),))


def test_the_path_and_body_are_botocores() -> None:
    expected = botocore_request(BODY)

    assert request_path(PROFILE_ARN) == expected["url_path"]
    assert isinstance(expected["body"], bytes)
    assert json.loads(request_body(BODY)) == json.loads(expected["body"])


@pytest.mark.parametrize("token", [None, "session-token"])
@pytest.mark.parametrize("model_id", [NOVA, PROFILE_ARN])
def test_the_signature_is_botocores(token: str | None, model_id: str) -> None:
    now = 1_764_590_400.0  # 2025-12-01T12:00:00Z
    host = "bedrock-runtime.us-east-1.amazonaws.com"
    path = request_path(model_id)
    body = request_body({**BODY, "modelId": model_id})
    ours = SigV4Signer(REGION).sign(
        ReadOnlyCredentials("AKIDEXAMPLE", "secret", token), host, path, body, now
    )

    aws_request = AWSRequest(
        method="POST",
        url=f"https://{host}{path}",
        headers={k: v for k, v in ours.items() if k != "authorization"},
        data=body,
    )
    aws_request.context["timestamp"] = amz_date(now)
    signer = BotocoreSigV4(Credentials("AKIDEXAMPLE", "secret", token), "bedrock", REGION)
    canonical = signer.canonical_request(aws_request)
    signature = signer.signature(signer.string_to_sign(aws_request, canonical), aws_request)

    assert ours["authorization"].endswith(f"Signature={signature}")
    assert f"Credential=AKIDEXAMPLE/20251201/{REGION}/bedrock/aws4_request" in ours["authorization"]
    assert ("x-amz-security-token" in ours) == (token is not None)


def test_the_signing_key_is_derived_once_a_day() -> None:
    signer = SigV4Signer(REGION)
    creds = ReadOnlyCredentials("AKIDEXAMPLE", "secret", None)
    day_one = 1_764_590_400.0
    first = signer.sign(creds, "h", "/p", b"{}", day_one)
    cached = signer._cached_key
    signer.sign(creds, "h", "/p", b"{}", day_one + 3600)
    assert signer._cached_key is cached
    second_day = signer.sign(creds, "h", "/p", b"{}", day_one + 86_400)
    assert signer._cached_key is not cached
    assert first["authorization"] != second_day["authorization"]


def test_the_canonical_uri_encodes_the_path_once_more() -> None:
    assert canonical_uri("/model/amazon.nova-lite-v1%3A0/converse-stream") == (
        "/model/amazon.nova-lite-v1%253A0/converse-stream"
    )


@pytest.mark.parametrize(
    ("url", "host"),
    [
        (
            "https://bedrock-runtime.us-east-1.amazonaws.com",
            "bedrock-runtime.us-east-1.amazonaws.com",
        ),
        ("https://vpce.example:443/", "vpce.example"),
        ("http://127.0.0.1:8900", "127.0.0.1:8900"),
        ("http://[::1]:8900", "[::1]:8900"),
        ("http://localhost:80", "localhost"),
    ],
)
def test_the_host_carries_only_a_port_that_is_not_the_default(url: str, host: str) -> None:
    assert signed_host(url) == host


def test_the_error_code_is_read_as_botocore_reads_it() -> None:
    header = {"x-amzn-ErrorType": "ThrottlingException:http://internal.amazon.com/coral/"}
    assert error_code(header, b"") == "ThrottlingException"
    assert error_code({}, b'{"__type": "com.amazon#ValidationException"}') == "ValidationException"
    assert error_code({}, b'{"code": "AccessDeniedException"}') == "AccessDeniedException"
    assert error_code({}, b"<html>proxy error</html>") == ""


async def test_the_endpoint_is_the_one_botocore_resolved() -> None:
    pool = BedrockClients(access_key_id="AKIDEXAMPLE", secret_access_key="secret")
    try:
        transport = await pool.streams("eu-west-3")
        client = await pool.get("eu-west-3")
        assert transport.endpoint_url == client.meta.endpoint_url
        assert transport.endpoint_url == "https://bedrock-runtime.eu-west-3.amazonaws.com"
    finally:
        await pool.aclose()


@pytest.mark.parametrize(
    ("kind", "expected"),
    [("throttle", Throttled), ("access_denied", AccessDenied), ("validation", InvalidRequest)],
)
async def test_a_refusal_is_the_gateway_error_of_its_code(
    clients: BedrockClients, control: EmulatorClient, kind: str, expected: type[Exception]
) -> None:
    control.inject(kind, model_id=NOVA)

    with pytest.raises(expected) as caught:
        async for _ in converse_stream(await clients.streams(REGION), ask("hi")):
            pass

    assert "HTTP 4" in str(caught.value)


async def test_an_unknown_model_is_refused_by_bedrock(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    """No client-side validation any more: Bedrock's own answer decides (ValidationException for
    an id it does not know, ResourceNotFound for an ARN it cannot find)."""
    request = ChatRequest(
        model_id="amazon.no-such-model-v9:0", messages=(ChatMessage("user", (TextBlock("hi"),)),)
    )
    with pytest.raises((InvalidRequest, ModelNotFound)):
        async for _ in converse_stream(await clients.streams(REGION), request):
            pass


@pytest.fixture
def bearer_emulator() -> Iterator[Emulator]:
    config = EmulatorConfig(
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
        bearer_token="bedrock-api-key-for-tests",
        profile="fast",
    )
    with Emulator.running(config) as emulator:
        yield emulator


@pytest.fixture
async def default_chain_clients(
    bearer_emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[BedrockClients]:
    """Clients without explicit credentials: botocore's choice between a bearer key and the
    default chain (here: the environment's keys)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", TEST_ACCESS_KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", TEST_SECRET_ACCESS_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    pool = BedrockClients(endpoint_url=bearer_emulator.url)
    try:
        yield pool
    finally:
        await pool.aclose()


async def test_a_bedrock_api_key_in_the_environment_is_sent_as_bearer(
    monkeypatch: pytest.MonkeyPatch, bearer_emulator: Emulator
) -> None:
    monkeypatch.setenv(BEARER_TOKEN_VARIABLE, "bedrock-api-key-for-tests")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    pool = BedrockClients(endpoint_url=bearer_emulator.url)
    try:
        events = [e async for e in converse_stream(await pool.streams(REGION), ask("hi"))]
    finally:
        await pool.aclose()
    assert isinstance(events[-1], Done)
    assert accumulate(events).text


async def test_a_wrong_bedrock_api_key_is_access_denied(
    monkeypatch: pytest.MonkeyPatch, bearer_emulator: Emulator
) -> None:
    monkeypatch.setenv(BEARER_TOKEN_VARIABLE, "not-the-key")
    pool = BedrockClients(endpoint_url=bearer_emulator.url)
    try:
        with pytest.raises(AccessDenied) as caught:
            async for _ in converse_stream(await pool.streams(REGION), ask("hi")):
                pass
    finally:
        await pool.aclose()
    assert "not-the-key" not in str(caught.value)


async def test_explicit_credentials_win_over_a_bedrock_api_key(
    monkeypatch: pytest.MonkeyPatch, bearer_emulator: Emulator
) -> None:
    monkeypatch.setenv(BEARER_TOKEN_VARIABLE, "not-the-key")
    pool = BedrockClients(
        endpoint_url=bearer_emulator.url,
        access_key_id=TEST_ACCESS_KEY_ID,
        secret_access_key=TEST_SECRET_ACCESS_KEY,
    )
    try:
        events = [e async for e in converse_stream(await pool.streams(REGION), ask("hi"))]
    finally:
        await pool.aclose()
    assert isinstance(events[-1], Done)


async def test_the_default_chain_signs_without_a_bedrock_api_key(
    monkeypatch: pytest.MonkeyPatch, default_chain_clients: BedrockClients
) -> None:
    monkeypatch.delenv(BEARER_TOKEN_VARIABLE, raising=False)
    events = [
        e async for e in converse_stream(await default_chain_clients.streams(REGION), ask("hi"))
    ]
    assert isinstance(events[-1], Done)


async def test_no_credentials_at_all_is_access_denied(
    monkeypatch: pytest.MonkeyPatch, bearer_emulator: Emulator, tmp_path: object
) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        BEARER_TOKEN_VARIABLE,
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path) + "/none")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path) + "/none")
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", raising=False)
    monkeypatch.delenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", raising=False)
    monkeypatch.delenv("AWS_WEB_IDENTITY_TOKEN_FILE", raising=False)
    pool = BedrockClients(endpoint_url=bearer_emulator.url)
    try:
        with pytest.raises(AccessDenied):
            async for _ in converse_stream(await pool.streams(REGION), ask("hi")):
                pass
    finally:
        await pool.aclose()
