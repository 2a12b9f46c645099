"""The factory builds each kind's class from that kind's config, or the bot's custom class."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from fmgate.attachments.download import AttachmentFetcher
from fmgate.bedrock.client import BedrockClients
from fmgate.bots.chat import ChatBot
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.image import ImageBot
from fmgate.bots.registry import build_bot
from fmgate.bots.video import VideoBot
from fmgate.config.bot_config import BotConfig, ChatBotConfig, ImageBotConfig, VideoBotConfig
from fmgate.config.media import ImageDefaults, VideoDefaults
from fmgate.core.errors import BotMisconfigured
from fmgate.resilience.retry import RetryPolicy

CHAT = ChatBotConfig(bot_name="talker", model_id="amazon.nova-micro-v1:0")
IMAGE = ImageBotConfig(
    bot_name="painter",
    model_id="amazon.nova-canvas-v1:0",
    image=ImageDefaults(family="nova-canvas"),
)
VIDEO = VideoBotConfig(
    bot_name="filmer",
    model_id="amazon.nova-reel-v1:1",
    video=VideoDefaults(family="nova-reel", output_s3_uri="s3://bucket/out"),
)


@pytest.fixture
async def services() -> AsyncIterator[BotDependencies]:
    async with AttachmentFetcher(["files.example"]) as fetcher:
        yield BotDependencies(bedrock=BedrockClients(), attachments=fetcher, retry=RetryPolicy())


@pytest.mark.parametrize(
    ("config", "kind_class"), [(CHAT, ChatBot), (IMAGE, ImageBot), (VIDEO, VideoBot)]
)
def test_each_kind_gets_its_class_with_its_own_config(
    config: BotConfig, kind_class: type[object], services: BotDependencies
) -> None:
    bot = build_bot(config, services)
    assert isinstance(bot, kind_class)
    assert bot.config is config


def test_image_bot_reads_its_required_section(services: BotDependencies) -> None:
    bot = ImageBot(IMAGE, services)
    assert bot.config.image.family == "nova-canvas"


class OwnBot:
    """A custom class: built like the kinds' classes, ``OwnBot(config, services)``."""

    def __init__(self, config: BotConfig, services: BotDependencies) -> None:
        self.config = config


def test_custom_class_is_built_instead_of_the_kinds(services: BotDependencies) -> None:
    config = IMAGE.model_copy(update={"custom_class": "python:tests.bots.test_registry:OwnBot"})
    bot = build_bot(config, services)
    assert isinstance(bot, OwnBot)
    assert bot.config is config
    missing = CHAT.model_copy(update={"custom_class": "python:tests.bots.test_registry:NoBot"})
    with pytest.raises(BotMisconfigured, match="has no class NoBot"):
        build_bot(missing, services)
