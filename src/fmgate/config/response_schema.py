"""A chat bot's response schema (the ``response_schema`` section): every answer is JSON.

::

    response_schema:
      name: ticket                 # letters, digits, _ and -, up to 64
      description: A support ticket triaged from the user's message.
      json_schema:                 # a JSON Schema (Bedrock's subset: docs/bedrock.md)
        type: object
        properties:
          title: {type: string}
          priority: {type: string, enum: [low, normal, urgent]}
        required: [title, priority]
        additionalProperties: false

The bot asks Bedrock for answers that follow the schema (Converse ``outputConfig.textFormat``,
constrained decoding), so it needs a model with structured outputs (``structured_output: true``,
the model table's). Bedrock checks the schema itself: one outside its subset is refused on the
first request.
"""

from __future__ import annotations

import json

from pydantic import Field, field_validator

from fmgate.config.fields import StrictModel

#: A schema's name, as OpenAI's ``response_format.json_schema.name`` allows it.
SCHEMA_NAME_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class ResponseSchema(StrictModel):
    """The JSON every answer of the bot follows (Converse ``outputConfig.textFormat``)."""

    name: str = Field(pattern=SCHEMA_NAME_PATTERN, description="The schema's name.")
    description: str | None = Field(
        None, min_length=1, description="What the JSON is; the model reads it."
    )
    json_schema: dict[str, object] = Field(
        description="The JSON Schema of the answer (Bedrock's subset: every object has "
        "additionalProperties: false; see docs/bedrock.md)."
    )

    @field_validator("json_schema")
    @classmethod
    def _is_json(cls, schema: dict[str, object]) -> dict[str, object]:
        """Plain JSON only (a YAML date or other non-JSON value cannot reach Bedrock)."""
        try:
            json.dumps(schema, allow_nan=False)
        except (TypeError, ValueError):
            raise ValueError(
                "the schema holds a value that is not JSON (write dates and numbers as JSON "
                "has them)"
            ) from None
        return schema
