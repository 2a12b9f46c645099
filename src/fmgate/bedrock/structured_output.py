"""Structured outputs in Converse: the answer's JSON schema (``outputConfig``) and strict tools.

Wire shape (botocore's bedrock-runtime model): ``outputConfig.textFormat`` is an OutputFormat
``{"type": "json_schema", "structure": {"jsonSchema": {"schema": <the schema as a JSON string>,
"name"?, "description"?}}}``; ``ToolSpecification.strict: true`` makes the model's tool input
follow the tool's ``inputSchema``. Bedrock takes a subset of JSON Schema and requires every
object to say ``additionalProperties: false``; an object schema that says nothing about it is
sent closed (:func:`closed_schema`), which is what the caller's schema means for an answer that
names only the properties it declares. Everything else goes as the caller wrote it, and Bedrock
refuses what it does not take (``ValidationException``: ``InvalidRequest``).
"""

from __future__ import annotations

import json

from fmgate.core.model_request import OutputSchema

#: Members of a schema that hold one subschema, or a list or mapping of them.
SUBSCHEMA = ("items", "not", "if", "then", "else", "additionalItems", "contains")
SUBSCHEMA_LISTS = ("anyOf", "allOf", "oneOf", "prefixItems")
SUBSCHEMA_MAPS = ("properties", "$defs", "definitions", "patternProperties")


def is_object_schema(node: dict[str, object]) -> bool:
    kind = node.get("type")
    return kind == "object" or (isinstance(kind, list) and "object" in kind)


def closed_schema(schema: dict[str, object]) -> dict[str, object]:
    """``schema`` with ``additionalProperties: false`` on every object schema that does not say
    (a copy; schemas that say, true or a schema, are left for Bedrock to judge)."""
    closed: dict[str, object] = {}
    for key, value in schema.items():
        if key in SUBSCHEMA and isinstance(value, dict):
            closed[key] = closed_schema(value)
        elif key in SUBSCHEMA_LISTS and isinstance(value, list):
            closed[key] = [closed_schema(v) if isinstance(v, dict) else v for v in value]
        elif key in SUBSCHEMA_MAPS and isinstance(value, dict):
            closed[key] = {
                name: closed_schema(sub) if isinstance(sub, dict) else sub
                for name, sub in value.items()
            }
        else:
            closed[key] = value
    if is_object_schema(schema) and "additionalProperties" not in schema:
        closed["additionalProperties"] = False
    return closed


def build_output_config(output: OutputSchema) -> dict[str, object]:
    """``outputConfig`` asking for an answer that ``output``'s schema describes."""
    definition: dict[str, object] = {
        "schema": json.dumps(closed_schema(output.schema), separators=(",", ":"))
    }
    if output.name:
        definition["name"] = output.name
    if output.description:
        definition["description"] = output.description
    return {
        "textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}},
    }
