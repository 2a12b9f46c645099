"""How a bot is assembled: defaults <- template chain (base first) <- entry."""

from __future__ import annotations

from pathlib import Path

from fmgate.config.layers import deep_merge
from fmgate.config.loader import load_catalog, parse_catalog
from tests.harness.catalogs import chat_bot

LAYERED = """
version: 1
gateway:
  max_attempts: 5
defaults:
  access_key: env:POE_ACCESS_KEY
  aws_region: us-west-2
  max_tokens: 1000
  stop_sequences: ["DEFAULT"]
  pricing: {input_token: 0.1, output_token: 0.2, minimum: 5}
  additional_model_request_fields: {top_k: 50, nested: {a: 1, b: 2}}
templates:
  base:
    kind: chat
    temperature: 0.3
    max_tokens_limit: 4000
    pricing: {output_token: 0.4}
  vision:
    extends: base
    supports_images: true
    temperature: 0.5
    stop_sequences: ["TEMPLATE", "TWO"]
    additional_model_request_fields: {nested: {b: 20, c: 30}}
bots:
  - bot_name: layered
    template: vision
    model_id: amazon.nova-lite-v1:0
    temperature: 0.7
    pricing: {input_token: 0.05}
  - bot_name: plain
    model_id: amazon.nova-micro-v1:0
  - bot_name: own-key
    model_id: amazon.nova-micro-v1:0
    access_key: aws-secretsmanager:poe/keys#own-key
    stop_sequences: []
"""


def test_entry_overrides_template_chain_which_overrides_defaults() -> None:
    bot = chat_bot(parse_catalog(LAYERED, "layered.yaml"), "layered")
    assert bot.temperature == 0.7  # entry beats vision (0.5) beats base (0.3)
    assert bot.supports_images is True  # from vision
    assert bot.max_tokens_limit == 4000  # from base, through vision
    assert bot.max_tokens == 1000  # from defaults
    assert bot.aws_region == "us-west-2"  # from defaults
    assert bot.access_key == "env:POE_ACCESS_KEY"


def test_mappings_merge_key_by_key_across_all_layers() -> None:
    bot = chat_bot(parse_catalog(LAYERED, "layered.yaml"), "layered")
    # input from the entry, output from the base template, minimum from defaults
    assert (bot.pricing.input_token, bot.pricing.output_token, bot.pricing.minimum) == (
        0.05,
        0.4,
        5,
    )
    assert bot.additional_model_request_fields == {
        "top_k": 50,
        "nested": {"a": 1, "b": 20, "c": 30},
    }


def test_lists_are_replaced_not_appended() -> None:
    catalog = parse_catalog(LAYERED, "layered.yaml")
    assert chat_bot(catalog, "layered").stop_sequences == ("TEMPLATE", "TWO")
    assert chat_bot(catalog, "plain").stop_sequences == ("DEFAULT",)
    assert chat_bot(catalog, "own-key").stop_sequences == ()


def test_bot_without_template_gets_defaults_and_schema_defaults() -> None:
    bot = chat_bot(parse_catalog(LAYERED, "layered.yaml"), "plain")
    assert bot.kind == "chat"
    assert bot.temperature is None
    assert bot.supports_images is False
    assert bot.max_tokens_limit == 8192  # ChatBotConfig's own default
    assert bot.pricing.output_token == 0.2


def test_entry_may_use_its_own_secret_reference() -> None:
    bot = chat_bot(parse_catalog(LAYERED, "layered.yaml"), "own-key")
    assert bot.access_key == "aws-secretsmanager:poe/keys#own-key"


def test_gateway_section_is_validated_and_kept() -> None:
    catalog = parse_catalog(LAYERED, "layered.yaml")
    assert catalog.gateway.max_attempts == 5
    assert catalog.gateway.read_timeout_seconds == 300.0


def test_bots_keep_file_order() -> None:
    catalog = parse_catalog(LAYERED, "layered.yaml")
    assert [bot.bot_name for bot in catalog.bots] == ["layered", "plain", "own-key"]


def test_yaml_anchors_can_share_values() -> None:
    text = """
version: 1
bots:
  - bot_name: one
    model_id: amazon.nova-micro-v1:0
    pricing: &cheap {input_token: 0.01, output_token: 0.02}
  - bot_name: two
    model_id: amazon.nova-lite-v1:0
    pricing: *cheap
"""
    catalog = parse_catalog(text, "anchors.yaml")
    assert chat_bot(catalog, "one").pricing == chat_bot(catalog, "two").pricing


def test_three_level_template_chain_applies_base_first() -> None:
    text = """
version: 1
templates:
  a: {max_tokens: 100, temperature: 0.1, top_p: 0.5}
  b: {extends: a, max_tokens: 200, temperature: 0.2}
  c: {extends: b, max_tokens: 300}
bots:
  - {bot_name: x, template: c, model_id: amazon.nova-micro-v1:0}
"""
    bot = chat_bot(parse_catalog(text, "chain.yaml"), "x")
    assert (bot.max_tokens, bot.temperature, bot.top_p) == (300, 0.2, 0.5)


def test_deep_merge_does_not_modify_its_inputs() -> None:
    base = {"a": {"x": 1}, "list": [1, 2]}
    override = {"a": {"y": 2}, "list": [3]}
    assert deep_merge(base, override) == {"a": {"x": 1, "y": 2}, "list": [3]}
    assert base == {"a": {"x": 1}, "list": [1, 2]}
    assert override == {"a": {"y": 2}, "list": [3]}


def test_explicit_null_in_entry_replaces_inherited_value() -> None:
    text = """
version: 1
defaults: {temperature: 0.4}
bots:
  - {bot_name: x, model_id: amazon.nova-micro-v1:0, temperature: null}
"""
    assert chat_bot(parse_catalog(text, "null.yaml"), "x").temperature is None


def test_load_catalog_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "catalog.yaml"
    path.write_text(LAYERED, encoding="utf-8")
    assert len(load_catalog(path).bots) == 3


def test_dollar_strings_are_not_interpolated() -> None:
    text = """
version: 1
bots:
  - bot_name: x
    model_id: amazon.nova-micro-v1:0
    system_prompt: "Costs ${HOME} and $USER"
"""
    assert chat_bot(parse_catalog(text, "x.yaml"), "x").system_prompt == "Costs ${HOME} and $USER"
