"""Fallback, breaker, timeout and concurrency settings in the catalog: defaults, and mistakes
named."""

from __future__ import annotations

from pathlib import Path

import pytest

from fmgate.config.errors import CatalogError
from fmgate.config.gateway_settings import BreakerSettings, ConcurrencySettings, TimeoutSettings
from fmgate.config.loader import parse_catalog
from tests.harness.catalogs import chat_bot


def problems(text: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        parse_catalog(text, "catalog.yaml")
    return [str(p) for p in caught.value.problems]


def test_defaults_need_no_configuration() -> None:
    catalog = parse_catalog(
        "version: 1\nbots:\n  - {bot_name: plain, model_id: amazon.nova-micro-v1:0}\n", "c.yaml"
    )
    bot = chat_bot(catalog, "plain")
    assert bot.fallbacks == ()
    assert bot.announce_fallback is True
    assert catalog.gateway.breaker == BreakerSettings(failure_threshold=5, cooldown_seconds=30)
    assert catalog.gateway.timeouts == TimeoutSettings(
        first_token_seconds=60, idle_seconds=60, chat_request_seconds=120
    )


def test_settings_and_fallbacks_from_templates() -> None:
    catalog = parse_catalog(
        """
version: 1
gateway:
  breaker: {failure_threshold: 2, cooldown_seconds: 5}
  timeouts: {first_token_seconds: 10, idle_seconds: 20, chat_request_seconds: 100}
templates:
  nova:
    fallbacks:
      - {model_id: amazon.nova-lite-v1:0, label: Nova Lite}
bots:
  - {bot_name: a, template: nova, model_id: amazon.nova-pro-v1:0, announce_fallback: false}
""",
        "c.yaml",
    )
    assert catalog.gateway.breaker.failure_threshold == 2
    assert catalog.gateway.timeouts.idle_seconds == 20
    bot = chat_bot(catalog, "a")
    assert [f.label for f in bot.fallbacks] == ["Nova Lite"]
    assert bot.fallbacks[0].aws_region is None
    assert not bot.announce_fallback


def test_fallback_repeating_the_bot_model_is_named() -> None:
    found = problems(
        """
version: 1
bots:
  - bot_name: loop
    model_id: amazon.nova-pro-v1:0
    aws_region: us-east-1
    fallbacks: [{model_id: amazon.nova-pro-v1:0}]
"""
    )
    assert len(found) == 1
    assert 'bot "loop"' in found[0]
    assert "fallbacks" in found[0]
    assert "repeats" in found[0]


def test_fallbacks_on_an_image_bot_are_refused() -> None:
    found = problems(
        """
version: 1
bots:
  - bot_name: pictures
    kind: image
    model_id: amazon.titan-image-generator-v2:0
    image: {family: titan-image}
    fallbacks: [{model_id: amazon.nova-canvas-v1:0}]
"""
    )
    assert found == [
        'catalog.yaml:4: bot "pictures" (bots[0]): field "fallbacks": '
        "not valid for image bots: only chat bots have this field"
    ]


def test_bad_fallback_fields_are_named() -> None:
    found = problems(
        """
version: 1
bots:
  - bot_name: typo
    model_id: amazon.nova-pro-v1:0
    fallbacks: [{model_id: not a model, aws_region: mars}]
"""
    )
    assert found
    assert all("fallbacks" in p for p in found)


def test_zero_threshold_is_refused() -> None:
    found = problems(
        """
version: 1
gateway: {breaker: {failure_threshold: 0}}
bots:
  - {bot_name: a, model_id: amazon.nova-pro-v1:0}
"""
    )
    assert any("failure_threshold" in p for p in found)


def test_concurrency_defaults_limit_nothing_until_bedrock_refuses() -> None:
    concurrency = parse_catalog(
        "version: 1\nbots:\n  - {bot_name: plain, model_id: amazon.nova-micro-v1:0}\n", "c.yaml"
    ).gateway.concurrency
    assert concurrency == ConcurrencySettings(
        enabled=True,
        recent_throttle_seconds=60,
        backoff_ratio=0.9,
        min_limit=1,
        static_caps={},
        queue_timeout_seconds=10,
    )


def test_the_documented_concurrency_example_is_valid() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "resilience.md").read_text(encoding="utf-8")
    section = doc.split("## Concurrency limits, learned from Bedrock")[1]
    example = section.split("```yaml\n")[1].split("```")[0]
    catalog = parse_catalog(
        "version: 1\n" + example + "bots:\n  - {bot_name: a, model_id: amazon.nova-pro-v1:0}\n",
        "resilience.md",
    )
    caps = catalog.gateway.concurrency.static_caps
    assert caps == {"us.anthropic.claude-sonnet-4-20250514-v1:0": 50}


def test_the_former_fixed_limits_are_refused_with_what_replaced_them() -> None:
    found = problems(
        """
version: 1
gateway: {concurrency: {initial_limit: 32, max_limit: 256}}
bots:
  - {bot_name: a, model_id: amazon.nova-pro-v1:0}
"""
    )
    assert len(found) == 1
    assert "initial_limit and max_limit are gone" in found[0]
    assert "static_caps" in found[0]


def test_a_static_cap_must_be_a_positive_number() -> None:
    found = problems(
        """
version: 1
gateway: {concurrency: {static_caps: {amazon.nova-pro-v1:0: 0}}}
bots:
  - {bot_name: a, model_id: amazon.nova-pro-v1:0}
"""
    )
    assert any("static_caps" in p for p in found)
