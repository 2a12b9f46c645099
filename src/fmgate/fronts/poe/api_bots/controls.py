"""An API bot's parameter controls (``api_version`` 2), named after the Chat Completions
fields the gateway reads, since Poe passes their values to the endpoint: ``temperature``,
``max_tokens`` and, for bots with extended thinking, ``reasoning_effort`` (a drop-down; the
gateway turns it into a thinking budget). The sliders are the server bot's own.
"""

from __future__ import annotations

from typing import Final

import fastapi_poe as fp

from fmgate.config.bot_config import ChatBotConfig
from fmgate.fronts.poe.settings import max_tokens_slider, temperature_slider

#: Chat Completions' field for how hard a reasoning model thinks.
REASONING_EFFORT: Final = "reasoning_effort"
#: The efforts offered, and the default (the bot's own thinking budget).
EFFORTS: Final = (("low", "Low"), ("medium", "Medium"), ("high", "High"))
DEFAULT_EFFORT: Final = "medium"


def reasoning_effort_drop_down() -> fp.DropDown:
    return fp.DropDown(
        label="Reasoning effort",
        description="How long the model thinks before it answers: more is deeper and slower.",
        parameter_name=REASONING_EFFORT,
        default_value=DEFAULT_EFFORT,
        options=[fp.ValueNamePair(value=value, name=name) for value, name in EFFORTS],
    )


def api_bot_controls(config: ChatBotConfig) -> fp.ParameterControls | None:
    """The bot's controls, or None when the catalog offers none (``user_controls: false``)."""
    if not config.user_controls:
        return None
    controls: list[fp.BaseControl] = [temperature_slider(config), max_tokens_slider(config)]
    if config.enable_reasoning:
        controls.append(reasoning_effort_drop_down())
    return fp.ParameterControls(sections=[fp.Section(name="Options", controls=controls)])
