"""A chat bot's structured outputs in a catalog: the model's capability and the bot-level response
schema, which needs it; the documented example."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.errors import CatalogError
from fmgate.config.loader import parse_catalog

DOC = Path(__file__).parents[2] / "docs" / "configuration.md"
SCHEMA = "{type: object, properties: {a: {type: string}}, additionalProperties: false}"


def bot(lines: str) -> ChatBotConfig:
    text = f"version: 1\nbots:\n  - bot_name: b\n    model_id: qwen.qwen3-32b-v1:0\n{lines}"
    config = parse_catalog(text, "catalog.yaml").bot("b")
    assert isinstance(config, ChatBotConfig)
    return config


def problems(lines: str) -> list[str]:
    with pytest.raises(CatalogError) as caught:
        bot(lines)
    return [str(problem) for problem in caught.value.problems]


def test_a_response_schema_on_a_model_with_structured_outputs() -> None:
    config = bot(
        "    structured_output: true\n"
        f"    response_schema: {{name: answer, description: An answer., json_schema: {SCHEMA}}}\n"
    )
    assert config.response_schema is not None
    assert config.response_schema.name == "answer"
    assert config.response_schema.json_schema["additionalProperties"] is False


def test_a_response_schema_needs_structured_outputs() -> None:
    [problem] = problems(f"    response_schema: {{name: answer, json_schema: {SCHEMA}}}\n")
    assert 'field "response_schema"' in problem
    assert "needs a model with structured outputs" in problem


@pytest.mark.parametrize(
    ("section", "field"),
    [
        (f"{{name: 'has space', json_schema: {SCHEMA}}}", "response_schema.name"),
        ("{name: answer, json_schema: {type: string, default: 2026-01-01}}", "json_schema"),
        ("{name: answer}", "response_schema.json_schema"),
    ],
)
def test_a_bad_response_schema_names_its_field(section: str, field: str) -> None:
    [problem] = problems(f"    structured_output: true\n    response_schema: {section}\n")
    assert field in problem


def test_the_documented_example_means_what_it_says() -> None:
    text = DOC.read_text(encoding="utf-8")
    section = text[text.index("\n## Structured output\n") :]
    match = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert match is not None
    config = parse_catalog("version: 1\n" + match.group(1), "configuration.md").bot("triage")
    assert isinstance(config, ChatBotConfig)
    assert config.structured_output
    assert config.response_schema is not None
    assert config.response_schema.name == "ticket"
