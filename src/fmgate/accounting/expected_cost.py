"""The cost to authorize with Poe before an expensive call (images, video), when configured."""

from __future__ import annotations

from collections.abc import Mapping

from fmgate.accounting.pricing import Cost, price
from fmgate.config.bot_config import BotConfig, ImageBotConfig, VideoBotConfig
from fmgate.core import parameters as p


def expected_cost(config: BotConfig, parameters: Mapping[str, object]) -> Cost | None:
    """What this request will cost if it succeeds, or None when nothing is to be authorized."""
    if not config.pricing.authorize:
        return None
    if isinstance(config, ImageBotConfig):
        chosen = p.number(parameters, p.IMAGE_COUNT)
        count = int(p.clamp(chosen, 1, 4)) if chosen is not None else config.image.count
        return price(config.pricing, usage=None, images_out=count)
    if isinstance(config, VideoBotConfig):
        return price(config.pricing, usage=None, video_seconds=config.video.duration_seconds)
    return None
