"""A bot's Poe ``SettingsResponse``, built from its config (rate card generated from prices)."""

from __future__ import annotations

from typing import assert_never

import fastapi_poe as fp

from fmgate.config.bot_config import BotConfig, ChatBotConfig, ImageBotConfig, VideoBotConfig
from fmgate.config.media import ImageDefaults, split_ratio
from fmgate.core import parameters as p
from fmgate.fronts.poe.rate_card import rate_card


def settings_response(config: BotConfig) -> fp.SettingsResponse:
    card, label = rate_card(config.pricing, config.kind)
    # Only chat bots read attachments: Poe need not prepare them for the other kinds.
    return fp.SettingsResponse(
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


def chat_controls(config: ChatBotConfig) -> list[fp.BaseControl]:
    controls: list[fp.BaseControl] = [
        fp.Slider(
            label="Temperature",
            parameter_name=p.TEMPERATURE,
            default_value=config.temperature if config.temperature is not None else 0.7,
            min_value=0,
            max_value=config.temperature_limit,
            step=0.1,
        ),
        fp.Slider(
            label="Maximum output tokens",
            parameter_name=p.MAX_TOKENS,
            default_value=config.max_tokens,
            min_value=1,
            max_value=config.max_tokens_limit,
            step=1,
        ),
    ]
    if config.enable_reasoning:
        controls.append(
            fp.Slider(
                label="Thinking budget (tokens)",
                parameter_name=p.REASONING_BUDGET,
                default_value=config.reasoning_budget,
                min_value=1024,
                max_value=max(1024, config.max_tokens_limit - 1),
                step=256,
            )
        )
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
            default_value=image.count,
            min_value=1,
            max_value=4,
            step=1,
        ),
        fp.TextField(label="Seed", parameter_name=p.SEED, placeholder="random"),
    ]


def video_controls() -> list[fp.BaseControl]:
    # Durations are fixed per model family (Nova Reel TEXT_VIDEO: 6 s), so only the seed is offered.
    return [fp.TextField(label="Seed", parameter_name=p.SEED, placeholder="random")]
