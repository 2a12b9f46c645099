"""A catalog for the compatible APIs' reasoning-control tests (``tests.fronts.openai`` /
``tests.fronts.anthropic`` ``test_reasoning_controls``): a model with an effort of its own
(gpt-oss), Claude that thinks within a budget (one that does not unless asked, one with a
fallback to another Claude), and a model without reasoning controls; plus
``additional_fields`` to read them from an emulator record."""

from __future__ import annotations

from typing import Any

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from tests.fakes.poe_api import FakePoeApi
from tests.harness.poe_gateway import pointed_at

GPT_OSS = "openai.gpt-oss-120b-1:0"
CLAUDE_37 = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
SONNET_4 = "us.anthropic.claude-sonnet-4-20250514-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"

REASONING_CATALOG = f"""
version: 1
gateway:
  max_attempts: 1
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  chat:
    kind: chat
    max_tokens: 512
    max_tokens_limit: 16000
    pricing: {{input_token: 0.1, output_token: 0.5}}
  claude:
    extends: chat
    model_id: {CLAUDE_37}
    forced_tool_choices: [any, tool]
    reasoning_controls: {{thinking: [budget]}}
bots:
  - bot_name: gpt-oss
    template: chat
    model_id: {GPT_OSS}
    tool_use: whole
    reasoning_controls: {{efforts: [low, medium, high], effort_field: reasoning_effort}}
  - bot_name: claude-thinking
    template: claude
    enable_reasoning: true
    reasoning_budget: 2048
  - bot_name: claude
    template: claude
  - bot_name: claude-falling-back
    template: claude
    enable_reasoning: true
    reasoning_budget: 2048
    fallbacks: [{{model_id: {SONNET_4}}}]
  - bot_name: nova-lite
    template: chat
    model_id: {NOVA_LITE}
"""


def reasoning_catalog(poe_api: FakePoeApi) -> Catalog:
    return pointed_at(parse_catalog(REASONING_CATALOG, "reasoning-catalog.yaml"), poe_api)


def additional_fields(record: dict[str, Any]) -> dict[str, Any]:
    """The ``additionalModelRequestFields`` of an emulator-recorded Converse call (``{}``)."""
    fields = record["body"].get("additionalModelRequestFields") or {}
    assert isinstance(fields, dict)
    return fields
