"""The contract between fronts and bots."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from fmgate.config.bot_config import BotConfig
from fmgate.core.bot_request import BotRequest
from fmgate.core.events import Event


class Bot(Protocol):
    """A deployed model. ``stream`` yields neutral events and raises ``GatewayError`` on failure."""

    @property
    def config(self) -> BotConfig: ...

    def stream(self, request: BotRequest) -> AsyncIterator[Event]: ...
