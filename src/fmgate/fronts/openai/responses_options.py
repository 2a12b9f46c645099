"""What a Responses request asks of the bot: its refusals, sampling, reasoning effort.

A parameter the gateway cannot honour with the value given is refused (400) rather than
ignored; the table in docs/openai.md lists each. ``text.format`` gives the answer's form
(:mod:`fmgate.bots.structured_output`). ``reasoning.effort`` sets the model's own
effort where it takes one, else the thinking budget of bots with ``enable_reasoning``
(:mod:`fmgate.fronts.openai.reasoning_effort`).
"""

from __future__ import annotations

from collections.abc import Mapping

from fmgate.config.bot_config import BotConfig
from fmgate.core.bot_request import BotRequest, InputMessage, JsonObjectOutput, OutputFormat
from fmgate.core.model_request import OutputSchema, ToolSpec
from fmgate.fronts.callers import ledger_user
from fmgate.fronts.openai.parse import BadRequest
from fmgate.fronts.openai.reasoning_effort import effort_parameters
from fmgate.fronts.openai.responses_input import EMPTY_OBJECT_SCHEMA, tool_choice, tool_specs
from fmgate.fronts.openai.responses_schema import ResponsesRequest

#: Metadata limits (OpenAI's): pairs, key length, value length.
METADATA_LIMITS = (16, 64, 512)


def refused_parameter(body: ResponsesRequest) -> BadRequest | None:
    """Why the request cannot be served as asked, or None."""
    not_offered = {
        "conversation": body.conversation,
        "prompt": body.prompt,
        "context_management": body.context_management,
        "moderation": body.moderation,
    }
    for name, value in not_offered.items():
        if value is not None:
            return BadRequest(f"'{name}' is not supported by this gateway.", name)
    checks = (
        (bool(body.background), "background", "Background responses are not supported."),
        (
            body.background_options is not None,
            "background_options",
            "Background responses are not supported.",
        ),
        (
            body.truncation == "auto",
            "truncation",
            "truncation 'auto' is not supported: the conversation is sent whole.",
        ),
        (
            body.service_tier not in (None, "auto", "default"),
            "service_tier",
            "Only the default service tier is offered.",
        ),
        (bool(body.top_logprobs), "top_logprobs", "Log probabilities are not available."),
        (
            "message.output_text.logprobs" in (body.include or ()),
            "include",
            "Log probabilities are not available.",
        ),
        (
            body.text is not None and body.text.verbosity not in (None, "medium"),
            "text.verbosity",
            "text.verbosity is not supported: only medium.",
        ),
    )
    for refused, param, message in checks:
        if refused:
            return BadRequest(message, param)
    return text_format_refusal(body) or metadata_refusal(body.metadata)


def text_format_refusal(body: ResponsesRequest) -> BadRequest | None:
    """A ``json_schema`` format must carry its name and schema."""
    text_format = body.text.format if body.text is not None else None
    if text_format is None or text_format.type != "json_schema":
        return None
    if text_format.name is None or text_format.json_schema is None:
        return BadRequest(
            "text.format 'json_schema' needs a name and a schema (the JSON Schema the answer "
            "follows).",
            "text.format",
        )
    return None


def output_format(body: ResponsesRequest) -> OutputFormat | None:
    """``text.format`` as the form of the answer (``text``: None, free text)."""
    text_format = body.text.format if body.text is not None else None
    if text_format is None or text_format.type == "text":
        return None
    if text_format.type == "json_object":
        return JsonObjectOutput()
    if text_format.json_schema is None:  # refused by text_format_refusal
        raise BadRequest("text.format 'json_schema' needs a schema.", "text.format")
    return OutputSchema(
        text_format.json_schema, name=text_format.name, description=text_format.description
    )


def metadata_refusal(metadata: Mapping[str, str] | None) -> BadRequest | None:
    if metadata is None:
        return None
    pairs, key_length, value_length = METADATA_LIMITS
    if len(metadata) > pairs:
        return BadRequest(f"metadata holds at most {pairs} pairs.", "metadata")
    for key, value in metadata.items():
        if len(key) > key_length or len(value) > value_length:
            return BadRequest(
                f"metadata keys hold at most {key_length} characters, values {value_length}.",
                "metadata",
            )
    return None


def earlier_tools(messages: tuple[InputMessage, ...]) -> tuple[ToolSpec, ...]:
    """The tools earlier turns called, declared by name only (no schema).

    Bedrock refuses tool turns in a conversation without tool definitions, and OpenAI's callers
    need not send tools again to continue one (with ``previous_response_id``, say).
    """
    names = dict.fromkeys(use.name for message in messages for use in message.tool_uses)
    return tuple(
        ToolSpec(name, f"{name} (a tool called earlier in this conversation)", EMPTY_OBJECT_SCHEMA)
        for name in names
    )


def to_bot_request(
    body: ResponsesRequest,
    messages: tuple[InputMessage, ...],
    config: BotConfig,
    request_id: str,
    caller: str,
    conversation_id: str,
) -> BotRequest:
    """The bot's request. Without ``tools``, tools that earlier turns called are declared
    (:func:`earlier_tools`) with ``tool_choice`` none: Converse cannot forbid calls, so the
    model may still make one (:func:`fmgate.bots.chat.offered_tools`). The ledger's user is the
    caller, then the end user ``user`` (or ``safety_identifier``) names."""
    tools = tool_specs(body.tools)
    choice = tool_choice(body, tools)
    if not tools:
        tools, choice = earlier_tools(messages), "none"
    effort = body.reasoning.effort if body.reasoning else None
    parameters = effort_parameters(effort, config, "reasoning.effort")
    return BotRequest(
        request_id=request_id,
        messages=messages,
        user_id=ledger_user(caller, body.user or body.safety_identifier),
        conversation_id=conversation_id,
        temperature=body.temperature,
        top_p=body.top_p,
        max_tokens=body.max_output_tokens,
        parameters=parameters,
        tools=tools,
        tool_choice=choice,
        output_format=output_format(body),
    )
