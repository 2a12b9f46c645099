"""A catalog for the compatible APIs' prompt-caching tests: Claude bots that cache, and bots
whose models take no checkpoint (``tests.fronts.anthropic`` / ``tests.fronts.openai``
``test_prompt_caching``), plus ``cache_points`` to read them from an emulator record."""

from __future__ import annotations

from typing import Any

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from tests.fakes.poe_api import FakePoeApi
from tests.harness.poe_gateway import pointed_at

CLAUDE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
MISTRAL = "mistral.mistral-7b-instruct-v0:2"
NOVA_MICRO = "amazon.nova-micro-v1:0"
#: 1,100 emulator tokens (one per word), above Claude's 1,024-token minimum.
LONG_SYSTEM = " ".join(f"rule{i}" for i in range(1100))

CACHING_CATALOG = f"""
version: 1
gateway:
  max_attempts: 1
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
templates:
  chat:
    kind: chat
    max_tokens: 256
    max_tokens_limit: 4096
bots:
  - bot_name: claude-cached
    template: chat
    model_id: {CLAUDE}
    prompt_caching: {{mode: auto, min_tokens: 1024, tools: true}}
    pricing: {{input_token: 0.3, output_token: 1.5, cache_read_token: 0.03,
               cache_write_token: 0.375}}
  - bot_name: sonnet-cached
    template: chat
    model_id: {SONNET_45}
    prompt_caching: {{mode: auto, min_tokens: 1024, ttls: [5m, 1h], tools: true}}
    pricing: {{input_token: 0.33, output_token: 1.65, cache_read_token: 0.033,
               cache_write_token: 0.4125, cache_write_1h_token: 0.66}}
  - bot_name: mistral-7b
    template: chat
    model_id: {MISTRAL}
    supports_system_messages: false
    pricing: {{input_token: 0.15, output_token: 0.2}}
  - bot_name: nova-micro-off
    template: chat
    model_id: {NOVA_MICRO}
    prompt_caching: {{mode: "off", min_tokens: 1000, tools: false}}
    pricing: {{input_token: 0.035, output_token: 0.14}}
"""


def caching_catalog(poe_api: FakePoeApi) -> Catalog:
    return pointed_at(parse_catalog(CACHING_CATALOG, "caching-catalog.yaml"), poe_api)


def cache_points(body: dict[str, Any]) -> list[tuple[str, int, dict[str, Any]]]:
    """Where an emulator-recorded Converse body has checkpoints: (part, index, cachePoint),
    part ``tools``, ``system`` or ``messages[i]``."""
    found: list[tuple[str, int, dict[str, Any]]] = []
    parts: list[tuple[str, list[dict[str, Any]]]] = [
        ("tools", (body.get("toolConfig") or {}).get("tools") or []),
        ("system", body.get("system") or []),
    ]
    parts.extend((f"messages[{i}]", m["content"]) for i, m in enumerate(body["messages"]))
    for name, blocks in parts:
        found.extend((name, i, b["cachePoint"]) for i, b in enumerate(blocks) if "cachePoint" in b)
    return found
