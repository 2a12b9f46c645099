"""Image bots: a prompt in, generated images out (InvokeModel, per model family)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from fmgate.bedrock.images import generate_images, size_for_aspect
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.prompt import last_user_prompt
from fmgate.config.bot_config import ImageBotConfig
from fmgate.config.media import ImageDefaults
from fmgate.core import parameters as p
from fmgate.core.bot_request import BotRequest
from fmgate.core.errors import GatewayError
from fmgate.core.events import Done, Event
from fmgate.core.model_request import ImageRequest
from fmgate.resilience.retry import retry_before_first_output
from fmgate.resilience.timeouts import with_deadline

MAX_SEED = 2_147_483_646


class ImageBot:
    """The ``image`` kind."""

    def __init__(self, config: ImageBotConfig, services: BotDependencies) -> None:
        self._config = config
        self._image: ImageDefaults = config.image
        self._services = services

    @property
    def config(self) -> ImageBotConfig:
        return self._config

    def build_request(self, request: BotRequest) -> ImageRequest:
        image = self._image
        params = request.parameters
        ratio = p.text(params, p.ASPECT_RATIO)
        if ratio not in image.aspect_ratios:
            ratio = image.aspect_ratios[0]
        width, height = size_for_aspect(ratio, image.base_size)
        count = p.number(params, p.IMAGE_COUNT)
        seed = p.number(params, p.SEED)
        return ImageRequest(
            model_id=self._config.model_id,
            prompt=last_user_prompt(request, what="image"),
            negative_prompt=p.text(params, p.NEGATIVE_PROMPT) or image.negative_prompt,
            width=width,
            height=height,
            aspect_ratio=ratio,
            seed=int(p.clamp(seed, 0, MAX_SEED)) if seed is not None else None,
            count=int(p.clamp(count, 1, 4)) if count is not None else image.count,
            quality=image.quality,
            cfg_scale=image.cfg_scale,
            output_format=image.output_format,
        )

    async def stream(self, request: BotRequest) -> AsyncIterator[Event]:
        generation = self.build_request(request)
        client = await self._services.bedrock.get(self._config.aws_region)

        async def generate() -> AsyncIterator[Event]:
            for media in await generate_images(client, generation, self._image.family):
                yield media

        def on_retry(error: GatewayError, attempt: int, delay: float) -> None:
            self._services.on_retry(self._config.bot_name, error, attempt, delay)

        attempts = retry_before_first_output(generate, self._services.retry, on_retry=on_retry)
        events = with_deadline(attempts, self._services.timeouts.image_request_seconds)
        with self._services.upstream.track():
            async with aclosing(events):
                async for event in events:
                    yield event
        yield Done()
