"""Reasoning controls on Poe, through fastapi_poe's client: the effort drop-down a bot offers
for a model that takes an effort, the value a user picks reaching Bedrock in the model's own
field (and showing in its reasoning), the bot's own effort by default, thinking turned off,
adaptive thinking and the user's choice of a budget instead."""

from __future__ import annotations

import fastapi_poe as fp
import httpx
import pytest

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.poe_client import TEST_POE_KEY, ask, query
from tests.harness.poe_gateway import pointed_at

GPT_OSS = "openai.gpt-oss-120b-1:0"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
OPUS_46 = "us.anthropic.claude-opus-4-6-v1"

CATALOG = f"""
version: 1
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  gpt-oss:
    model_id: {GPT_OSS}
    tool_use: whole
    reasoning_controls: {{efforts: [low, medium, high], effort_field: reasoning_effort}}
    pricing: {{input_token: 0.015, output_token: 0.06}}
bots:
  - bot_name: gpt-oss-medium
    template: gpt-oss
    reasoning_effort: medium
  - bot_name: gpt-oss
    template: gpt-oss
  - bot_name: claude-thinking
    model_id: {CLAUDE_37}
    max_tokens_limit: 16000
    enable_reasoning: true
    reasoning_budget: 2048
    reasoning_controls: {{thinking: [budget]}}
    pricing: {{input_token: 0.3, output_token: 1.5}}
  - bot_name: opus-adaptive
    model_id: {OPUS_46}
    max_tokens_limit: 32000
    enable_reasoning: true
    thinking_mode: adaptive
    reasoning_budget: 2048
    reasoning_controls:
      thinking: [budget, adaptive]
      efforts: [low, medium, high, max]
      effort_field: output_config
    pricing: {{input_token: 0.5, output_token: 2.5}}
"""

pytestmark = pytest.mark.usefixtures("emu")  # the emulator reset around each test


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    """This module's catalog in place of the harness's: its ``gateway``, ``poe`` serve it."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    return pointed_at(parse_catalog(CATALOG, "reasoning.yaml"), poe_api)


async def controls_of(poe: httpx.AsyncClient, bot: str) -> dict[str, object]:
    response = await poe.post(
        f"/bot/{bot}",
        json={"version": "1.2", "type": "settings"},
        headers={"Authorization": f"Bearer {TEST_POE_KEY}"},
    )
    settings = fp.SettingsResponse.model_validate(response.json())
    assert settings.parameter_controls is not None
    [section] = settings.parameter_controls.sections
    controls = section.controls or []
    return {control.parameter_name: control for control in controls}  # type: ignore[union-attr]


def asking(text: str, **parameters: object) -> fp.QueryRequest:
    return query(fp.ProtocolMessage(role="user", content=text, parameters=parameters))


async def bedrock_fields(emu: AsyncEmulatorClient, model_id: str) -> dict[str, object]:
    [record] = await emu.requests(model_id=model_id)
    fields = record["body"].get("additionalModelRequestFields", {})
    assert isinstance(fields, dict)
    return fields


async def test_the_effort_a_user_picks_reaches_bedrock_and_shows_in_the_reasoning(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    effort = (await controls_of(poe, "gpt-oss-medium"))["reasoning_effort"]
    assert isinstance(effort, fp.DropDown)
    assert [option.value for option in effort.options] == ["low", "medium", "high"]
    assert effort.default_value == "medium"

    reply = await ask(poe, "gpt-oss-medium", asking("Is 17 prime?", reasoning_effort="low"))
    assert reply.error is None
    assert await bedrock_fields(emu, GPT_OSS) == {"reasoning_effort": "low"}
    thinking, _, answer = reply.text.partition("\n\n")
    assert "Reasoning at low effort." in thinking
    assert answer.startswith("Echo: ")


async def test_without_a_pick_the_bot_sends_its_own_effort(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    reply = await ask(poe, "gpt-oss-medium", "Is 17 prime?")
    assert "Reasoning at medium effort." in reply.text
    assert await bedrock_fields(emu, GPT_OSS) == {"reasoning_effort": "medium"}


async def test_the_models_default_sends_no_effort(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    effort = (await controls_of(poe, "gpt-oss"))["reasoning_effort"]
    assert isinstance(effort, fp.DropDown)
    assert [option.value for option in effort.options] == ["default", "low", "medium", "high"]
    assert effort.default_value == "default"
    reply = await ask(poe, "gpt-oss", asking("Is 17 prime?", reasoning_effort="default"))
    assert reply.error is None
    assert "effort" not in reply.text
    assert await bedrock_fields(emu, GPT_OSS) == {}


async def test_a_user_turns_thinking_off_and_a_model_without_effort_offers_none(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    controls = await controls_of(poe, "claude-thinking")
    assert set(controls) == {"temperature", "max_tokens", "reasoning_budget"}  # no adaptive
    reply = await ask(poe, "claude-thinking", asking("Just answer", thinking="off"))
    assert reply.error is None
    assert not reply.text.startswith(">")
    assert await bedrock_fields(emu, CLAUDE_37.removeprefix("us.")) == {}


async def test_adaptive_thinking_by_default_and_the_ways_a_user_picks(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    thinking = (await controls_of(poe, "opus-adaptive"))["thinking"]
    assert isinstance(thinking, fp.DropDown)
    assert [option.value for option in thinking.options] == ["adaptive", "budget", "off"]
    plain = await ask(poe, "opus-adaptive", asking("Why?", reasoning_effort="max"))
    within = await ask(poe, "opus-adaptive", asking("Why?", thinking="budget"))
    assert plain.error is None
    assert within.error is None
    assert "Reasoning at max effort." in plain.text
    first, second = await emu.requests(model_id=OPUS_46.removeprefix("us."))
    assert first["body"]["additionalModelRequestFields"] == {
        "thinking": {"type": "adaptive"},
        "output_config": {"effort": "max"},
    }
    assert second["body"]["additionalModelRequestFields"] == {
        "thinking": {"type": "enabled", "budget_tokens": 2048}
    }
