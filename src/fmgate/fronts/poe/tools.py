"""Tools in a Poe query: the definitions, and a follow-up's tool calls and results.

fastapi_poe's client (``stream_request(..., tools=..., tool_executables=...)``) sends OpenAI
function definitions in ``tools``; when the bot called some, it runs them and sends the same
query again with ``tool_calls`` (what the bot called: id, function name, JSON arguments) and
``tool_results`` (``tool_call_id``, ``content``). That follow-up becomes two more turns after the
query's messages: the assistant's tool calls, then the results in a user turn, so Converse gets
each ``toolUse`` answered by its ``toolResult`` in the next turn.

Only function tools reach a model: Bedrock takes a JSON-schema tool spec, nothing like OpenAI's
custom (free-form grammar) tools, so a query offering another kind is refused with a message
saying so. A tool result may carry ``status: "error"`` (Converse's word; fastapi_poe's own type
has no such field, so it is read from the body): the model then hears that the tool failed.
"""

from __future__ import annotations

from collections.abc import Mapping

import fastapi_poe as fp
import orjson

from fmgate.core.bot_request import InputMessage
from fmgate.core.errors import InvalidRequest
from fmgate.core.model_request import ToolResultBlock, ToolSpec, ToolUseBlock

#: The kind of tool Bedrock can take.
FUNCTION = "function"


def unusable_tool_kinds(data: Mapping[str, object]) -> list[str]:
    """The kinds (``type``) of the offered tools that are not function tools, from the body."""
    tools = data.get("tools")
    if not isinstance(tools, list):
        return []
    kinds = [tool.get("type") if isinstance(tool, dict) else None for tool in tools]
    return sorted({str(kind) for kind in kinds if kind != FUNCTION})


def refuse_unusable_tools(data: Mapping[str, object]) -> None:
    """Refuse a query offering tools other than functions (custom tools, ...)."""
    kinds = unusable_tool_kinds(data)
    if kinds:
        raise InvalidRequest(
            f"tools of kind {', '.join(kinds)} offered",
            user_message=(
                f"This bot takes function tools only (type {FUNCTION!r} with JSON-schema "
                f"parameters); tools of type {', '.join(map(repr, kinds))} (such as custom "
                "tools) cannot be given to its model."
            ),
        )


def failed_tool_calls(data: Mapping[str, object]) -> frozenset[str]:
    """Ids of the tool calls whose result says ``status: "error"``, from the body."""
    results = data.get("tool_results")
    if not isinstance(results, list):
        return frozenset()
    return frozenset(
        str(result.get("tool_call_id"))
        for result in results
        if isinstance(result, dict) and result.get("status") == "error"
    )


def tool_specs(query: fp.QueryRequest, data: Mapping[str, object]) -> tuple[ToolSpec, ...]:
    """The offered function tools as neutral specs. The JSON schema is taken from the body as
    sent: fastapi_poe's ``ParametersDefinition`` keeps only ``type``, ``properties`` and
    ``required`` (``additionalProperties``, ``$defs`` and the like would be lost)."""
    raw = data.get("tools")
    raw_tools = raw if isinstance(raw, list) else []
    return tuple(
        ToolSpec(
            name=tool.function.name,
            description=tool.function.description,
            input_schema=raw_schema(raw_tools[index] if index < len(raw_tools) else None)
            or tool.function.parameters.model_dump(exclude_none=True),
        )
        for index, tool in enumerate(query.tools or [])
    )


def raw_schema(tool: object) -> dict[str, object] | None:
    """``function.parameters`` of one tool as the body holds it."""
    function = tool.get("function") if isinstance(tool, dict) else None
    parameters = function.get("parameters") if isinstance(function, dict) else None
    return parameters if isinstance(parameters, dict) else None


def tool_arguments(arguments: str) -> dict[str, object]:
    """A call's JSON arguments as the object Converse wants; anything else is refused."""
    try:
        parsed = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise InvalidRequest(
            "tool call arguments are not a JSON object",
            user_message="A tool call's arguments must be a JSON object.",
        )
    return parsed


def tool_turns(query: fp.QueryRequest, failed: frozenset[str] = frozenset()) -> list[InputMessage]:
    """A follow-up's tool calls and results as two turns (none when the query has neither)."""
    calls = query.tool_calls or []
    results = query.tool_results or []
    if not calls and not results:
        return []
    uses = tuple(
        ToolUseBlock(call.id, call.function.name, tool_arguments(call.function.arguments))
        for call in calls
    )
    answers = tuple(
        ToolResultBlock(result.tool_call_id, result.content, is_error=result.tool_call_id in failed)
        for result in results
    )
    return [
        InputMessage("assistant", "", tool_uses=uses),
        InputMessage("user", "", tool_results=answers),
    ]
