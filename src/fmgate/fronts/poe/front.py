"""What the Poe front keeps while it serves: Poe's cost API client, where generated files are
uploaded, and each bot's settings answer (cached for the registry it was built from: a reload
brings new bots, hence new settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

from fmgate.bots.registry import DeployedBot, Registry
from fmgate.config.gateway_settings import PoeSettings
from fmgate.fronts.poe.cost import PoeCostClient
from fmgate.fronts.poe.settings import settings_json


@dataclass
class PoeFront:
    cost: PoeCostClient
    #: Poe's file-upload API (or a local fake in tests).
    upload_base_url: str
    _settings: dict[str, bytes] = field(default_factory=dict)
    _settings_registry: Registry | None = None

    @classmethod
    def create(cls, settings: PoeSettings) -> PoeFront:
        """The front's state for ``gateway.poe``; :meth:`aclose` when the gateway closes."""
        return cls(
            cost=PoeCostClient(settings.api_base_url), upload_base_url=settings.upload_base_url
        )

    async def aclose(self) -> None:
        await self.cost.aclose()

    def settings_json(self, registry: Registry, deployed: DeployedBot) -> bytes:
        """The bot's ``SettingsResponse`` as JSON, built once per registry."""
        if registry is not self._settings_registry:
            self._settings = {}
            self._settings_registry = registry
        name = deployed.config.bot_name
        cached = self._settings.get(name)
        if cached is None:
            cached = settings_json(deployed.config)
            self._settings[name] = cached
        return cached
