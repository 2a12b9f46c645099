"""Images (InvokeModel) and video (StartAsyncInvoke -> S3) against the emulator and moto S3."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.images import generate_images
from fmgate.bedrock.video import VideoFailed, fetch_video, start_video, wait_for_video
from fmgate.config.media import ImageFamily, VideoFamily
from fmgate.core.errors import Throttled, UpstreamTimeout
from fmgate.core.model_request import ImageRequest, VideoRequest
from fmgate_emulator import EmulatorClient
from tests.harness.emulator import REGION, VIDEO_BUCKET

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("model_id", "family"),
    [
        ("amazon.titan-image-generator-v2:0", "titan-image"),
        ("amazon.nova-canvas-v1:0", "nova-canvas"),
    ],
)
async def test_canvas_families_make_real_pngs(
    clients: BedrockClients, control: EmulatorClient, model_id: str, family: ImageFamily
) -> None:
    req = ImageRequest(model_id=model_id, prompt="a lighthouse", width=512, height=384, count=2)

    media = await generate_images(await clients.get(REGION), req, family)

    assert [m.name for m in media] == ["image-1.png", "image-2.png"]
    for m in media:
        assert m.content_type == "image/png"
        assert m.data.startswith(PNG_MAGIC)
        assert Image.open(io.BytesIO(m.data)).size == (512, 384)
    [recorded] = control.requests(model_id=model_id)
    assert recorded["body"]["imageGenerationConfig"]["numberOfImages"] == 2
    assert recorded["body"]["textToImageParams"] == {"text": "a lighthouse"}


async def test_stability_makes_one_call_per_image(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    model_id = "stability.sd3-5-large-v1:0"
    req = ImageRequest(model_id=model_id, prompt="a fox", aspect_ratio="16:9", seed=5, count=2)

    media = await generate_images(await clients.get(REGION), req, "stability")

    assert [m.name for m in media] == ["image-1.png", "image-2.png"]
    assert all(m.data.startswith(PNG_MAGIC) for m in media)
    seeds = sorted(r["body"]["seed"] for r in control.requests(model_id=model_id))
    assert seeds == [5, 6]


async def test_image_throttling_is_a_gateway_error(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    model_id = "amazon.titan-image-generator-v2:0"
    control.inject("throttle", model_id=model_id)

    with pytest.raises(Throttled):
        await generate_images(
            await clients.get(REGION), ImageRequest(model_id=model_id, prompt="x"), "titan-image"
        )


@pytest.mark.parametrize(
    ("model_id", "family"), [("amazon.nova-reel-v1:1", "nova-reel"), ("luma.ray-v2:0", "luma-ray")]
)
async def test_video_is_generated_to_s3_and_fetched(
    clients: BedrockClients, control: EmulatorClient, model_id: str, family: VideoFamily
) -> None:
    req = VideoRequest(
        model_id=model_id,
        prompt="waves at dusk",
        output_s3_uri=f"s3://{VIDEO_BUCKET}/jobs",
        duration_seconds=6 if family == "nova-reel" else 5,
    )
    client = await clients.get(REGION)
    progress: list[tuple[str, float]] = []

    async def on_progress(status: str, elapsed: float) -> None:
        progress.append((status, elapsed))

    token = f"req-video-{family}"  # one per job: Bedrock dedupes by token
    arn = await start_video(client, req, family, client_token=token)
    uri = await wait_for_video(
        client, arn, poll_interval=0.05, timeout=30.0, on_progress=on_progress
    )
    data = await fetch_video(await clients.s3(REGION), uri)

    assert data[4:8] == b"ftyp"  # an MP4 file
    assert uri.startswith(f"s3://{VIDEO_BUCKET}/jobs")
    assert progress
    assert all(status == "InProgress" for status, _ in progress)
    assert [e for _, e in progress] == sorted(e for _, e in progress)
    [recorded] = [r for r in control.requests(model_id=model_id) if "modelInput" in r["body"]]
    assert recorded["body"]["clientRequestToken"] == token


async def test_video_wait_times_out(clients: BedrockClients, control: EmulatorClient) -> None:
    req = VideoRequest(
        model_id="amazon.nova-reel-v1:1",
        prompt="slow",
        output_s3_uri=f"s3://{VIDEO_BUCKET}/slow",
    )
    client = await clients.get(REGION)
    arn = await start_video(client, req, "nova-reel", client_token="req-video-slow")

    async def ignore(status: str, elapsed: float) -> None:
        pass

    with pytest.raises(UpstreamTimeout):
        await wait_for_video(client, arn, poll_interval=0.01, timeout=0.02, on_progress=ignore)


def test_video_failed_is_an_upstream_error_with_our_words() -> None:
    error = VideoFailed("bedrock async invoke Failed")
    assert error.retryable
    assert "could not be generated" in error.user_message


async def test_video_polling_rides_out_throttling(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    req = VideoRequest(
        model_id="amazon.nova-reel-v1:1", prompt="calm sea", output_s3_uri=f"s3://{VIDEO_BUCKET}/t"
    )
    client = await clients.get(REGION)
    arn = await start_video(client, req, "nova-reel", client_token="req-video-throttled-poll")
    control.inject("throttle", operation="GetAsyncInvoke", count=2)
    statuses: list[str] = []

    async def on_progress(status: str, elapsed: float) -> None:
        statuses.append(status)

    uri = await wait_for_video(
        client, arn, poll_interval=0.05, timeout=30.0, on_progress=on_progress
    )

    assert uri.startswith(f"s3://{VIDEO_BUCKET}/t")
    assert statuses[:2] == ["poll failed (throttled)", "poll failed (throttled)"]


async def test_failed_video_job_is_video_failed(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    req = VideoRequest(
        model_id="amazon.nova-reel-v1:1",
        prompt="nowhere to go",
        output_s3_uri="s3://fmgate-no-such-bucket/x",
    )
    client = await clients.get(REGION)
    arn = await start_video(client, req, "nova-reel", client_token="req-video-no-bucket")

    async def ignore(status: str, elapsed: float) -> None:
        pass

    with pytest.raises(VideoFailed) as caught:
        await wait_for_video(client, arn, poll_interval=0.05, timeout=30.0, on_progress=ignore)

    assert "fmgate-no-such-bucket" not in caught.value.user_message
