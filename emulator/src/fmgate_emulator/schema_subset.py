"""The JSON Schema subset structured outputs take, checked as Bedrock checks it.

Bedrock validates a structured-output schema (``outputConfig.textFormat``, a strict tool's
``inputSchema``) "against a supported subset of JSON Schema Draft 2020-12" and answers a schema
with unsupported features with a 400 at once (AWS user guide, "Get validated JSON results from
models", request workflow). The subset modelled here is the one Anthropic documents for Claude's
structured outputs (and its SDK's ``transform_schema`` keeps):

- types ``object``, ``array``, ``string``, ``integer``, ``number``, ``boolean``, ``null`` (or a
  list of them); ``enum`` of strings, numbers, booleans or null; ``const``; ``anyOf``; ``allOf``;
  local ``$ref`` into ``$defs`` / ``definitions``; annotations (``title``, ``description``,
  ``default``, ``examples``...);
- every object says ``additionalProperties: false`` (Bedrock's words for an object that does
  not: "For 'object' type, 'additionalProperties' must be explicitly set to false", reported by
  callers of Converse);
- string ``format`` one of date-time, time, date, duration, email, hostname, uri, ipv4, ipv6,
  uuid; array ``minItems`` 0 or 1;
- not taken: recursive schemas, external ``$ref``, numeric bounds (``minimum``, ``maximum``,
  ``multipleOf``...), string lengths, other array and object bounds, ``oneOf``, ``not``,
  conditionals, ``patternProperties``.

The wording of every refusal but the ``additionalProperties`` one is the emulator's (not
confirmed). ``pattern`` is refused as well: a limit of the emulator, which cannot generate a
string for an arbitrary regular expression (Claude takes simple patterns).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

TYPES = frozenset({"object", "array", "string", "integer", "number", "boolean", "null"})
STRING_FORMATS = frozenset(
    {"date-time", "time", "date", "duration", "email", "hostname", "uri", "ipv4", "ipv6", "uuid"}
)
#: Assertion keywords outside the subset, and what they are.
UNSUPPORTED_KEYWORDS: Mapping[str, str] = {
    **dict.fromkeys(
        ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"),
        "numerical constraints are not supported",
    ),
    **dict.fromkeys(("minLength", "maxLength"), "string length constraints are not supported"),
    **dict.fromkeys(
        ("maxItems", "uniqueItems", "contains", "minContains", "maxContains", "prefixItems"),
        "array constraints beyond minItems 0 or 1 are not supported",
    ),
    **dict.fromkeys(
        (
            "minProperties",
            "maxProperties",
            "patternProperties",
            "propertyNames",
            "dependentRequired",
            "dependentSchemas",
            "unevaluatedProperties",
            "unevaluatedItems",
        ),
        "this object constraint is not supported",
    ),
    **dict.fromkeys(("if", "then", "else", "not"), "conditional schemas are not supported"),
    "oneOf": "'oneOf' is not supported; use 'anyOf'",
    "pattern": "the fmgate emulator cannot generate strings for a 'pattern'",
}
#: Bedrock's message for an object schema that does not close itself.
OPEN_OBJECT = "For 'object' type, 'additionalProperties' must be explicitly set to false"
LOCAL_REFS = ("#/$defs/", "#/definitions/")


class SchemaProblem(Exception):
    """What is wrong with a schema (the caller says where the schema was)."""


def is_primitive(value: object) -> bool:
    return value is None or isinstance(value, str | int | float | bool)


def resolve_ref(ref: object, root: Mapping[str, Any]) -> Mapping[str, Any]:
    """The schema a local ``$ref`` names; a :class:`SchemaProblem` for any other."""
    if not isinstance(ref, str) or not ref.startswith(LOCAL_REFS):
        raise SchemaProblem(f"$ref {str(ref)[:80]!r}: only local references into $defs are taken")
    section, _, name = ref.removeprefix("#/").partition("/")
    target = (root.get(section) or {}).get(name)
    if not isinstance(target, Mapping):
        raise SchemaProblem(f"$ref {ref[:80]!r} names no definition")
    return target


def check_schema(schema: object) -> None:
    """Raise a :class:`SchemaProblem` for the first thing ``schema`` asks outside the subset."""
    if not isinstance(schema, Mapping):
        raise SchemaProblem("the schema must be a JSON object")
    check_node(schema, schema, ())


def check_node(node: object, root: Mapping[str, Any], expanding: tuple[str, ...]) -> None:
    if not isinstance(node, Mapping):
        raise SchemaProblem("every subschema must be a JSON object")
    for keyword, why in UNSUPPORTED_KEYWORDS.items():
        if keyword in node:
            raise SchemaProblem(f"'{keyword}': {why}")
    for section in ("$defs", "definitions"):
        definitions = node.get(section, {})
        if not isinstance(definitions, Mapping):
            raise SchemaProblem(f"'{section}' must be an object of schemas")
        for definition in definitions.values():
            check_node(definition, root, expanding)
    if "$ref" in node:
        ref = str(node["$ref"])
        if ref in expanding:
            raise SchemaProblem("recursive schemas are not supported")
        check_node(resolve_ref(ref, root), root, (*expanding, ref))
        return
    check_values(node)
    for combinator in ("anyOf", "allOf"):
        if combinator in node:
            branches = node[combinator]
            if not isinstance(branches, list) or not branches:
                raise SchemaProblem(f"'{combinator}' must be a non-empty list of schemas")
            for branch in branches:
                check_node(branch, root, expanding)
    types = declared_types(node)
    if not types and not {"enum", "const", "anyOf", "allOf"} & set(node):
        raise SchemaProblem("a schema needs a 'type', 'enum', 'const', 'anyOf', 'allOf' or '$ref'")
    if "object" in types:
        check_object(node, root, expanding)
    if "array" in types:
        check_array(node, root, expanding)
    if "string" in types and "format" in node and node["format"] not in STRING_FORMATS:
        raise SchemaProblem(f"string format {str(node['format'])[:40]!r} is not supported")


def declared_types(node: Mapping[str, Any]) -> tuple[str, ...]:
    raw = node.get("type")
    if raw is None:
        return ()
    types = tuple(raw) if isinstance(raw, list) else (raw,)
    for kind in types:
        if kind not in TYPES:
            raise SchemaProblem(f"type {str(kind)[:40]!r} is not a JSON Schema type")
    return types


def check_values(node: Mapping[str, Any]) -> None:
    if "enum" in node:
        values = node["enum"]
        if not isinstance(values, list) or not values or not all(map(is_primitive, values)):
            raise SchemaProblem(
                "'enum' takes a non-empty list of strings, numbers, booleans or null"
            )
    if "const" in node and not is_primitive(node["const"]):
        raise SchemaProblem("'const' takes a string, number, boolean or null")


#: The ``$ref``s being followed on the way to a node (one seen again is a recursion).
Expanding = tuple[str, ...]


def check_object(node: Mapping[str, Any], root: Mapping[str, Any], expanding: Expanding) -> None:
    if node.get("additionalProperties", True) is not False:
        raise SchemaProblem(OPEN_OBJECT)
    properties = node.get("properties", {})
    if not isinstance(properties, Mapping):
        raise SchemaProblem("'properties' must be an object of schemas")
    for value in properties.values():
        check_node(value, root, expanding)
    required = node.get("required", [])
    if not isinstance(required, list) or not all(isinstance(name, str) for name in required):
        raise SchemaProblem("'required' must be a list of property names")


def check_array(node: Mapping[str, Any], root: Mapping[str, Any], expanding: Expanding) -> None:
    if node.get("minItems", 0) not in (0, 1):
        raise SchemaProblem("'minItems' takes 0 or 1 only")
    if "items" in node:
        check_node(node["items"], root, expanding)
