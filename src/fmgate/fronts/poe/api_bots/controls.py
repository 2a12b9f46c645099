"""An API bot's parameter controls (``api_version`` 2), named after the Chat Completions
fields the gateway reads, since Poe passes their values to the endpoint: ``temperature``,
``max_tokens`` and ``reasoning_effort`` (a drop-down): the model's own effort levels for models
that take one, else, for bots with extended thinking, low / medium / high, which the gateway
turns into a thinking budget. The sliders are the server bot's own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import fastapi_poe as fp

from fmgate.config.bot_config import ChatBotConfig
from fmgate.fronts.poe.settings import EFFORT_NAMES, max_tokens_slider, temperature_slider

#: Chat Completions' field for how hard a reasoning model thinks.
REASONING_EFFORT: Final = "reasoning_effort"
#: The efforts offered, and the default (the bot's own thinking budget).
EFFORTS: Final = (("low", "Low"), ("medium", "Medium"), ("high", "High"))
DEFAULT_EFFORT: Final = "medium"


def reasoning_effort_drop_down(
    efforts: Sequence[tuple[str, str]] = EFFORTS, default: str = DEFAULT_EFFORT
) -> fp.DropDown:
    return fp.DropDown(
        label="Reasoning effort",
        description="How long the model thinks before it answers: more is deeper and slower.",
        parameter_name=REASONING_EFFORT,
        default_value=default,
        options=[fp.ValueNamePair(value=value, name=name) for value, name in efforts],
    )


def native_effort_drop_down(config: ChatBotConfig) -> fp.DropDown:
    """The model's own effort levels (the gateway sends them as they are); by default the bot's
    effort, else medium when the model takes it, else its lowest."""
    taken = config.reasoning_controls.efforts
    default = config.reasoning_effort or ("medium" if "medium" in taken else taken[0])
    return reasoning_effort_drop_down([(level, EFFORT_NAMES[level]) for level in taken], default)


def api_bot_controls(config: ChatBotConfig) -> fp.ParameterControls | None:
    """The bot's controls, or None when the catalog offers none (``user_controls: false``)."""
    if not config.user_controls:
        return None
    controls: list[fp.BaseControl] = [temperature_slider(config), max_tokens_slider(config)]
    if config.reasoning_controls.takes_effort:
        controls.append(native_effort_drop_down(config))
    elif config.enable_reasoning:
        controls.append(reasoning_effort_drop_down())
    return fp.ParameterControls(sections=[fp.Section(name="Options", controls=controls)])
