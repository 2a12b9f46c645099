"""Every bundled bot's settings answer, as Poe reads it now (fastapi_poe 0.0.83's types)."""

from __future__ import annotations

import inspect
import json
import re

import fastapi_poe as fp
import pytest

from fmgate.config.bot_config import BotConfig, ChatBotConfig
from fmgate.config.loader import load_catalog
from fmgate.core import parameters as p
from fmgate.fronts.poe.settings import settings_json

BUNDLED = load_catalog()
#: What each kind of bot reads from a message's parameters (fmgate.bots.*).
READ_BY_KIND = {
    "chat": {p.TEMPERATURE, p.MAX_TOKENS, p.REASONING_BUDGET, p.THINKING, p.REASONING_EFFORT},
    "image": {p.ASPECT_RATIO, p.NEGATIVE_PROMPT, p.IMAGE_COUNT, p.SEED},
    "video": {p.SEED},
}
PRICE_TAG = re.compile(r"\[usd_milli_cents=([^\]]*)\]")


def deprecated_settings() -> set[str]:
    """The fields fastapi_poe's own source marks ``# deprecated`` in ``SettingsResponse``."""
    source = inspect.getsource(fp.SettingsResponse)
    return set(re.findall(r"^\s+(\w+): .*# deprecated", source, flags=re.MULTILINE))


def answered(bot: BotConfig) -> dict[str, object]:
    document = json.loads(settings_json(bot))
    assert isinstance(document, dict)
    return document


def test_fastapi_poe_still_marks_the_fields_fmgate_avoids() -> None:
    assert {"custom_rate_card", "context_clear_window_secs", "allow_user_context_clear"} <= (
        deprecated_settings()
    )


@pytest.mark.parametrize("bot", BUNDLED.bots, ids=lambda bot: bot.bot_name)
def test_bundled_settings_validate_with_current_fields_only(bot: BotConfig) -> None:
    document = answered(bot)
    settings = fp.SettingsResponse.model_validate(document)

    assert not deprecated_settings() & set(document)
    assert not deprecated_settings() & settings.model_fields_set
    assert None not in document.values()  # unset settings are left out, not sent as null
    assert document["response_version"] == 2
    assert settings.allow_attachments == bot.allow_attachments


@pytest.mark.parametrize("bot", BUNDLED.bots, ids=lambda bot: bot.bot_name)
def test_bundled_controls_offer_what_the_bot_reads_with_defaults_in_range(bot: BotConfig) -> None:
    settings = fp.SettingsResponse.model_validate(answered(bot))
    assert settings.parameter_controls is not None
    assert settings.parameter_controls.api_version == "2"
    controls = [
        control
        for section in settings.parameter_controls.sections
        for control in section.controls or []
    ]
    names = set()
    for control in controls:
        match control:
            case fp.Slider():
                assert control.default_value is not None
                assert control.min_value <= control.default_value <= control.max_value
                names.add(control.parameter_name)
            case fp.AspectRatio():
                assert control.default_value in [option.value for option in control.options]
                names.add(control.parameter_name)
            case fp.TextField():
                names.add(control.parameter_name)
            case fp.DropDown():
                assert control.default_value in [option.value for option in control.options]
                names.add(control.parameter_name)
            case _:
                pytest.fail(f"unexpected control {control!r}")
    assert names <= READ_BY_KIND[bot.kind]
    thinks = isinstance(bot, ChatBotConfig) and bot.enable_reasoning
    assert (p.REASONING_BUDGET in names) == thinks
    takes_effort = isinstance(bot, ChatBotConfig) and bot.reasoning_controls.takes_effort
    assert (p.REASONING_EFFORT in names) == takes_effort


@pytest.mark.parametrize("bot", BUNDLED.bots, ids=lambda bot: bot.bot_name)
def test_bundled_prices_are_shown_with_whole_milli_cent_tags(bot: BotConfig) -> None:
    settings = fp.SettingsResponse.model_validate(answered(bot))
    assert bot.pricing.is_priced  # every bundled bot is priced
    assert settings.rate_card is not None
    assert settings.cost_label is not None
    for text in (settings.rate_card, settings.cost_label):
        amounts = PRICE_TAG.findall(text)
        assert amounts
        assert all(amount.isdigit() and int(amount) > 0 for amount in amounts)


def test_a_bot_without_controls_or_prices_sends_neither() -> None:
    bot = ChatBotConfig(bot_name="plain", model_id="amazon.nova-micro-v1:0", user_controls=False)
    document = answered(bot)
    assert {"parameter_controls", "rate_card", "cost_label"}.isdisjoint(document)
    assert fp.SettingsResponse.model_validate(document).response_version == 2


def test_a_temperature_default_above_the_models_limit_is_clamped() -> None:
    bot = ChatBotConfig(bot_name="cool", model_id="amazon.nova-micro-v1:0", temperature_limit=0.5)
    settings = fp.SettingsResponse.model_validate(answered(bot))
    assert settings.parameter_controls is not None
    [temperature, _] = settings.parameter_controls.sections[0].controls or []
    assert isinstance(temperature, fp.Slider)
    assert (temperature.default_value, temperature.max_value) == (0.5, 0.5)


def test_a_model_with_adaptive_thinking_and_efforts_offers_both() -> None:
    """A Claude 4.6-like bot (its controls declared in the catalog): the way it thinks, the
    budget for thinking within one, and the model's own effort levels."""
    bot = ChatBotConfig.model_validate(
        {
            "bot_name": "adaptive",
            "model_id": "anthropic.claude-opus-4-6-v1",
            "max_tokens_limit": 32000,
            "enable_reasoning": True,
            "thinking_mode": "adaptive",
            "reasoning_effort": "high",
            "reasoning_controls": {
                "thinking": ["budget", "adaptive"],
                "efforts": ["low", "medium", "high", "max"],
                "effort_field": "output_config",
            },
        }
    )
    settings = fp.SettingsResponse.model_validate(answered(bot))
    assert settings.parameter_controls is not None
    [section] = settings.parameter_controls.sections
    controls = {control.parameter_name: control for control in section.controls or []}  # type: ignore[union-attr]
    thinking, effort = controls[p.THINKING], controls[p.REASONING_EFFORT]
    assert isinstance(thinking, fp.DropDown)
    assert [o.value for o in thinking.options] == ["adaptive", "budget", "off"]
    assert thinking.default_value == "adaptive"
    assert isinstance(effort, fp.DropDown)
    assert [o.value for o in effort.options] == ["low", "medium", "high", "max"]
    assert effort.default_value == "high"
    assert p.REASONING_BUDGET in controls
