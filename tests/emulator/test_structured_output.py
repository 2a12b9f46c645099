"""Structured outputs through the real SDK: an answer that validates against its JSON schema
(Converse, and ConverseStream in pieces), strict tools whose input follows their schema, and
Bedrock's refusals (a model without structured outputs, a schema outside the subset)."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from botocore.exceptions import ClientError

from fmgate_emulator.content import count_tokens
from fmgate_emulator.schema_subset import SchemaProblem, check_schema
from fmgate_emulator.schema_values import schema_value
from tests.emulator.sdk import user

SONNET_45 = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
QWEN = "qwen.qwen3-32b-v1:0"
NOVA_LITE = "amazon.nova-lite-v1:0"
OPUS_41 = "us.anthropic.claude-opus-4-1-20250805-v1:0"

#: Every feature of the subset at once: nested objects, arrays, enums, const, formats, numbers,
#: nullable fields (a type list and an anyOf), allOf, and $defs with a $ref.
TICKET: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string", "description": "One line."},
        "priority": {"type": "string", "enum": ["low", "normal", "urgent"]},
        "kind": {"const": "ticket"},
        "estimate_hours": {"type": "number"},
        "attempts": {"type": "integer"},
        "resolved": {"type": "boolean"},
        "opened": {"type": "string", "format": "date-time"},
        "reporter": {"$ref": "#/$defs/person"},
        "assignee": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/person"}]},
        "labels": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "due": {"type": ["string", "null"], "format": "date"},
        "home": {"type": "string", "format": "uri"},
        "severity": {"allOf": [{"type": "string"}, {"enum": ["minor", "major"]}]},
    },
    "required": ["title", "priority", "kind", "reporter", "labels"],
    "additionalProperties": False,
    "$defs": {
        "person": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "email": {"type": "string", "format": "email"},
            },
            "required": ["name"],
            "additionalProperties": False,
        }
    },
}


def output_config(schema: dict[str, Any], name: str = "ticket") -> dict[str, Any]:
    """Converse's outputConfig asking for an answer following ``schema``."""
    definition = {"schema": json.dumps(schema), "name": name, "description": "A ticket."}
    return {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": definition}}}


def answer_text(response: dict[str, Any]) -> str:
    return "".join(b.get("text", "") for b in response["output"]["message"]["content"])


@pytest.mark.parametrize("model", [SONNET_45, QWEN, "openai.gpt-oss-20b-1:0"])
def test_the_answer_validates_against_the_schema(bedrock: Any, model: str) -> None:
    response = bedrock.converse(
        modelId=model,
        messages=[user("The printer is on fire")],
        outputConfig=output_config(TICKET),
    )
    document = json.loads(answer_text(response))
    jsonschema.validate(document, TICKET)
    assert document["title"] == "The printer is on fire"
    assert document["priority"] == "low"
    assert document["attempts"] == count_tokens("The printer is on fire")
    assert response["stopReason"] == "end_turn"
    reasoning = "".join(
        b["reasoningContent"]["reasoningText"]["text"]
        for b in response["output"]["message"]["content"]
        if "reasoningContent" in b
    )
    billed = count_tokens(answer_text(response)) + count_tokens(reasoning)
    assert response["usage"]["outputTokens"] == billed


def test_the_stream_sends_the_same_json_in_pieces(bedrock: Any) -> None:
    whole = answer_text(
        bedrock.converse(
            modelId=SONNET_45, messages=[user("Stream it")], outputConfig=output_config(TICKET)
        )
    )
    events = list(
        bedrock.converse_stream(
            modelId=SONNET_45, messages=[user("Stream it")], outputConfig=output_config(TICKET)
        )["stream"]
    )
    pieces = [e["contentBlockDelta"]["delta"]["text"] for e in events if "contentBlockDelta" in e]
    assert len(pieces) > 10
    assert "".join(pieces) == whole
    jsonschema.validate(json.loads(whole), TICKET)


def test_max_tokens_cuts_the_json(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=SONNET_45,
        messages=[user("Too long")],
        outputConfig=output_config(TICKET),
        inferenceConfig={"maxTokens": 5},
    )
    assert response["stopReason"] == "max_tokens"
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer_text(response))


def test_reasoning_comes_before_the_json(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=SONNET_45,
        messages=[user("Think first")],
        outputConfig=output_config(TICKET),
        inferenceConfig={"maxTokens": 4096},
        additionalModelRequestFields={"thinking": {"type": "enabled", "budget_tokens": 1024}},
    )
    content = response["output"]["message"]["content"]
    assert "reasoningContent" in content[0]
    jsonschema.validate(json.loads(content[1]["text"]), TICKET)


def validation_message(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    error = raised.value.response
    assert error["Error"]["Code"] == "ValidationException"
    assert error["ResponseMetadata"]["HTTPStatusCode"] == 400
    return str(error["Error"]["Message"])


@pytest.mark.parametrize(
    ("model", "message"),
    [
        (
            OPUS_41,
            "The model returned the following errors: output_config.format: Extra inputs are not "
            "permitted",
        ),
        (
            NOVA_LITE,
            "This model doesn't support the outputConfig.textFormat field. Remove "
            "outputConfig.textFormat and try again.",
        ),
    ],
)
def test_a_model_without_structured_outputs_refuses_a_schema(
    bedrock: Any, model: str, message: str
) -> None:
    def call() -> Any:
        return bedrock.converse(
            modelId=model, messages=[user("hi")], outputConfig=output_config(TICKET)
        )

    assert validation_message(call) == message


OPEN_OBJECT = {"type": "object", "properties": {"a": {"type": "string"}}}


def test_an_object_without_additional_properties_false_is_refused(bedrock: Any) -> None:
    def call(model: str) -> Any:
        return lambda: bedrock.converse(
            modelId=model, messages=[user("hi")], outputConfig=output_config(OPEN_OBJECT)
        )

    assert validation_message(call(SONNET_45)) == (
        "The model returned the following errors: output_config.format.schema: For 'object' "
        "type, 'additionalProperties' must be explicitly set to false"
    )
    assert validation_message(call(QWEN)) == (
        "The JSON schema at outputConfig.textFormat.structure.jsonSchema.schema is not "
        "supported: For 'object' type, 'additionalProperties' must be explicitly set to false"
    )


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ({"type": "integer", "minimum": 1}, "'minimum': numerical constraints are not supported"),
        ({"type": "string", "maxLength": 9}, "'maxLength': string length constraints"),
        ({"type": "array", "items": {"type": "string"}, "minItems": 2}, "'minItems' takes 0 or 1"),
        ({"oneOf": [{"type": "string"}, {"type": "null"}]}, "'oneOf' is not supported"),
        ({"type": "string", "format": "credit-card"}, "string format 'credit-card'"),
        ({"type": "string", "pattern": "^a+$"}, "cannot generate strings for a 'pattern'"),
        ({"$ref": "https://example.com/schema.json"}, "only local references"),
        (
            {
                "$ref": "#/$defs/node",
                "$defs": {
                    "node": {
                        "type": "object",
                        "properties": {"child": {"$ref": "#/$defs/node"}},
                        "additionalProperties": False,
                    }
                },
            },
            "recursive schemas are not supported",
        ),
        ({"description": "anything"}, "a schema needs a 'type'"),
        ({"enum": [{"a": 1}]}, "'enum' takes a non-empty list"),
    ],
)
def test_schemas_outside_the_subset_are_refused(
    bedrock: Any, schema: dict[str, Any], problem: str
) -> None:
    def call() -> Any:
        return bedrock.converse(
            modelId=SONNET_45, messages=[user("hi")], outputConfig=output_config(schema)
        )

    message = validation_message(call)
    assert message.startswith(
        "The model returned the following errors: output_config.format.schema: "
    )
    assert problem in message


def test_a_schema_that_is_not_json_is_refused(bedrock: Any) -> None:
    config = output_config(TICKET)
    config["textFormat"]["structure"]["jsonSchema"]["schema"] = "{not json"

    def call() -> Any:
        return bedrock.converse(modelId=SONNET_45, messages=[user("hi")], outputConfig=config)

    assert "not valid JSON" in validation_message(call)


WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer"},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}


def tool_config(*, strict: bool, schema: dict[str, Any] = WEATHER) -> dict[str, Any]:
    spec = {"name": "get_weather", "description": "Weather.", "inputSchema": {"json": schema}}
    return {"tools": [{"toolSpec": {**spec, "strict": strict}}]}


def test_a_strict_tool_is_called_with_input_its_schema_describes(bedrock: Any) -> None:
    response = bedrock.converse(
        modelId=SONNET_45,
        messages=[user("Weather in Oslo? use tool get_weather")],
        toolConfig=tool_config(strict=True),
    )
    [block] = response["output"]["message"]["content"]
    arguments = block["toolUse"]["input"]
    jsonschema.validate(arguments, WEATHER)
    assert arguments["unit"] == "celsius"
    loose = bedrock.converse(
        modelId=SONNET_45,
        messages=[user("Weather in Oslo? use tool get_weather")],
        toolConfig=tool_config(strict=False),
    )
    assert loose["output"]["message"]["content"][0]["toolUse"]["input"] == {
        "request": "Weather in Oslo? use tool get_weather"
    }


def test_strict_tools_are_refused_by_models_without_structured_outputs(bedrock: Any) -> None:
    def call(model: str) -> Any:
        return lambda: bedrock.converse(
            modelId=model, messages=[user("hi")], toolConfig=tool_config(strict=True)
        )

    assert validation_message(call(OPUS_41)) == (
        "The model returned the following errors: tools.0.strict: Extra inputs are not permitted"
    )
    assert validation_message(call(NOVA_LITE)) == (
        "This model doesn't support the toolConfig.tools.0.toolSpec.strict field. Remove "
        "toolConfig.tools.0.toolSpec.strict and try again."
    )


def test_a_strict_tool_schema_outside_the_subset_is_refused(bedrock: Any) -> None:
    def call() -> Any:
        return bedrock.converse(
            modelId=SONNET_45,
            messages=[user("hi")],
            toolConfig=tool_config(strict=True, schema=OPEN_OBJECT),
        )

    assert validation_message(call) == (
        "The model returned the following errors: tools.0.custom.input_schema: For 'object' "
        "type, 'additionalProperties' must be explicitly set to false"
    )


def test_every_generated_value_validates() -> None:
    """The generator against the schemas the subset takes, without a server."""
    schemas: list[dict[str, Any]] = [
        TICKET,
        WEATHER,
        {
            "type": "array",
            "items": {k: v for k, v in TICKET.items() if k != "$defs"},
            "$defs": TICKET["$defs"],
        },
        {"anyOf": [{"type": "null"}, {"type": "integer"}]},
        {"type": ["null", "number"]},
        {"type": "string", "format": "uuid"},
        {"enum": [3, "x"]},
    ]
    for schema in schemas:
        check_schema(schema)
        jsonschema.validate(schema_value(schema, "a prompt"), schema)
    with pytest.raises(SchemaProblem):
        check_schema(OPEN_OBJECT)


def test_a_tool_schema_must_describe_an_object(bedrock: Any) -> None:
    def call() -> Any:
        return bedrock.converse(
            modelId=NOVA_LITE,
            messages=[user("hi")],
            toolConfig=tool_config(strict=False, schema={"type": "string"}),
        )

    assert validation_message(call) == (
        "The value at toolConfig.tools.0.toolSpec.inputSchema.json.type must be one of the "
        "following: object."
    )
