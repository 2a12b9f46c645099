"""Video generation: StartAsyncInvoke to S3, poll GetAsyncInvoke, then read the MP4 from S3.

Families (declared per bot as ``video.family``): ``nova-reel`` (``TEXT_VIDEO`` task) and
``luma-ray``. Bedrock writes the result to ``<s3Uri>/output.mp4``, where ``s3Uri`` is the
output location GetAsyncInvoke reports for the finished job.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections.abc import Awaitable, Callable, Mapping

from fmgate.bedrock.client import BedrockRuntimeClient, S3Client
from fmgate.bedrock.errors import bedrock_errors
from fmgate.bedrock.readers import UnexpectedShape, field, optional_text, text
from fmgate.config.media import VideoFamily
from fmgate.core.errors import BotMisconfigured, GatewayError, UpstreamError, UpstreamTimeout
from fmgate.core.model_request import VideoRequest
from fmgate.observability.overhead import upstream_call

#: Called while waiting: (job status, seconds since waiting began).
ProgressListener = Callable[[str, float], Awaitable[None]]

#: The object Bedrock writes under a job's output location.
OUTPUT_OBJECT = "output.mp4"

#: Polls slow down by this factor each time, up to ``MAX_POLL_FACTOR`` x ``poll_interval``.
POLL_BACKOFF = 1.5
MAX_POLL_FACTOR = 4.0

#: clientRequestToken's pattern at Bedrock (letters, digits, single inner hyphens; <= 256).
_CLIENT_TOKEN = re.compile(r"[a-zA-Z0-9](-*[a-zA-Z0-9]){0,255}")
_S3_URI = re.compile(r"s3://(?P<bucket>[^/]+)/?(?P<prefix>.*)")


class VideoFailed(UpstreamError):
    """Bedrock reported the video job as Failed (it gives a message, never a failure code)."""

    code = "video_failed"
    default_message = "The video could not be generated. Please try again or change the prompt."


# ---------------------------------------------------------------------------------------------
# Request bodies


def build_nova_reel_input(req: VideoRequest) -> dict[str, object]:
    config: dict[str, object] = {
        "durationSeconds": req.duration_seconds,
        "fps": req.fps,
        "dimension": req.dimension,
    }
    if req.seed is not None:
        config["seed"] = req.seed
    return {
        "taskType": "TEXT_VIDEO",
        "textToVideoParams": {"text": req.prompt},
        "videoGenerationConfig": config,
    }


def build_luma_ray_input(req: VideoRequest) -> dict[str, object]:
    return {
        "prompt": req.prompt,
        "aspect_ratio": req.aspect_ratio,
        "loop": req.loop,
        "duration": f"{req.duration_seconds}s",
        "resolution": req.resolution,
    }


VIDEO_INPUT_BUILDERS: Mapping[VideoFamily, Callable[[VideoRequest], dict[str, object]]] = {
    "nova-reel": build_nova_reel_input,
    "luma-ray": build_luma_ray_input,
}


def build_video_input(req: VideoRequest, family: VideoFamily) -> dict[str, object]:
    """The ``modelInput`` of StartAsyncInvoke for ``req`` in ``family``'s format."""
    return VIDEO_INPUT_BUILDERS[family](req)


def build_client_token(value: str) -> str:
    """An idempotency token Bedrock accepts: ``value`` itself when it fits the pattern, else a
    digest of it (the same request id always gives the same token)."""
    if _CLIENT_TOKEN.fullmatch(value):
        return value
    return hashlib.sha256(value.encode()).hexdigest()


def build_start_request(
    req: VideoRequest, family: VideoFamily, client_token: str
) -> dict[str, object]:
    """The keyword arguments of ``start_async_invoke``."""
    return {
        "modelId": req.model_id,
        "modelInput": build_video_input(req, family),
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": req.output_s3_uri}},
        "clientRequestToken": build_client_token(client_token),
    }


# ---------------------------------------------------------------------------------------------
# Calls


async def start_video(
    client: BedrockRuntimeClient, req: VideoRequest, family: VideoFamily, client_token: str
) -> str:
    """Start the job; its invocation ARN."""
    body = build_start_request(req, family, client_token)
    with bedrock_errors(), upstream_call():
        response = await client.start_async_invoke(**body)
    return text(response, "invocationArn")


def next_poll_delay(delay: float, poll_interval: float) -> float:
    return min(delay * POLL_BACKOFF, poll_interval * MAX_POLL_FACTOR)


async def poll_video(client: BedrockRuntimeClient, arn: str) -> tuple[str, str | None]:
    """One GetAsyncInvoke: (status, output s3 uri once Completed)."""
    with bedrock_errors(), upstream_call():
        response = await client.get_async_invoke(invocationArn=arn)
    status = text(response, "status")
    if status == "Failed":
        raise VideoFailed("bedrock async invoke Failed")
    if status != "Completed":
        return status, None
    uri = optional_text(field(field(response, "outputDataConfig"), "s3OutputDataConfig"), "s3Uri")
    if not uri:
        raise UnexpectedShape("Completed async invoke without an output s3Uri")
    return status, uri


async def wait_for_video(
    client: BedrockRuntimeClient,
    arn: str,
    *,
    poll_interval: float,
    timeout: float,  # noqa: ASYNC109 (the job's deadline, polled against; not a call timeout)
    on_progress: ProgressListener,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> str:
    """Poll until the job is done; the S3 uri of its output folder.

    Polls start every ``poll_interval`` seconds and slow down (x1.5, up to 4x). A retryable
    error while polling (throttling, a 5xx) is reported and polled through. Raises
    :class:`VideoFailed` when the job fails, :class:`~fmgate.core.errors.UpstreamTimeout` after
    ``timeout`` seconds.
    """
    started = clock()
    delay = poll_interval
    while True:
        try:
            status, uri = await poll_video(client, arn)
        except GatewayError as error:
            if not error.retryable or isinstance(error, VideoFailed):
                raise
            status, uri = f"poll failed ({error.code})", None
        elapsed = clock() - started
        if uri is not None:
            return uri
        await on_progress(status, elapsed)
        remaining = timeout - elapsed
        if remaining <= 0:
            waited = f"{timeout / 60:.0f} minutes" if timeout >= 120 else f"{timeout:g} seconds"
            raise UpstreamTimeout(
                f"video job not finished after {timeout:g} s",
                user_message=(
                    f"The video was not ready after {waited}, so the bot stopped waiting. "
                    "Please try again, perhaps with a shorter video."
                ),
            )
        await sleep(min(delay, remaining))
        delay = next_poll_delay(delay, poll_interval)


def output_location(output_uri: str) -> tuple[str, str]:
    """``s3://bucket/prefix`` -> (bucket, key of the MP4 under it)."""
    match = _S3_URI.fullmatch(output_uri)
    if match is None:
        raise BotMisconfigured("video output location is not an s3:// uri")
    prefix = match.group("prefix").strip("/")
    key = f"{prefix}/{OUTPUT_OBJECT}" if prefix else OUTPUT_OBJECT
    return match.group("bucket"), key


async def fetch_video(s3_client: S3Client, output_uri: str) -> bytes:
    """Read ``<output_uri>/output.mp4`` from S3."""
    bucket, key = output_location(output_uri)
    with bedrock_errors(), upstream_call():
        response = await s3_client.get_object(Bucket=bucket, Key=key)
        body = response["Body"]
        try:
            return await body.read()
        finally:
            body.close()
