"""The ``concurrency_quota`` fault: Bedrock's quota on calls at once, seen by the real SDKs.

A request arriving while ``quota`` matching requests are in flight (a stream until it ends) gets
Bedrock's 429 ThrottlingException; raising or clearing the quota takes effect at once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError

from fmgate_emulator import AsyncEmulatorClient, EmulatorClient
from fmgate_emulator.content import reply_text
from tests.emulator.sdk import user

NOVA_LITE = "amazon.nova-lite-v1:0"
NOVA_LITE_PROFILE = "us.amazon.nova-lite-v1:0"
NOVA_MICRO = "amazon.nova-micro-v1:0"
THROTTLED = "Too many requests, please wait before trying again."


def assert_throttled(error: ClientError) -> None:
    response = error.response
    assert response["Error"]["Code"] == "ThrottlingException"
    assert response["Error"]["Message"] == THROTTLED
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 429
    assert response["ResponseMetadata"]["HTTPHeaders"]["x-amzn-errortype"].startswith(
        "ThrottlingException"
    )


def text_of(events: list[dict[str, Any]]) -> str:
    return "".join(
        e["contentBlockDelta"]["delta"].get("text", "") for e in events if "contentBlockDelta" in e
    )


async def until_in_progress(control: AsyncEmulatorClient, count: int) -> None:
    """Poll the emulator until ``count`` requests are in progress (it saw streams end)."""
    async with asyncio.timeout(5.0):
        while (await control.counters())["in_progress"] != count:  # noqa: ASYNC110 - HTTP
            await asyncio.sleep(0.01)


def test_a_request_beyond_the_quota_is_throttled_as_bedrock_does(
    bedrock: Any, control: EmulatorClient
) -> None:
    control.inject("stall", model_id=NOVA_LITE, count=2, after_tokens=1)  # hold two streams
    fault = control.inject("concurrency_quota", model_id=NOVA_LITE, quota=2)
    assert (fault["kind"], fault["quota"], fault["count"]) == ("concurrency_quota", 2, -1)
    held = [bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("a")]) for _ in range(2)]
    with pytest.raises(ClientError) as stream_refused:
        bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("b")])
    assert_throttled(stream_refused.value)
    with pytest.raises(ClientError) as converse_refused:  # every operation of the model
        bedrock.converse(modelId=NOVA_LITE, messages=[user("b")])
    assert_throttled(converse_refused.value)
    with pytest.raises(ClientError):  # an inference profile over the model: the same quota
        bedrock.converse(modelId=NOVA_LITE_PROFILE, messages=[user("b")])
    answer = bedrock.converse(modelId=NOVA_MICRO, messages=[user("c")])  # another model
    assert answer["output"]["message"]["content"][0]["text"] == reply_text("c", None)[0]
    counters = control.counters()
    assert counters["quota_refusals"] == 3
    assert counters["in_progress"] == 2
    assert [f["kind"] for f in control.faults()] == ["concurrency_quota"]  # stalls used up
    for response in held:
        response["stream"].close()


async def test_a_stream_holds_its_place_until_it_ends_then_the_next_one_gets_in(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    await async_control.set_timing(tokens_per_second=50)  # a few tenths of a second per answer
    await async_control.inject("concurrency_quota", model_id=NOVA_LITE, quota=1)
    prompt = "one two three four five six seven eight nine ten"
    first = await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user(prompt)])
    with pytest.raises(ClientError) as refused:
        await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user(prompt)])
    assert_throttled(refused.value)
    events = [event async for event in first["stream"]]
    assert text_of(events) == reply_text(prompt, None)[0]
    await until_in_progress(async_control, 0)
    second = await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user(prompt)])
    assert text_of([event async for event in second["stream"]]) == reply_text(prompt, None)[0]


async def test_a_closed_stream_frees_its_place(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    await async_control.inject("stall", model_id=NOVA_LITE, after_tokens=1)
    await async_control.inject("concurrency_quota", model_id=NOVA_LITE, quota=1)
    held = await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("a")])
    with pytest.raises(ClientError):
        await aio_bedrock.converse(modelId=NOVA_LITE, messages=[user("b")])
    held["stream"].close()  # the client goes away mid-answer
    await until_in_progress(async_control, 0)
    await aio_bedrock.converse(modelId=NOVA_LITE, messages=[user("b")])


async def test_raising_and_clearing_the_quota_take_effect_at_once(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    await async_control.inject("stall", model_id=NOVA_LITE, count=3, after_tokens=1)
    await async_control.inject("concurrency_quota", model_id=NOVA_LITE, quota=1)

    async def open_stream() -> Any:
        return await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("a")])

    held = [await open_stream()]
    with pytest.raises(ClientError):
        await open_stream()
    await async_control.inject("concurrency_quota", model_id=NOVA_LITE, quota=2)  # raised
    assert [f["quota"] for f in await async_control.faults() if f["quota"]] == [2]
    held.append(await open_stream())
    with pytest.raises(ClientError):
        await open_stream()
    await async_control.clear_faults()  # cleared: no quota at all
    held.append(await open_stream())
    answers = await asyncio.gather(
        *(aio_bedrock.converse(modelId=NOVA_LITE, messages=[user("x")]) for _ in range(5))
    )
    assert len(answers) == 5
    assert (await async_control.counters())["quota_refusals"] == 2
    for response in held:
        response["stream"].close()


async def test_without_a_model_id_every_model_id_has_its_own_quota(
    aio_bedrock: Any, async_control: AsyncEmulatorClient
) -> None:
    await async_control.inject("stall", model_id=NOVA_LITE, after_tokens=1)
    await async_control.inject("concurrency_quota", operation="ConverseStream", quota=1)
    held = await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("a")])
    with pytest.raises(ClientError):
        await aio_bedrock.converse_stream(modelId=NOVA_LITE, messages=[user("a")])
    other = await aio_bedrock.converse_stream(modelId=NOVA_MICRO, messages=[user("b")])
    assert text_of([event async for event in other["stream"]]) == reply_text("b", None)[0]
    profile = await aio_bedrock.converse_stream(modelId=NOVA_LITE_PROFILE, messages=[user("c")])
    assert text_of([event async for event in profile["stream"]]) == reply_text("c", None)[0]
    await aio_bedrock.converse(modelId=NOVA_LITE, messages=[user("d")])  # another operation
    held["stream"].close()


@pytest.mark.parametrize(
    "spec",
    [
        {"kind": "concurrency_quota"},
        {"kind": "concurrency_quota", "quota": -1},
        {"kind": "concurrency_quota", "quota": "5"},
        {"kind": "throttle", "quota": 3},
    ],
    ids=["missing", "negative", "not-a-number", "other-kind"],
)
def test_a_malformed_quota_is_refused(control: EmulatorClient, spec: dict[str, Any]) -> None:
    answer = httpx.post(control.url + "/_emulator/faults", json=spec)
    assert answer.status_code == 400
    assert "quota" in answer.json()["message"]
