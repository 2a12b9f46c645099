"""Each bundled chat bot's API-bot body: exact prices, controls Poe validates, the key only
where it is sent."""

from __future__ import annotations

from decimal import Decimal

import fastapi_poe as fp
import pytest

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.gateway_settings import PoeApiBotSettings
from fmgate.config.loader import load_catalog
from fmgate.fronts.poe.api_bots.definition import api_bot_definition
from fmgate.fronts.poe.api_bots.pricing import usd_per_token
from fmgate.fronts.poe.api_bots.sync import changed_fields
from tests.fakes.poe_bots_api import body_problem

CHAT_BOTS = [bot for bot in load_catalog().bots if isinstance(bot, ChatBotConfig)]
API_BOTS = PoeApiBotSettings(
    endpoint_url="https://fmgate.example.com/v1", caller="poe", poe_api_key="env:POE_API_KEY"
)
KEY = "sk-endpoint-key-never-printed"


@pytest.mark.parametrize(
    ("milli_cents", "dollars"),
    [(0.3, "0.000003"), (0.0035, "0.000000035"), (1.65, "0.0000165"), (2, "0.00002"), (0, "0")],
)
def test_milli_cents_per_token_become_exact_dollars(milli_cents: float, dollars: str) -> None:
    assert usd_per_token(milli_cents) == dollars


@pytest.mark.parametrize("bot", CHAT_BOTS, ids=lambda bot: bot.bot_name)
def test_every_bundled_chat_bot_makes_a_valid_api_bot(bot: ChatBotConfig) -> None:
    definition = api_bot_definition(bot, API_BOTS, KEY, "env:FMGATE_KEY_POE", 128_000)
    body = definition.create_body()
    assert body_problem(body, creating=True) is None
    settings = body["api_bot_settings"]
    assert isinstance(settings, dict)
    pricing = settings["pricing"]
    assert Decimal(pricing["prompt"]) * 100_000 == Decimal(repr(bot.pricing.input_token))
    assert Decimal(pricing["completion"]) * 100_000 == Decimal(repr(bot.pricing.output_token))
    assert settings["model_name"] == bot.bot_name
    assert settings["supported_features"] == ([] if bot.tool_use == "none" else ["tools"])
    assert settings["api_key"] == KEY
    controls = fp.ParameterControls.model_validate(body["parameter_controls"])
    [section] = controls.sections
    names = [control.parameter_name for control in section.controls or []]  # type: ignore[union-attr]
    reasons = bot.enable_reasoning or bot.reasoning_controls.takes_effort
    efforts = ["reasoning_effort"] if reasons else []
    assert names == ["temperature", "max_tokens", *efforts]
    assert KEY not in str(definition.printable())
    assert KEY not in repr(definition.printable())


def test_without_controls_none_are_sent() -> None:
    api_bots = API_BOTS.model_copy(update={"parameter_controls": False})
    body = api_bot_definition(CHAT_BOTS[0], api_bots, KEY, "env:K", None).update_body()
    assert "parameter_controls" not in body
    settings = body["api_bot_settings"]
    assert isinstance(settings, dict)
    assert "context_size" not in settings


def test_what_poe_shows_is_compared_without_the_key() -> None:
    wanted = api_bot_definition(CHAT_BOTS[0], API_BOTS, KEY, "env:K", None).printable()
    settings = wanted["api_bot_settings"]
    assert isinstance(settings, dict)
    shown = {**wanted, "api_bot_settings": {k: v for k, v in settings.items() if k != "api_key"}}
    assert changed_fields(shown, wanted) == []
    cheaper = {**settings, "pricing": {"prompt": "0", "completion": "0"}}
    assert changed_fields({**shown, "api_bot_settings": cheaper}, wanted) == ["api_bot_settings"]
    assert changed_fields({**shown, "description": "old"}, wanted) == ["description"]


def test_a_model_with_its_own_effort_offers_its_levels() -> None:
    [gpt_oss] = [bot for bot in CHAT_BOTS if bot.bot_name == "gpt-oss-120b"]
    body = api_bot_definition(gpt_oss, API_BOTS, KEY, "env:K", None).create_body()
    controls = fp.ParameterControls.model_validate(body["parameter_controls"])
    [section] = controls.sections
    effort = (section.controls or [])[-1]
    assert isinstance(effort, fp.DropDown)
    assert effort.parameter_name == "reasoning_effort"
    assert [option.value for option in effort.options] == ["low", "medium", "high"]
    assert effort.default_value == "medium"
