"""Typed views of catalog entries for tests that read one kind's fields."""

from __future__ import annotations

from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.config.catalog import Catalog


def as_chat(bot: BotConfig) -> ChatBotConfig:
    """``bot`` as the chat bot it must be (the test fails otherwise)."""
    assert isinstance(bot, ChatBotConfig), f"{bot.bot_name} is a {bot.kind} bot"
    return bot


def chat_bot(catalog: Catalog, name: str) -> ChatBotConfig:
    """The catalog's chat bot ``name``."""
    return as_chat(catalog.bot(name))
