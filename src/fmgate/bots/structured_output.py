"""The form a request wants its answer in, as the bot's model can give it.

The format is the caller's (a compatible API's ``response_format``, ``text.format`` or
``output_config.format``: :attr:`BotRequest.output_format`), else the bot's own
``response_schema``. How it is delivered:

* ``native``: a JSON schema, on a model with structured outputs (the catalog's
  ``structured_output``, from the model table), goes to Bedrock as ``outputConfig.textFormat``:
  Bedrock constrains the answer to it.
* ``instructed``: any other model, and JSON mode (any JSON object: Bedrock has no such mode), is
  asked in the system prompt (:func:`output_instruction`, after everything else there) to answer
  with JSON only. The model is asked, not constrained: the answer may not parse or validate. The
  compatible APIs say which way it went (``X-Structured-Output``), and the log says so too.

Strict tools (``ToolSpec.strict``) go strict to a model with structured outputs (Bedrock then
constrains the calls' input to the schema) and without ``strict`` to any other, which would
refuse it: their input then follows the schema only as well as the model manages.
"""

from __future__ import annotations

import json
import logging
from dataclasses import replace
from typing import Literal

from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.bot_request import BotRequest, JsonObjectOutput, OutputFormat
from fmgate.core.model_request import OutputSchema, ToolSpec

logger = logging.getLogger(__name__)

#: How the answer's format is delivered: constrained by Bedrock, or asked for in the prompt.
OutputDelivery = Literal["native", "instructed"]

JSON_ONLY = "Answer with JSON only: no text before or after it, and no code fences."


def requested_format(request: BotRequest, config: ChatBotConfig) -> OutputFormat | None:
    """The caller's format, else the bot's response schema, else None (free text)."""
    if request.output_format is not None:
        return request.output_format
    schema = config.response_schema
    if schema is None:
        return None
    return OutputSchema(schema.json_schema, name=schema.name, description=schema.description)


def output_delivery(request: BotRequest, config: ChatBotConfig) -> OutputDelivery | None:
    """How the request's format reaches the model; None when it asks for none."""
    requested = requested_format(request, config)
    if requested is None:
        return None
    native = isinstance(requested, OutputSchema) and config.structured_output
    return "native" if native else "instructed"


def native_schema(request: BotRequest, config: ChatBotConfig) -> OutputSchema | None:
    """The schema Bedrock is to constrain the answer to, when it is delivered natively."""
    requested = requested_format(request, config)
    if isinstance(requested, OutputSchema) and config.structured_output:
        return requested
    return None


def output_instruction(request: BotRequest, config: ChatBotConfig) -> str | None:
    """The system-prompt instruction that asks for the format, when it is not native."""
    requested = requested_format(request, config)
    if requested is None or native_schema(request, config) is not None:
        return None
    logger.info(
        "structured output by instruction: model %s takes no outputConfig.textFormat%s",
        config.model_id,
        " (JSON mode)" if isinstance(requested, JsonObjectOutput) else "",
    )
    return instruction_text(requested)


def instruction_text(requested: OutputFormat) -> str:
    """``Answer with JSON only ...``, with the schema (and its name and description) to follow."""
    if isinstance(requested, JsonObjectOutput):
        return f"{JSON_ONLY} The JSON is one object."
    lines = [f"{JSON_ONLY} The JSON follows this JSON Schema"]
    if requested.name:
        lines[0] += f' (named "{requested.name}")'
    lines[0] += ":"
    lines.append(json.dumps(requested.schema, separators=(",", ":")))
    if requested.description:
        lines.append(f"What it describes: {requested.description}")
    return "\n".join(lines)


def strict_tools_enforced(request: BotRequest, config: ChatBotConfig) -> bool | None:
    """Whether the request's strict tools go strict to the model; None when it has none."""
    if not any(tool.strict for tool in request.tools):
        return None
    return config.structured_output


def offered_strictly(tools: tuple[ToolSpec, ...], config: ChatBotConfig) -> tuple[ToolSpec, ...]:
    """The tools as the model takes them: ``strict`` only for a model with structured outputs."""
    if config.structured_output or not any(tool.strict for tool in tools):
        return tools
    return tuple(replace(tool, strict=False) for tool in tools)
