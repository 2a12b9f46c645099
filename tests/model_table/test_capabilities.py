"""``fmgate validate`` refuses guardrails, service tiers, structured outputs and citations the
model table says a model does not take, naming the bot, the field and the model."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from fmgate.cli import main

BUNDLED_TABLE = str(resources.files("fmgate.model_table").joinpath("model_table.yaml"))
#: A table with one chat model that takes no guardrail and only the default tier.
SMALL_TABLE = """
as_of: "2026-12-01"
models:
  - model_id: example.plain-chat-v1:0
    kind: chat
    name: plain
    description: A chat model without guardrails.
    prices: {}
"""


def validate(tmp_path: Path, bots: str, table: str = BUNDLED_TABLE) -> int:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(f"version: 1\nbots:\n{bots}")
    return main(["validate", str(catalog), "--model-table", table])


def test_tiers_and_guardrails_the_models_take_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = """\
  - bot_name: flexible
    model_id: amazon.nova-pro-v1:0
    service_tier: flex
    fallbacks: [{service_tier: default}]
    guardrail: {id: gr1abc, version: 1}
"""
    assert validate(tmp_path, bots) == 0
    assert "1 bots OK" in capsys.readouterr().out


def test_a_tier_the_model_does_not_offer_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = """\
  - bot_name: lite
    model_id: amazon.nova-lite-v1:0
    service_tier: priority
  - bot_name: pro
    model_id: amazon.nova-pro-v1:0
    fallbacks: [{model_id: us.anthropic.claude-sonnet-4-5-20250929-v1:0, service_tier: flex}]
"""
    assert validate(tmp_path, bots) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("catalog.yaml: 2 problems")
    assert err[1].endswith(
        'bot "lite": field "service_tier": model amazon.nova-lite-v1:0 does not offer service '
        "tier priority (the model table's service_tiers: default)"
    )
    assert 'bot "pro": field "fallbacks[0].service_tier": model us.anthropic.claude' in err[2]


def test_a_guardrail_on_a_model_without_them_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    table = tmp_path / "table.yaml"
    table.write_text(SMALL_TABLE)
    bots = """\
  - bot_name: plain
    model_id: example.plain-chat-v1:0
    guardrail: {id: gr1abc, version: DRAFT}
  - bot_name: unknown-to-the-table
    model_id: example.newer-chat-v2:0
    guardrail: {id: gr1abc, version: DRAFT}
"""
    assert validate(tmp_path, bots, str(table)) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2  # the model the table does not hold is not judged
    assert err[1].endswith(
        'bot "plain": field "guardrail": model example.plain-chat-v1:0 takes no guardrail '
        "(the model table's guardrails: false)"
    )


SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
GPT_OSS = "openai.gpt-oss-120b-1:0"


def test_reasoning_the_models_take_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = f"""\
  - bot_name: sonnet-thinking
    model_id: {SONNET_45}
    max_tokens_limit: 64000
    reasoning_controls: {{thinking: [budget]}}
    enable_reasoning: true
  - bot_name: gpt-oss
    model_id: {GPT_OSS}
    reasoning_controls: {{efforts: [low, medium, high], effort_field: reasoning_effort}}
    reasoning_effort: high
"""
    assert validate(tmp_path, bots) == 0
    assert "2 bots OK" in capsys.readouterr().out


def test_reasoning_a_model_does_not_take_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = f"""\
  - bot_name: adaptive-sonnet
    model_id: {SONNET_45}
    reasoning_controls: {{thinking: [budget, adaptive]}}
    enable_reasoning: true
    thinking_mode: adaptive
  - bot_name: sonnet-effort
    model_id: {SONNET_45}
    reasoning_controls: {{efforts: [low, medium, high], effort_field: output_config}}
    reasoning_effort: low
  - bot_name: thinking-gpt-oss
    model_id: {GPT_OSS}
    enable_reasoning: true
  - bot_name: gpt-oss-to-nova
    model_id: {GPT_OSS}
    reasoning_controls: {{efforts: [low, medium, high], effort_field: reasoning_effort}}
    reasoning_effort: medium
    fallbacks: [{{model_id: amazon.nova-pro-v1:0}}]
"""
    assert validate(tmp_path, bots) == 1
    err = [line.split("/catalog.yaml: ", 1)[1] for line in capsys.readouterr().err.splitlines()[1:]]
    model = f"model {SONNET_45}"
    assert err == [
        f'bot "adaptive-sonnet": field "thinking_mode": {model} takes no adaptive '
        "thinking (the model table's reasoning_controls.thinking: budget)",
        f'bot "adaptive-sonnet": field "reasoning_controls": {model} does not take '
        "thinking adaptive (see the model table)",
        f'bot "sonnet-effort": field "reasoning_effort": {model} takes no reasoning '
        "effort low (the model table's reasoning_controls.efforts: none)",
        f'bot "sonnet-effort": field "reasoning_controls": {model} does not take '
        "effort low, effort medium, effort high (see the model table)",
        f'bot "thinking-gpt-oss": field "enable_reasoning": model {GPT_OSS} takes '
        "no thinking budget (the model table's reasoning_controls.thinking: none)",
        'bot "gpt-oss-to-nova": field "reasoning_effort": model '
        "amazon.nova-pro-v1:0 takes no reasoning effort medium (the model table's "
        "reasoning_controls.efforts: none)",
        'bot "gpt-oss-to-nova": field "reasoning_controls": model '
        "amazon.nova-pro-v1:0 does not take effort low, effort medium, effort high (see the "
        "model table)",
    ]


def test_citations_on_a_model_that_does_not_cite_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = """\
  - bot_name: cited
    model_id: us.anthropic.claude-sonnet-4-5-20250929-v1:0
    supports_documents: true
    citations: true
  - bot_name: nova-cited
    model_id: amazon.nova-pro-v1:0
    supports_documents: true
    citations: true
  - bot_name: haiku-3
    model_id: anthropic.claude-3-haiku-20240307-v1:0
    supports_documents: true
    citations: true
    fallbacks: [{model_id: us.anthropic.claude-haiku-4-5-20251001-v1:0}]
"""
    assert validate(tmp_path, bots) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("catalog.yaml: 2 problems")
    assert err[1].endswith(
        'bot "nova-cited": field "citations": model amazon.nova-pro-v1:0 does not cite '
        "documents (the model table's citations: false)"
    )
    assert err[2].endswith(
        'bot "haiku-3": field "citations": model anthropic.claude-3-haiku-20240307-v1:0 does '
        "not cite documents (the model table's citations: false)"
    )


def test_citations_on_a_fallback_that_does_not_cite_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = """\
  - bot_name: cited
    model_id: us.anthropic.claude-sonnet-4-5-20250929-v1:0
    supports_documents: true
    citations: true
    fallbacks: [{model_id: amazon.nova-pro-v1:0}]
"""
    assert validate(tmp_path, bots) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[1].endswith(
        'bot "cited": field "citations": model amazon.nova-pro-v1:0 does not cite documents '
        "(the model table's citations: false)"
    )


SCHEMA = "{name: answer, json_schema: {type: object, additionalProperties: false}}"


def test_structured_outputs_the_models_take_pass(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = f"""\
  - bot_name: extractor
    model_id: qwen.qwen3-32b-v1:0
    structured_output: true
    response_schema: {SCHEMA}
    fallbacks: [{{model_id: us.anthropic.claude-haiku-4-5-20251001-v1:0}}]
"""
    assert validate(tmp_path, bots) == 0
    assert "1 bots OK" in capsys.readouterr().out


def test_structured_outputs_on_a_model_without_them_are_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bots = f"""\
  - bot_name: nova-json
    model_id: amazon.nova-pro-v1:0
    structured_output: true
  - bot_name: extractor
    model_id: us.anthropic.claude-sonnet-4-5-20250929-v1:0
    structured_output: true
    response_schema: {SCHEMA}
    fallbacks: [{{model_id: us.anthropic.claude-opus-4-1-20250805-v1:0}}]
"""
    assert validate(tmp_path, bots) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].endswith("catalog.yaml: 2 problems")
    assert err[1].endswith(
        'bot "nova-json": field "structured_output": model amazon.nova-pro-v1:0 takes no '
        "structured outputs (the model table's structured_output: false)"
    )
    assert err[2].endswith(
        'bot "extractor": field "response_schema": model '
        "us.anthropic.claude-opus-4-1-20250805-v1:0 takes no structured outputs (the model "
        "table's structured_output: false)"
    )
