"""Video bots: StartAsyncInvoke to S3, progress while polling, then the MP4 as an attachment."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from fmgate.bedrock.video import fetch_video, start_video, wait_for_video
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.prompt import last_user_prompt
from fmgate.config.bot_config import VideoBotConfig
from fmgate.config.media import VideoDefaults
from fmgate.core import parameters as p
from fmgate.core.bot_request import BotRequest
from fmgate.core.events import Done, Event, Media, Progress
from fmgate.core.model_request import VideoRequest
from fmgate.observability.overhead import upstream_call

MAX_SEED = 2_147_483_646


def progress_text(elapsed: float) -> str:
    return f"_Generating your video… {elapsed:.0f} s so far (this usually takes a few minutes)._"


class VideoBot:
    """The ``video`` kind."""

    def __init__(self, config: VideoBotConfig, services: BotDependencies) -> None:
        self._config = config
        self._video: VideoDefaults = config.video
        self._services = services

    @property
    def config(self) -> VideoBotConfig:
        return self._config

    def build_request(self, request: BotRequest) -> VideoRequest:
        video = self._video
        seed = p.number(request.parameters, p.SEED)
        return VideoRequest(
            model_id=self._config.model_id,
            prompt=last_user_prompt(request, what="video"),
            output_s3_uri=video.output_s3_uri,
            duration_seconds=video.duration_seconds,
            fps=video.fps,
            dimension=video.dimension,
            aspect_ratio=video.aspect_ratio,
            resolution=video.resolution,
            seed=int(p.clamp(seed, 0, MAX_SEED)) if seed is not None else None,
        )

    async def stream(self, request: BotRequest) -> AsyncIterator[Event]:
        generation = self.build_request(request)
        region = self._config.aws_region
        client = await self._services.bedrock.get(region)
        started = time.monotonic()
        # The whole job is Bedrock's time (the waits between polls too), not the gateway's.
        with upstream_call():
            with self._services.upstream.track():
                arn = await start_video(
                    client, generation, self._video.family, client_token=request.request_id
                )
            yield Progress(progress_text(0))
            updates: asyncio.Queue[float] = asyncio.Queue()

            async def report(status: str, elapsed: float) -> None:
                updates.put_nowait(elapsed)

            waiter = asyncio.ensure_future(
                wait_for_video(
                    client,
                    arn,
                    poll_interval=self._video.poll_interval_seconds,
                    timeout=self._video.timeout_seconds,
                    on_progress=report,
                )
            )
            try:
                while not waiter.done():
                    update = asyncio.ensure_future(updates.get())
                    await asyncio.wait({waiter, update}, return_when=asyncio.FIRST_COMPLETED)
                    if update.done():
                        yield Progress(progress_text(update.result()))
                    else:
                        update.cancel()
                output_uri = waiter.result()
            finally:
                waiter.cancel()
            s3 = await self._services.bedrock.s3(region)
            with self._services.upstream.track():
                data = await fetch_video(s3, output_uri)
        yield Progress(f"_Video generated in {time.monotonic() - started:.0f} s._\n\n")
        yield Media(
            data=data,
            content_type="video/mp4",
            name="video.mp4",
            units=float(generation.duration_seconds),
        )
        yield Done()
