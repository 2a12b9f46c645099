"""A bot's Poe ``SettingsResponse``, built from its config (rate card generated from prices).

Only the settings Poe reads now are set (fastapi_poe 0.0.83's ``SettingsResponse``): never the
deprecated ``custom_rate_card`` (now ``rate_card``), ``context_clear_window_secs``,
``allow_user_context_clear`` or ``enable_multi_bot_chat_prompting``. ``response_version`` is
set explicitly, so Poe applies that version's defaults to what is left out, and
:func:`settings_json` leaves unset settings out of the answer rather than sending them as null.

Parameter controls (``api_version`` 2) offer exactly the options the bot reads from a message's
``parameters`` (:mod:`fmgate.core.parameters`), each default within its control's range:
chat bots temperature, output tokens and, with extended thinking, the thinking budget (and the
way it thinks, for models that take adaptive thinking), and the reasoning effort for models
that take one (their own levels); image bots aspect ratio, negative prompt, count and seed;
video bots the seed (a video's length, ratio and resolution are the catalog's, fixed per model
family).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, assert_never

import fastapi_poe as fp

from fmgate.bots.reasoning import takes_thinking
from fmgate.config.bot_config import BotConfig, ChatBotConfig, ImageBotConfig, VideoBotConfig
from fmgate.config.media import ImageDefaults, split_ratio
from fmgate.core import parameters as p
from fmgate.core.model_request import ReasoningEffort, ThinkingMode
from fmgate.fronts.poe.rate_card import rate_card

#: The settings response version fmgate writes (fastapi_poe 0.0.83's current one).
RESPONSE_VERSION: Final = 2
#: ``SettingsResponse`` fields Poe no longer reads; fmgate never sets them.
DEPRECATED_SETTINGS: Final = frozenset(
    {
        "custom_rate_card",
        "context_clear_window_secs",
        "allow_user_context_clear",
        "enable_multi_bot_chat_prompting",
    }
)
#: Temperature offered when the bot sets none (the model's own default is not known here).
DEFAULT_TEMPERATURE: Final = 0.7
#: Bedrock's smallest extended-thinking budget (tokens).
MIN_REASONING_BUDGET: Final = 1024
#: Most images one request may ask for (the image bot's own cap).
MAX_IMAGE_COUNT: Final = 4
#: The ways of thinking the thinking drop-down may offer (then ``off``).
THINKING_MODES: Final[tuple[ThinkingMode, ...]] = ("adaptive", "budget")
#: The thinking drop-down's options, as users read them.
THINKING_NAMES: Final[Mapping[str, str]] = {
    "adaptive": "Adaptive",
    "budget": "Within the budget",
    "off": "Off",
}
#: The effort drop-down's options, as users read them.
EFFORT_NAMES: Final[Mapping[ReasoningEffort, str]] = {
    "low": "Low",
    "medium": "Medium",
    "high": "High",
    "xhigh": "Extra high",
    "max": "Max",
}
#: The effort option that sends none (the model reasons at its own default).
MODEL_DEFAULT: Final = "default"


def settings_response(config: BotConfig) -> fp.SettingsResponse:
    card, label = rate_card(config.pricing, config.kind)
    # Only chat bots read attachments: Poe need not prepare them for the other kinds.
    return fp.SettingsResponse(
        response_version=RESPONSE_VERSION,
        allow_attachments=config.allow_attachments,
        expand_text_attachments=isinstance(config, ChatBotConfig)
        and config.expand_text_attachments,
        enable_image_comprehension=isinstance(config, ChatBotConfig)
        and config.enable_image_comprehension,
        introduction_message=config.introduction_message or None,
        # Other bots' and people's messages come as they are; the bot attributes them itself.
        enable_multi_entity_prompting=False if isinstance(config, ChatBotConfig) else None,
        rate_card=card,
        cost_label=label,
        parameter_controls=parameter_controls(config),
    )


def settings_json(config: BotConfig) -> bytes:
    """The bot's settings answer: the settings it sets, unset ones left out (not null)."""
    return settings_response(config).model_dump_json(exclude_none=True).encode()


def parameter_controls(config: BotConfig) -> fp.ParameterControls | None:
    if not config.user_controls:
        return None
    match config:
        case ChatBotConfig():
            controls = chat_controls(config)
        case ImageBotConfig():
            controls = image_controls(config.image)
        case VideoBotConfig():
            controls = video_controls()
        case _:
            assert_never(config)
    return fp.ParameterControls(sections=[fp.Section(name="Options", controls=controls)])


def temperature_slider(config: ChatBotConfig) -> fp.Slider:
    """Temperature from 0 to the model's largest, defaulting to the bot's (within range)."""
    default = config.temperature if config.temperature is not None else DEFAULT_TEMPERATURE
    return fp.Slider(
        label="Temperature",
        parameter_name=p.TEMPERATURE,
        default_value=min(default, config.temperature_limit),
        min_value=0,
        max_value=config.temperature_limit,
        step=0.1,
    )


def max_tokens_slider(config: ChatBotConfig) -> fp.Slider:
    """The output cap, from 1 token to the bot's limit, defaulting to its own cap."""
    return fp.Slider(
        label="Maximum output tokens",
        parameter_name=p.MAX_TOKENS,
        default_value=config.max_tokens,
        min_value=1,
        max_value=config.max_tokens_limit,
        step=1,
    )


def reasoning_budget_slider(config: ChatBotConfig) -> fp.Slider:
    """The thinking budget: Bedrock's smallest up to just below the output limit."""
    return fp.Slider(
        label="Thinking budget (tokens)",
        description="How long the model may think before it answers: more is deeper and slower.",
        parameter_name=p.REASONING_BUDGET,
        default_value=config.reasoning_budget,
        min_value=MIN_REASONING_BUDGET,
        max_value=max(MIN_REASONING_BUDGET, config.max_tokens_limit - 1),
        step=256,
    )


def thinking_drop_down(config: ChatBotConfig) -> fp.DropDown:
    """How the model thinks: the ways it takes, or not at all; the bot's own by default."""
    modes: list[str] = [mode for mode in THINKING_MODES if takes_thinking(config, mode)]
    return fp.DropDown(
        label="Thinking",
        description="Adaptive: the model decides how long to think. Within the budget: it "
        "thinks up to the thinking budget.",
        parameter_name=p.THINKING,
        default_value=config.thinking_mode,
        options=[
            fp.ValueNamePair(value=value, name=THINKING_NAMES[value]) for value in (*modes, "off")
        ],
    )


def reasoning_effort_drop_down(config: ChatBotConfig) -> fp.DropDown:
    """The model's effort levels; the bot's own by default, else the model's own default."""
    options = [
        fp.ValueNamePair(value=level, name=EFFORT_NAMES[level])
        for level in config.reasoning_controls.efforts
    ]
    default = config.reasoning_effort
    if default is None:
        options.insert(0, fp.ValueNamePair(value=MODEL_DEFAULT, name="Model's default"))
    return fp.DropDown(
        label="Reasoning effort",
        description="How much the model reasons before it answers: more is deeper and slower.",
        parameter_name=p.REASONING_EFFORT,
        default_value=default or MODEL_DEFAULT,
        options=options,
    )


def chat_controls(config: ChatBotConfig) -> list[fp.BaseControl]:
    """Temperature and output tokens; with extended thinking the way it thinks (when the model
    takes adaptive thinking) and the budget (when it may think within one); the effort, for
    models that take one."""
    controls: list[fp.BaseControl] = [temperature_slider(config), max_tokens_slider(config)]
    if config.enable_reasoning:
        if takes_thinking(config, "adaptive"):
            controls.append(thinking_drop_down(config))
        if takes_thinking(config, "budget"):
            controls.append(reasoning_budget_slider(config))
    if config.reasoning_controls.takes_effort:
        controls.append(reasoning_effort_drop_down(config))
    return controls


def aspect_ratio_control(ratios: tuple[str, ...]) -> fp.AspectRatio:
    options = []
    for ratio in ratios:
        width, height = split_ratio(ratio)
        options.append(fp.AspectRatioOption(value=ratio, width=width, height=height))
    return fp.AspectRatio(
        label="Aspect ratio",
        parameter_name=p.ASPECT_RATIO,
        default_value=ratios[0],
        options=options,
    )


def image_controls(image: ImageDefaults) -> list[fp.BaseControl]:
    return [
        aspect_ratio_control(image.aspect_ratios),
        fp.TextField(
            label="Negative prompt",
            parameter_name=p.NEGATIVE_PROMPT,
            default_value=image.negative_prompt,
            placeholder="What the image should not show",
        ),
        fp.Slider(
            label="Images",
            parameter_name=p.IMAGE_COUNT,
            default_value=min(image.count, MAX_IMAGE_COUNT),
            min_value=1,
            max_value=MAX_IMAGE_COUNT,
            step=1,
        ),
        fp.TextField(label="Seed", parameter_name=p.SEED, placeholder="random"),
    ]


def video_controls() -> list[fp.BaseControl]:
    # A video's duration, ratio and resolution are the catalog's (fixed per model family: Nova
    # Reel TEXT_VIDEO is 6 s), and the video bot reads no other parameter: only the seed.
    return [fp.TextField(label="Seed", parameter_name=p.SEED, placeholder="random")]
