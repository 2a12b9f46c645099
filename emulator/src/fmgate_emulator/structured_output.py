"""Structured outputs on Converse: the answer's JSON schema and strict tools, checked as Bedrock
checks them.

The wire shape (botocore's bedrock-runtime model): ``outputConfig.textFormat`` is an
OutputFormat ``{"type": "json_schema", "structure": {"jsonSchema": {"schema": "<the schema as a
JSON string>", "name"?, "description"?}}}``; a tool's ``toolSpec.strict: true`` asks for tool
input that follows its ``inputSchema``. Only the models AWS lists for structured outputs take
either (the catalogue's ``structured_output``; AWS user guide, "Get validated JSON results from
models"); the schemas must keep to the subset of :mod:`fmgate_emulator.schema_subset`.

Refusals (ValidationException): a Claude model without structured outputs answers
``outputConfig.textFormat`` as Anthropic answers an unknown field, "The model returned the
following errors: output_config.format: Extra inputs are not permitted" (reported by Converse
callers); the other texts are the emulator's, in Bedrock's style (not confirmed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fmgate_emulator.errors import BedrockError, validation
from fmgate_emulator.models import ModelSpec
from fmgate_emulator.schema_subset import SchemaProblem, check_schema

#: OutputFormatType.
FORMAT_TYPES = ("json_schema",)
#: Anthropic's words, which Bedrock passes on, for a request member the model does not know.
MODEL_ERRORS = "The model returned the following errors: "
EXTRA_INPUT = "Extra inputs are not permitted"


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """The JSON schema the answer's text follows (``outputConfig.textFormat``)."""

    schema: Mapping[str, Any]
    name: str | None = None


def output_schema_place(spec: ModelSpec) -> str:
    """Where an error about the answer's schema says the schema is (Claude names its own
    field)."""
    if spec.anthropic:
        return "output_config.format.schema"
    return "outputConfig.textFormat.structure.jsonSchema.schema"


def tool_schema_place(spec: ModelSpec, index: int) -> str:
    if spec.anthropic:
        return f"tools.{index}.custom.input_schema"
    return f"toolConfig.tools.{index}.toolSpec.inputSchema.json"


def schema_refusal(spec: ModelSpec, place: str, problem: SchemaProblem) -> BedrockError:
    if spec.anthropic:
        return validation(f"{MODEL_ERRORS}{place}: {problem}")
    return validation(f"The JSON schema at {place} is not supported: {problem}")


def not_taken(spec: ModelSpec, anthropic_field: str, converse_field: str) -> BedrockError:
    """A structured-output member sent to a model without structured outputs."""
    if spec.anthropic:
        return validation(f"{MODEL_ERRORS}{anthropic_field}: {EXTRA_INPUT}")
    return validation(
        f"This model doesn't support the {converse_field} field. Remove {converse_field} and try "
        "again."
    )


def parse_output_config(raw: Any, spec: ModelSpec) -> OutputSchema | None:
    """The checked ``outputConfig.textFormat`` of a call; None when it asks for none."""
    text_format = raw.get("textFormat") if isinstance(raw, dict) else None
    if text_format is None:
        return None
    if not spec.structured_output:
        raise not_taken(spec, "output_config.format", "outputConfig.textFormat")
    kind = text_format.get("type") if isinstance(text_format, dict) else None
    if kind not in FORMAT_TYPES:
        raise validation(
            f"1 validation error detected: Value '{kind}' at 'outputConfig.textFormat.type' "
            f"failed to satisfy constraint: Member must satisfy enum value set: [json_schema]"
        )
    definition = (text_format.get("structure") or {}).get("jsonSchema")
    if not isinstance(definition, dict) or not isinstance(definition.get("schema"), str):
        raise validation("outputConfig.textFormat.structure must hold a jsonSchema with a schema.")
    try:
        schema = json.loads(definition["schema"])
    except json.JSONDecodeError:
        raise validation(
            "The schema in outputConfig.textFormat.structure.jsonSchema is not valid JSON."
        ) from None
    try:
        check_schema(schema)
    except SchemaProblem as problem:
        raise schema_refusal(spec, output_schema_place(spec), problem) from None
    name = definition.get("name")
    return OutputSchema(schema, name if isinstance(name, str) else None)


def strict_tools(tools: list[Any], spec: ModelSpec) -> dict[str, Mapping[str, Any]]:
    """The input schemas of the tools declared ``strict``, by name (checked: the model takes
    strict tools, each schema keeps to the subset)."""
    strict: dict[str, Mapping[str, Any]] = {}
    for index, tool in enumerate(tools):
        tool_spec = tool.get("toolSpec") if isinstance(tool, dict) else None
        if not isinstance(tool_spec, dict) or tool_spec.get("strict") is not True:
            continue
        if not spec.structured_output:
            raise not_taken(
                spec, f"tools.{index}.strict", f"toolConfig.tools.{index}.toolSpec.strict"
            )
        schema = (tool_spec.get("inputSchema") or {}).get("json")
        try:
            check_schema(schema)
        except SchemaProblem as problem:
            raise schema_refusal(spec, tool_schema_place(spec, index), problem) from None
        if isinstance(schema, Mapping):
            strict[str(tool_spec.get("name"))] = schema
    return strict
