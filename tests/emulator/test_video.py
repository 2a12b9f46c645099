"""StartAsyncInvoke -> GetAsyncInvoke -> a real MP4 in (moto) S3; ListAsyncInvokes."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from fmgate_emulator.async_jobs import sample_video
from tests.emulator.sdk import s3_client
from tests.harness.emulator import VIDEO_BUCKET
from tests.harness.polling import eventually

NOVA_REEL_INPUT = {
    "taskType": "TEXT_VIDEO",
    "textToVideoParams": {"text": "waves on a beach"},
    "videoGenerationConfig": {"durationSeconds": 6, "fps": 24, "dimension": "1280x720", "seed": 1},
}
LUMA_INPUT = {
    "prompt": "a cat",
    "aspect_ratio": "16:9",
    "loop": False,
    "duration": "5s",
    "resolution": "720p",
}


def output_config(prefix: str) -> dict[str, Any]:
    return {"s3OutputDataConfig": {"s3Uri": f"s3://{VIDEO_BUCKET}/{prefix}"}}


def wait_until_done(client: Any, arn: str) -> dict[str, Any]:
    for _ in range(200):
        job = client.get_async_invoke(invocationArn=arn)
        if job["status"] != "InProgress":
            return dict(job)
        time.sleep(0.05)
    raise AssertionError("the job never finished")


def test_nova_reel_job_writes_a_playable_mp4_to_s3(bedrock: Any, moto_url: str) -> None:
    started = bedrock.start_async_invoke(
        modelId="amazon.nova-reel-v1:1",
        modelInput=NOVA_REEL_INPUT,
        outputDataConfig=output_config("reel"),
    )
    arn = started["invocationArn"]
    assert arn.startswith("arn:aws:bedrock:us-east-1:")
    first = bedrock.get_async_invoke(invocationArn=arn)
    assert first["status"] == "InProgress"
    assert first["modelArn"].endswith("foundation-model/amazon.nova-reel-v1:1")
    done = wait_until_done(bedrock, arn)
    assert done["status"] == "Completed"
    assert done["endTime"] >= done["submitTime"]
    invocation_id = arn.rsplit("/", 1)[1]
    # GetAsyncInvoke reports the job's own output folder, where output.mp4 lives.
    output_uri = done["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
    assert output_uri == f"s3://{VIDEO_BUCKET}/reel/{invocation_id}"
    s3 = s3_client(moto_url)
    video = s3.get_object(Bucket=VIDEO_BUCKET, Key=f"reel/{invocation_id}/output.mp4")
    data = video["Body"].read()
    assert data[4:8] == b"ftyp"
    assert data == sample_video()
    manifest = json.loads(
        s3.get_object(Bucket=VIDEO_BUCKET, Key=f"reel/{invocation_id}/manifest.json")["Body"].read()
    )
    assert manifest["outputs"][0]["uri"] == (f"s3://{VIDEO_BUCKET}/reel/{invocation_id}/output.mp4")


async def finished(client: Any, arn: str) -> bool:
    """Whether the job ``arn`` is no longer in progress (aiobotocore client)."""
    return bool((await client.get_async_invoke(invocationArn=arn))["status"] != "InProgress")


async def test_luma_job_and_listing_with_aiobotocore(aio_bedrock: Any) -> None:
    started = await aio_bedrock.start_async_invoke(
        modelId="luma.ray-v2:0", modelInput=LUMA_INPUT, outputDataConfig=output_config("luma")
    )
    arn = started["invocationArn"]
    in_progress = await aio_bedrock.list_async_invokes(statusEquals="InProgress")
    assert arn in [s["invocationArn"] for s in in_progress["asyncInvokeSummaries"]]
    await eventually(lambda: finished(aio_bedrock, arn), "the Luma job finishes")
    completed = await aio_bedrock.list_async_invokes(statusEquals="Completed")
    assert arn in [s["invocationArn"] for s in completed["asyncInvokeSummaries"]]
    in_progress = await aio_bedrock.list_async_invokes(statusEquals="InProgress")
    assert arn not in [s["invocationArn"] for s in in_progress["asyncInvokeSummaries"]]


def test_listing_pages_and_idempotent_token(bedrock: Any) -> None:
    arns = [
        bedrock.start_async_invoke(
            modelId="amazon.nova-reel-v1:0",
            modelInput=NOVA_REEL_INPUT,
            outputDataConfig=output_config("paged"),
            clientRequestToken=f"token-{n}",
        )["invocationArn"]
        for n in range(3)
    ]
    again = bedrock.start_async_invoke(
        modelId="amazon.nova-reel-v1:0",
        modelInput=NOVA_REEL_INPUT,
        outputDataConfig=output_config("paged"),
        clientRequestToken="token-1",
    )
    assert again["invocationArn"] == arns[1]
    page = bedrock.list_async_invokes(maxResults=2)
    assert len(page["asyncInvokeSummaries"]) == 2
    assert "nextToken" in page
    assert page["asyncInvokeSummaries"][0]["invocationArn"] == arns[2]  # newest first
    for arn in arns:
        wait_until_done(bedrock, arn)


def test_unknown_invocation_arn_is_not_found(bedrock: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.get_async_invoke(
            invocationArn="arn:aws:bedrock:us-east-1:123456789012:async-invoke/nope"
        )
    assert excinfo.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404


def test_missing_bucket_fails_the_job(bedrock: Any) -> None:
    arn = bedrock.start_async_invoke(
        modelId="amazon.nova-reel-v1:1",
        modelInput=NOVA_REEL_INPUT,
        outputDataConfig={"s3OutputDataConfig": {"s3Uri": "s3://no-such-bucket-here/x"}},
    )["invocationArn"]
    done = wait_until_done(bedrock, arn)
    assert done["status"] == "Failed"
    assert "NoSuchBucket" in done["failureMessage"]


@pytest.mark.parametrize(
    ("model_id", "model_input"),
    [
        ("amazon.nova-reel-v1:1", {"taskType": "TEXT_VIDEO", "textToVideoParams": {}}),
        ("luma.ray-v2:0", {"aspect_ratio": "16:9"}),
        ("amazon.nova-lite-v1:0", {"prompt": "x"}),
    ],
)
def test_bad_video_requests(bedrock: Any, model_id: str, model_input: dict[str, Any]) -> None:
    with pytest.raises(ClientError) as excinfo:
        bedrock.start_async_invoke(
            modelId=model_id, modelInput=model_input, outputDataConfig=output_config("bad")
        )
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
