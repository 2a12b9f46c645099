"""A validated catalog: the gateway-wide settings and every bot, merged and checked.

:mod:`fmgate.config.loader` builds one from a file; the rest of the gateway reads it.
"""

from __future__ import annotations

from typing import Self

from pydantic import model_validator

from fmgate.config.bot_config import BotConfig
from fmgate.config.fields import FieldConflict, StrictModel
from fmgate.config.gateway_settings import GatewaySettings


class Catalog(StrictModel):
    """A validated catalog: settings plus every bot, merged and checked."""

    gateway: GatewaySettings = GatewaySettings()
    bots: tuple[BotConfig, ...]

    @model_validator(mode="after")
    def _bot_names_are_unique(self) -> Self:
        seen: set[str] = set()
        for bot in self.bots:
            if bot.bot_name in seen:
                raise FieldConflict("bots", f"bot_name {bot.bot_name!r} is used more than once")
            seen.add(bot.bot_name)
        return self

    def bot(self, name: str) -> BotConfig:
        for bot in self.bots:
            if bot.bot_name == name:
                return bot
        raise KeyError(name)
