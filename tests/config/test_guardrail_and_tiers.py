"""The guardrail section, service tiers, tier fallbacks and tier prices in a catalog."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog
from fmgate.config.pricing import Pricing, TierPrices

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"


def bot(lines: str) -> ChatBotConfig:
    text = f"version: 1\nbots:\n  - bot_name: b\n    model_id: amazon.nova-pro-v1:0\n{lines}"
    config = parse_catalog(text, "catalog.yaml").bot("b")
    assert isinstance(config, ChatBotConfig)
    return config


def problems(lines: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        bot(lines)
    return [str(problem) for problem in caught.value.problems]


def test_a_guardrail_with_a_numeric_version_and_its_defaults() -> None:
    guardrail = bot("    guardrail: {id: gr1abc2def, version: 3}\n").guardrail
    assert guardrail is not None
    assert (guardrail.version, guardrail.trace, guardrail.stream_processing_mode) == (
        "3",
        "enabled",
        "sync",
    )
    assert guardrail.guard == "last_user_turn"


def test_a_guardrail_arn_and_draft() -> None:
    arn = "arn:aws:bedrock:us-east-1:123456789012:guardrail/gr1abc2def"
    guardrail = bot(f"    guardrail: {{id: '{arn}', version: DRAFT, guard: all}}\n").guardrail
    assert guardrail is not None
    assert (guardrail.id, guardrail.version, guardrail.guard) == (arn, "DRAFT", "all")


@pytest.mark.parametrize(
    ("section", "field"),
    [
        ("{id: Not-An-Id, version: 1}", "guardrail.id"),
        ("{id: gr1, version: 0}", "guardrail.version"),
        ("{id: gr1, version: latest}", "guardrail.version"),
        ("{id: gr1, version: 1, trace: verbose}", "guardrail.trace"),
        ("{id: gr1}", "guardrail.version"),
    ],
)
def test_a_bad_guardrail_names_its_field(section: str, field: str) -> None:
    [problem] = problems(f"    guardrail: {section}\n")
    assert f'field "{field}"' in problem


def test_a_tier_fallback_calls_the_same_model_on_another_tier() -> None:
    config = bot(
        "    service_tier: flex\n"
        "    fallbacks: [{service_tier: default}]\n"
        "    pricing: {input_token: 0.08, output_token: 0.32,"
        " service_tiers: {flex: {input_token: 0.04, output_token: 0.16}}}\n"
    )
    [fallback] = config.fallbacks
    assert (fallback.model_id, fallback.service_tier) == (None, "default")


def test_a_fallback_must_go_somewhere_else() -> None:
    [problem] = problems("    fallbacks: [{label: nowhere}]\n")
    assert "names a model_id, an aws_region or a service_tier" in problem
    [repeat] = problems("    service_tier: default\n    fallbacks: [{service_tier: default}]\n")
    assert "repeats the bot's model" in repeat


def test_a_priced_tier_needs_its_prices() -> None:
    [problem] = problems("    service_tier: priority\n    pricing: {input_token: 0.08}\n")
    assert 'bot "b"' in problem
    assert 'field "service_tier"' in problem
    assert "pricing.service_tiers has no priority prices" in problem
    unpriced = bot("    service_tier: priority\n")  # a bot charging nothing needs none
    assert unpriced.service_tier == "priority"


def test_tier_prices_replace_only_what_they_name() -> None:
    pricing = Pricing(
        input_token=0.08,
        output_token=0.32,
        cache_read_token=0.02,
        service_tiers={"flex": TierPrices(input_token=0.04, output_token=0.16)},
    )
    flex = pricing.for_tier("flex")
    assert (flex.input_token, flex.output_token, flex.cache_read_token) == (0.04, 0.16, 0.02)
    assert pricing.for_tier("default") is pricing
    assert pricing.for_tier("priority") is pricing  # no priority prices: the standard ones
    assert pricing.for_tier(None) is pricing


def section_yaml(heading: str) -> str:
    """The first YAML block under ``heading`` in docs/configuration.md."""
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index(f"\n## {heading}\n") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None
    return match.group(1)


def test_the_documented_guardrail_example_means_what_it_says() -> None:
    catalog = parse_catalog("version: 1\n" + section_yaml("Guardrails"), "configuration.md")
    config = catalog.bot("nova-pro")
    assert isinstance(config, ChatBotConfig)
    assert config.guardrail is not None
    assert (config.guardrail.id, config.guardrail.version) == ("gr1a2b3c4d5e", "3")
    assert (config.guardrail.trace, config.guardrail.guard) == ("enabled_full", "all")
    assert config.guardrail.stream_processing_mode == "async"
    assert config.guardrail.screen_attachments


def test_the_documented_tier_example_means_what_it_says() -> None:
    text = "version: 1\nbots:\n" + section_yaml("Service tiers")
    config = parse_catalog(text, "configuration.md").bot("nova-pro-flex")
    assert isinstance(config, ChatBotConfig)
    assert config.service_tier == "flex"
    assert [f.service_tier for f in config.fallbacks] == ["default"]
    assert config.pricing.for_tier("flex").output_token == 0.16
