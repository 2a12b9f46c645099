"""Fault injection and counters through the control API, seen by SDK clients with retries."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from fmgate_emulator import AsyncEmulatorClient, EmulatorClient
from fmgate_emulator.content import reply_text
from tests.emulator.sdk import STANDARD_RETRIES, user

NOVA_LITE = "amazon.nova-lite-v1:0"
NOVA_MICRO = "amazon.nova-micro-v1:0"


def ask(client: Any, model_id: str = NOVA_LITE) -> dict[str, Any]:
    return dict(client.converse(modelId=model_id, messages=[user("hello")]))


def test_throttling_is_retried_by_the_sdk_and_counted(
    make_bedrock: Any, control: EmulatorClient
) -> None:
    control.inject("throttle", count=-1)
    with pytest.raises(ClientError) as excinfo:
        ask(make_bedrock(STANDARD_RETRIES))
    assert excinfo.value.response["Error"]["Code"] == "ThrottlingException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 429
    # botocore's ``max_attempts`` counts retries: the first try plus 3 retries reached us.
    assert excinfo.value.response["ResponseMetadata"]["RetryAttempts"] == 3
    counters = control.counters()
    assert counters["total"] == 4
    assert counters["by_model"] == {NOVA_LITE: 4}
    assert counters["by_operation"] == {"Converse": 4}


def test_throttle_for_n_requests_then_success(make_bedrock: Any, control: EmulatorClient) -> None:
    control.inject("throttle", count=2)
    response = ask(make_bedrock(STANDARD_RETRIES))
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    assert control.counters()["total"] == 3
    assert control.faults() == []


@pytest.mark.parametrize(
    ("kind", "code", "status"),
    [
        ("throttle", "ThrottlingException", 429),
        ("server_error", "InternalServerException", 500),
        ("unavailable", "ServiceUnavailableException", 503),
        ("model_not_ready", "ModelNotReadyException", 429),
        ("model_timeout", "ModelTimeoutException", 408),
        ("access_denied", "AccessDeniedException", 403),
        ("validation", "ValidationException", 400),
    ],
)
def test_error_faults_answer_as_bedrock_does(
    bedrock: Any, control: EmulatorClient, kind: str, code: str, status: int
) -> None:
    control.inject(kind)
    with pytest.raises(ClientError) as excinfo:
        ask(bedrock)
    error = excinfo.value.response
    assert (error["Error"]["Code"], error["ResponseMetadata"]["HTTPStatusCode"]) == (code, status)
    assert error["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(code)
    assert error["Error"]["Message"]
    ask(bedrock)  # count=1: only the next request failed


def test_faults_target_a_model_and_an_operation(bedrock: Any, control: EmulatorClient) -> None:
    control.inject("server_error", model_id=NOVA_MICRO, operation="Converse", count=-1)
    ask(bedrock, NOVA_LITE)  # other model: unaffected
    events = list(bedrock.converse_stream(modelId=NOVA_MICRO, messages=[user("x")])["stream"])
    assert "metadata" in events[-1]  # other operation: unaffected
    with pytest.raises(ClientError):
        ask(bedrock, NOVA_MICRO)
    with pytest.raises(ClientError):
        ask(bedrock, NOVA_MICRO)  # -1: until cleared
    control.clear_faults()
    ask(bedrock, NOVA_MICRO)


def test_profile_id_fault_matches_its_base_model(bedrock: Any, control: EmulatorClient) -> None:
    control.inject("throttle", model_id="anthropic.claude-sonnet-4-20250514-v1:0")
    with pytest.raises(ClientError):
        ask(bedrock, "us.anthropic.claude-sonnet-4-20250514-v1:0")


async def test_async_control_client_and_reset(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    fault = await async_control.inject("unavailable", count=5)
    assert fault["kind"] == "unavailable"
    assert fault["count"] == 5
    with pytest.raises(ClientError):
        await aio_bedrock.converse(modelId=NOVA_LITE, messages=[user("x")])
    assert (await async_control.counters())["total"] == 1
    [record] = await async_control.requests()
    assert record["operation"] == "Converse"
    assert record["body"]["messages"] == [user("x")]
    assert "Authorization" not in record["headers"]
    await async_control.reset()
    assert await async_control.faults() == []
    assert await async_control.counters() == {
        "total": 0,
        "in_progress": 0,
        "quota_refusals": 0,
        "by_model": {},
        "by_operation": {},
    }
    assert await async_control.requests() == []


def test_requests_filter_by_model(bedrock: Any, control: EmulatorClient) -> None:
    ask(bedrock, NOVA_LITE)
    ask(bedrock, NOVA_MICRO)
    assert [r["model_id"] for r in control.requests(model_id=NOVA_MICRO)] == [NOVA_MICRO]
    assert len(control.requests()) == 2


def test_invalid_fault_is_refused(control: EmulatorClient) -> None:
    with pytest.raises(httpx.HTTPStatusError) as excinfo:
        control.inject("meteor_strike")
    assert excinfo.value.response.status_code == 400
    with pytest.raises(httpx.HTTPStatusError):
        control.inject("mid_stream_exception", exception="noSuchException")


def test_timing_is_set_and_reset_restores_the_profile(control: EmulatorClient) -> None:
    control.set_timing(ttft_ms=5, tokens_per_second=1000)
    timing = httpx.get(control.url + "/_emulator/timing").json()
    assert timing == {
        "ttft_ms": 5.0,
        "tokens_per_second": 1000.0,
        "uncached_tokens_per_second": None,
    }
    control.reset()
    timing = httpx.get(control.url + "/_emulator/timing").json()
    assert timing == {"ttft_ms": 0.0, "tokens_per_second": None, "uncached_tokens_per_second": None}


def test_control_catalogue_lists_models(control: EmulatorClient) -> None:
    models = httpx.get(control.url + "/_emulator/models").json()
    by_id = {m["model_id"]: m for m in models}
    assert by_id["deepseek.r1-v1:0"]["reasoning"] == "always"
    assert by_id["amazon.nova-canvas-v1:0"]["modality"] == "image"
    assert by_id["anthropic.claude-sonnet-4-5-20250929-v1:0"]["citations"] is True
    assert by_id["amazon.nova-pro-v1:0"]["citations"] is False
    assert reply_text("x", None)[0].startswith("Echo: x")


def test_unknown_path_is_an_unknown_operation(control: EmulatorClient) -> None:
    answer = httpx.post(control.url + "/model/amazon.nova-lite-v1%3A0/teleport", json={})
    assert answer.status_code == 404
    assert answer.headers["x-amzn-ErrorType"].startswith("UnknownOperationException")
    assert control.counters()["total"] == 0
