"""A JSON value that a (checked) structured-output schema describes, made deterministically.

What a model constrained by the schema would answer, as the emulator answers it: every property
of an object (in the schema's order), one item per array, an ``enum``'s first value, ``const``
as given, an ``anyOf``'s first branch that is not ``null``, the ``allOf`` branches merged;
strings are the prompt's text (a ``format`` gets a fixed sample of it), integers the prompt's
token count, numbers that plus one half, booleans ``true``. The schema must have passed
:func:`fmgate_emulator.schema_subset.check_schema`, so references are local and not recursive.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fmgate_emulator.content import count_tokens
from fmgate_emulator.schema_subset import resolve_ref

#: A value of each string ``format`` the subset takes.
FORMAT_SAMPLES: Mapping[str, str] = {
    "date-time": "2026-01-01T12:00:00Z",
    "time": "12:00:00Z",
    "date": "2026-01-01",
    "duration": "P1D",
    "email": "emulator@example.com",
    "hostname": "example.com",
    "uri": "https://example.com/",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
    "uuid": "00000000-0000-4000-8000-000000000000",
}
#: The string of a prompt without text.
EMPTY_PROMPT_TEXT = "text"


def schema_value(schema: Mapping[str, Any], prompt: str) -> Any:
    """The value the emulator answers for ``schema`` (the whole document), given the prompt."""
    return value_of(schema, schema, prompt.strip() or EMPTY_PROMPT_TEXT)


def value_of(node: Mapping[str, Any], root: Mapping[str, Any], prompt: str) -> Any:
    if "$ref" in node:
        return value_of(resolve_ref(node["$ref"], root), root, prompt)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    if "anyOf" in node:
        branches = node["anyOf"]
        chosen = next((b for b in branches if b.get("type") != "null"), branches[0])
        return value_of(chosen, root, prompt)
    if "allOf" in node:
        return value_of(merged(node, root), root, prompt)
    return typed_value(node, root, prompt)


def merged(node: Mapping[str, Any], root: Mapping[str, Any]) -> dict[str, Any]:
    """``allOf``'s branches (references followed) as one schema: properties and required
    names together, the other keywords of the later branches over the earlier ones'."""
    combined: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
    properties: dict[str, Any] = dict(combined.get("properties", {}))
    for branch in node["allOf"]:
        if "$ref" in branch:
            branch = resolve_ref(branch["$ref"], root)
        if "allOf" in branch:
            branch = merged(branch, root)
        properties.update(branch.get("properties", {}))
        combined.update({k: v for k, v in branch.items() if k != "properties"})
    if properties:
        combined["properties"] = properties
    return combined


def typed_value(node: Mapping[str, Any], root: Mapping[str, Any], prompt: str) -> Any:
    raw = node.get("type", "null")
    kinds = raw if isinstance(raw, list) else [raw]
    kind = next((k for k in kinds if k != "null"), "null")
    match kind:
        case "object":
            properties: Mapping[str, Any] = node.get("properties", {})
            return {name: value_of(sub, root, prompt) for name, sub in properties.items()}
        case "array":
            items = node.get("items")
            return [value_of(items, root, prompt)] if isinstance(items, Mapping) else []
        case "string":
            return FORMAT_SAMPLES.get(str(node.get("format")), prompt)
        case "integer":
            return count_tokens(prompt)
        case "number":
            return count_tokens(prompt) + 0.5
        case "boolean":
            return True
        case _:
            return None
