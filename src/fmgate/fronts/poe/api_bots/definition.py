"""One API bot as the Bots REST API takes it, built from a chat bot's catalog entry.

::

    {"handle", "description", "is_private",
     "api_bot_settings": {"model_name", "base_url", "api_key", "api_type",
                          "input_modalities", "output_modalities", "supported_features",
                          "context_size", "pricing": {"prompt", "completion"}},
     "parameter_controls": {"api_version": "2", "sections": [...]}}

``model_name`` is the bot's name (the gateway's model id), ``base_url`` the gateway's ``/v1``
URL, ``api_key`` the virtual key Poe presents. ``handle`` goes in the body to create a bot
and in the path to update one. :meth:`ApiBotDefinition.printable` is the same body with the key
replaced by its catalog reference: what a dry run shows, and all that may ever be logged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.gateway_settings import PoeApiBotSettings
from fmgate.fronts.poe.api_bots.controls import api_bot_controls
from fmgate.fronts.poe.api_bots.pricing import api_bot_pricing

#: The API Poe calls on the gateway (the other, ``responses_api``, is not used).
API_TYPE: Final = "chat_completions_api"


@dataclass(frozen=True, slots=True)
class ApiBotDefinition:
    """What one API bot should be on Poe. ``api_key`` is secret: see :meth:`printable`."""

    handle: str
    description: str
    is_private: bool
    settings: Mapping[str, object]
    api_key: str
    #: The key's catalog reference (``env:...``), shown in its place.
    api_key_reference: str
    parameter_controls: Mapping[str, object] | None

    def update_body(self) -> dict[str, object]:
        """``PATCH /bots/{handle}``: every field fmgate manages, the key included."""
        return self._body(self.api_key)

    def create_body(self) -> dict[str, object]:
        """``POST /bots``: the update body and the handle."""
        return {"handle": self.handle, **self.update_body()}

    def printable(self) -> dict[str, object]:
        """The create body with ``api_key`` shown as ``<reference>``: safe to print."""
        return {"handle": self.handle, **self._body(f"<{self.api_key_reference}>")}

    def _body(self, api_key: str) -> dict[str, object]:
        body: dict[str, object] = {
            "description": self.description,
            "is_private": self.is_private,
            "api_bot_settings": {**self.settings, "api_key": api_key},
        }
        if self.parameter_controls is not None:
            body["parameter_controls"] = dict(self.parameter_controls)
        return body


class NotAnApiBot(ValueError):
    """A catalog bot Poe cannot serve as an API bot; the message says why (never a secret)."""


def input_modalities(config: ChatBotConfig) -> list[str]:
    """Text, and images for models that read them (Poe sends them as ``image_url`` parts)."""
    return ["text", "image"] if config.supports_images else ["text"]


def supported_features(config: ChatBotConfig) -> list[str]:
    """``tools`` unless the model takes none (``tool_use: none``: tools would be dropped)."""
    return [] if config.tool_use == "none" else ["tools"]


def description_of(config: ChatBotConfig) -> str:
    return config.description or f"{config.bot_name} (Amazon Bedrock, served by fmgate)"


def api_bot_definition(
    config: ChatBotConfig,
    api_bots: PoeApiBotSettings,
    api_key: str,
    api_key_reference: str,
    context_size: int | None,
) -> ApiBotDefinition:
    """The API bot for ``config``; :class:`NotAnApiBot` when its prices cannot be given."""
    pricing = api_bot_pricing(config.pricing)
    if pricing is None:
        raise NotAnApiBot("no token prices in the catalog: Poe would bill its users nothing")
    settings: dict[str, object] = {
        "model_name": config.bot_name,
        "base_url": api_bots.endpoint_url,
        "api_type": API_TYPE,
        "input_modalities": input_modalities(config),
        "output_modalities": ["text"],
        "supported_features": supported_features(config),
        "pricing": pricing,
    }
    if context_size is not None:
        settings["context_size"] = context_size
    controls = api_bot_controls(config) if api_bots.parameter_controls else None
    return ApiBotDefinition(
        handle=api_bots.handle(config.bot_name),
        description=description_of(config),
        is_private=api_bots.private,
        settings=settings,
        api_key=api_key,
        api_key_reference=api_key_reference,
        parameter_controls=controls.model_dump(exclude_none=True) if controls else None,
    )
