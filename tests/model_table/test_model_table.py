"""The bundled model table agrees with the emulator's declared capabilities and the catalog."""

from __future__ import annotations

import datetime

import pytest

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.loader import load_catalog
from fmgate.model_table.table import (
    ModelFacts,
    UnknownModel,
    bundled_table,
    find_model,
    plain_model_id,
)
from fmgate_emulator.models import MODELS_BY_ID, Modality, Reasoning

EMULATOR_KIND = {Modality.CHAT: "chat", Modality.IMAGE: "image", Modality.VIDEO: "video"}


def test_the_table_is_dated_and_covers_every_emulated_model() -> None:
    table = bundled_table()
    datetime.date.fromisoformat(table.as_of)
    assert {facts.model_id for facts in table.models} == set(MODELS_BY_ID)


@pytest.mark.parametrize("facts", bundled_table().models, ids=lambda f: f.model_id)
def test_capabilities_match_the_emulator(facts: ModelFacts) -> None:
    spec = MODELS_BY_ID[facts.model_id]
    assert facts.kind == EMULATOR_KIND[spec.modality]
    assert facts.profile_only == spec.profile_only
    if facts.kind == "chat":
        assert ("image" in facts.input) == spec.vision
        assert ("document" in facts.input) == spec.documents
        assert facts.system_messages == spec.system_messages
        assert facts.tool_use == spec.tool_use.value
        assert facts.reasoning == Reasoning(spec.reasoning).value
        assert facts.max_output_tokens == spec.max_output_tokens
        assert facts.context_window is not None
    assert set(facts.forced_tool_choices) == spec.tool_choices
    assert facts.count_tokens == spec.count_tokens
    assert set(facts.anthropic_betas) == (spec.anthropic_betas or set())
    controls = facts.reasoning_controls
    thinking_types = {"budget": "enabled", "adaptive": "adaptive"}
    taken = {thinking_types[mode] for mode in controls.thinking}
    assert taken == spec.thinking_types - {"disabled"}
    assert (controls.efforts, controls.effort_field) == (spec.efforts, spec.effort_field)
    assert controls.effort_beta == spec.effort_beta
    assert facts.structured_output == spec.structured_output
    assert facts.citations == spec.citations
    caching, emulated = facts.prompt_caching, spec.caching
    assert (caching is None) == (emulated is None)
    if caching is not None and emulated is not None:
        assert caching.min_tokens == emulated.min_tokens
        assert set(caching.ttls) == emulated.ttls
        assert caching.tools == emulated.tools


def test_prompt_caching_facts_are_consistent_with_the_prices() -> None:
    """A model priced for 1-hour cache writes accepts the 1h TTL; one with cache prices takes
    checkpoints; every model taking them accepts the 5-minute default."""
    for facts in bundled_table().models:
        caching = facts.prompt_caching
        for pricing in facts.prices.values():
            if pricing.cache_write_token or pricing.cache_read_token:
                assert caching is not None, facts.model_id
            if pricing.cache_write_1h_token:
                assert caching is not None, facts.model_id
                assert "1h" in caching.ttls, facts.model_id
        if caching is not None:
            assert facts.kind == "chat"
            assert "5m" in caching.ttls


def test_prices_match_the_bundled_catalog() -> None:
    table = {facts.model_id: facts for facts in bundled_table().models}
    for bot in load_catalog(None).bots:
        facts = table[plain_model_id(bot.model_id)]
        assert facts.prices[bot.aws_region] == bot.pricing.model_copy(
            update={"authorize": False}
        ), bot.bot_name


def test_prompt_caching_matches_the_bundled_catalog() -> None:
    """Every bundled chat bot declares the prompt caching its model takes (and none other)."""
    table = {facts.model_id: facts for facts in bundled_table().models}
    for bot in load_catalog(None).bots:
        if not isinstance(bot, ChatBotConfig):
            continue
        facts = table[plain_model_id(bot.model_id)].prompt_caching
        declared = bot.prompt_caching
        if facts is None:
            assert declared is None or declared.min_tokens is None, bot.bot_name
            continue
        assert declared is not None, bot.bot_name
        assert declared.active, bot.bot_name
        assert (declared.min_tokens, declared.ttls, declared.tools) == (
            facts.min_tokens,
            facts.ttls,
            facts.tools,
        ), bot.bot_name


def test_tool_use_matches_the_bundled_catalog() -> None:
    """Every bundled chat bot declares the tool use its model has."""
    table = {facts.model_id: facts for facts in bundled_table().models}
    for bot in load_catalog(None).bots:
        if isinstance(bot, ChatBotConfig):
            assert bot.tool_use == table[plain_model_id(bot.model_id)].tool_use, bot.bot_name


def test_tool_choices_token_counting_and_betas_match_the_bundled_catalog() -> None:
    """Every bundled chat bot declares its model's forced tool choices, CountTokens, betas and
    structured outputs."""
    table = {facts.model_id: facts for facts in bundled_table().models}
    for bot in load_catalog(None).bots:
        if not isinstance(bot, ChatBotConfig):
            continue
        facts = table[plain_model_id(bot.model_id)]
        assert bot.forced_tool_choices == facts.forced_tool_choices, bot.bot_name
        assert bot.count_tokens == facts.count_tokens, bot.bot_name
        assert bot.anthropic_betas == facts.anthropic_betas, bot.bot_name
        assert bot.structured_output == facts.structured_output, bot.bot_name


def test_lookup_takes_profile_ids_and_suggests_close_matches() -> None:
    assert find_model("us.amazon.nova-premier-v1:0").model_id == "amazon.nova-premier-v1:0"
    assert find_model("amazon.nova-premier-v1:0").invocation_id("us-east-1") == (
        "us.amazon.nova-premier-v1:0"
    )
    assert find_model("amazon.nova-premier-v1:0").invocation_id("eu-west-1") == (
        "eu.amazon.nova-premier-v1:0"
    )
    assert find_model("amazon.nova-pro-v1:0").invocation_id("us-east-1") == "amazon.nova-pro-v1:0"
    with pytest.raises(UnknownModel) as caught:
        find_model("amazon.nova-prp-v1:0")
    assert "amazon.nova-pro-v1:0" in caught.value.suggestions


def test_reasoning_controls_match_the_bundled_catalog() -> None:
    """Every bundled chat bot declares its model's reasoning controls, and thinks (or sets an
    effort) only as its model takes it."""
    table = {facts.model_id: facts for facts in bundled_table().models}
    for bot in load_catalog(None).bots:
        if not isinstance(bot, ChatBotConfig):
            continue
        controls = table[plain_model_id(bot.model_id)].reasoning_controls
        assert bot.reasoning_controls == controls, bot.bot_name
        if bot.enable_reasoning:
            assert bot.thinking_mode in controls.thinking, bot.bot_name


def test_models_that_reason_always_or_never_take_no_thinking() -> None:
    for facts in bundled_table().models:
        if facts.reasoning != "on_request":
            assert facts.reasoning_controls.thinking == (), facts.model_id


def test_tiers_and_profiles_match_the_emulator() -> None:
    """The service tiers a model takes, and its inference profiles where the emulator declares
    them (the table's profile_ids are the emulator's prefixes on the model's id)."""
    for facts in bundled_table().models:
        spec = MODELS_BY_ID[facts.model_id]
        assert set(facts.service_tiers) == spec.service_tiers, facts.model_id
        if spec.profiles is None:
            assert facts.profile_ids == (), facts.model_id
        else:
            expected = {f"{prefix}{facts.model_id}" for prefix in spec.profiles}
            assert set(facts.profile_ids) == expected, facts.model_id
        if facts.profile_only:
            assert spec.profiles is None or spec.profiles, facts.model_id


#: Ids seen in real Bedrock traffic in 2026 (issue 18), as sent.
RECORDED_IDS = (
    "us.anthropic.claude-sonnet-4-6",
    "us.amazon.nova-2-lite-v1:0",
    "moonshot.kimi-k2-thinking",
    "zai.glm-4.7-flash",
    "qwen.qwen3-32b-v1:0",
    "openai.gpt-oss-120b-1:0",
    "us.writer.palmyra-x4-v1:0",
)


@pytest.mark.parametrize("sent", RECORDED_IDS)
def test_ids_of_recorded_traffic_are_in_the_table_called_the_way_they_were(sent: str) -> None:
    facts = find_model(sent)
    assert facts.invocation_id("us-east-1") == sent


def test_the_2026_entries_are_dated_and_unconfirmed_prices_are_absent() -> None:
    by_id = {facts.model_id: facts for facts in bundled_table().models}
    sonnet = by_id["anthropic.claude-sonnet-4-6"]
    assert sonnet.prices_as_of == datetime.date(2026, 10, 5)
    assert sonnet.invocation_id("ap-southeast-2") == "global.anthropic.claude-sonnet-4-6"
    assert by_id["anthropic.claude-opus-4-6-v1"].invocation_id("ap-southeast-2") == (
        "apac.anthropic.claude-opus-4-6-v1"
    )
    for unpriced in ("moonshot.kimi-k2-thinking", "zai.glm-4.7-flash", "writer.palmyra-x4-v1:0"):
        assert not by_id[unpriced].priced
    assert all(facts.prices_as_of is not None for facts in by_id.values())
