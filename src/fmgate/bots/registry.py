"""Bot name -> deployed bot, built once from the catalog.

Each kind's class takes its kind's config (``ChatBot(ChatBotConfig, ...)``...): the factory picks
it by the config's type, which is its ``kind``. A bot may name its own class (``custom_class:
python:module:Class``), constructed like the built-in kinds: ``Class(config, services)``.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import assert_never

from fmgate.bots.base import Bot
from fmgate.bots.chat import ChatBot
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.image import ImageBot
from fmgate.bots.video import VideoBot
from fmgate.config.bot_config import BotConfig, ChatBotConfig, ImageBotConfig, VideoBotConfig
from fmgate.core.errors import BotMisconfigured

#: A ``custom_class``: called with the bot's config (of its kind) and the shared services.
BotFactory = Callable[[BotConfig, BotDependencies], Bot]


@dataclass(frozen=True, slots=True)
class DeployedBot:
    """A bot plus what a front needs to serve it."""

    bot: Bot
    #: The resolved Poe access key (None only with the explicit dev flag).
    access_key: str | None

    @property
    def config(self) -> BotConfig:
        return self.bot.config


class Registry:
    """Immutable name -> bot map; a new catalog means a new Registry, swapped atomically."""

    def __init__(self, bots: Iterable[DeployedBot]) -> None:
        self._bots = {deployed.config.bot_name: deployed for deployed in bots}

    def get(self, name: str) -> DeployedBot | None:
        return self._bots.get(name)

    def __iter__(self) -> Iterator[DeployedBot]:
        return iter(self._bots.values())

    def __len__(self) -> int:
        return len(self._bots)


def build_bot(config: BotConfig, services: BotDependencies) -> Bot:
    """The bot serving ``config``: its custom class, or its kind's."""
    if config.custom_class is not None:
        return load_custom_class(config.custom_class)(config, services)
    match config:
        case ChatBotConfig():
            return ChatBot(config, services)
        case ImageBotConfig():
            return ImageBot(config, services)
        case VideoBotConfig():
            return VideoBot(config, services)
        case _:
            assert_never(config)


def load_custom_class(reference: str) -> BotFactory:
    """Import ``python:module:Class``; failures name the reference (checked at start-up)."""
    _, module_name, class_name = reference.split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise BotMisconfigured(f"custom_class {reference}: cannot import {module_name}") from exc
    factory = getattr(module, class_name, None)
    if factory is None or not callable(factory):
        raise BotMisconfigured(f"custom_class {reference}: {module_name} has no class {class_name}")
    return factory  # type: ignore[no-any-return]
