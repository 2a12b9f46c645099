"""Poe request bodies -> validated fastapi_poe types -> the neutral :class:`BotRequest`."""

from __future__ import annotations

from typing import Literal

import fastapi_poe as fp
import orjson
from pydantic import ValidationError

from fmgate.config.gateway_settings import RequestLimits
from fmgate.core.bot_request import Attachment, BotRequest, InputMessage, Role
from fmgate.fronts.poe.tools import failed_tool_calls, tool_specs, tool_turns

RequestType = Literal["query", "settings", "report_feedback", "report_reaction", "report_error"]
REQUEST_TYPES: frozenset[str] = frozenset(
    ("query", "settings", "report_feedback", "report_reaction", "report_error")
)

#: Poe roles -> neutral roles. A ``tool`` message in the chat (a tool's output Poe shows) has
#: no call id to pair it with a call, so the model reads it as a tool's words in a user turn.
ROLE_MAP: dict[str, Role] = {
    "user": "user",
    "bot": "assistant",
    "system": "system",
    "tool": "user",
}
#: How a ``tool`` message's text is introduced to the model.
TOOL_MESSAGE_PREFIX = "[Tool output]: "


class BadPoeRequest(Exception):
    """The body is not a Poe request we can read; answered with 400 (or 501 for unknown types)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_body(body: bytes) -> tuple[RequestType, dict[str, object]]:
    """Decode JSON and read the request type."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise BadPoeRequest("Request body is not valid JSON") from exc
    if not isinstance(data, dict):
        raise BadPoeRequest("Request body must be a JSON object")
    kind = data.get("type")
    if not isinstance(kind, str):
        raise BadPoeRequest("Request has no 'type'")
    if kind not in REQUEST_TYPES:
        raise BadPoeRequest("Unsupported request type", status=501)
    return kind, data  # type: ignore[return-value]


def parse_query(data: dict[str, object], limits: RequestLimits | None = None) -> fp.QueryRequest:
    """Validate a query; with ``limits``, also refuse oversized or over-nested ones."""
    messages = data.get("query")
    if limits is not None and isinstance(messages, list) and len(messages) > limits.max_messages:
        # Checked before validation: validating a flood of messages is the costly part.
        raise BadPoeRequest(f"Too many messages (at most {limits.max_messages})", status=413)
    try:
        query = fp.QueryRequest.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise BadPoeRequest("Invalid query request: " + ", ".join(fields[:10])) from exc
    if limits is not None:
        check_query_limits(query, limits)
    return query


def check_query_limits(query: fp.QueryRequest, limits: RequestLimits) -> None:
    """Refuse a query over the size/shape limits: 413 for sizes and counts, 400 for nesting."""
    if len(query.query) > limits.max_messages:
        raise BadPoeRequest(f"Too many messages (at most {limits.max_messages})", status=413)
    attachments = 0
    for message in query.query:
        if len(message.content) > limits.max_message_chars:
            raise BadPoeRequest(
                f"Message too long (at most {limits.max_message_chars} characters)", status=413
            )
        attachments += len(message.attachments)
        if nesting_depth(message.parameters) > limits.max_parameter_depth:
            raise BadPoeRequest(
                f"Message parameters nested too deeply (at most {limits.max_parameter_depth})"
            )
    if attachments > limits.max_attachments:
        raise BadPoeRequest(f"Too many attachments (at most {limits.max_attachments})", status=413)


def nesting_depth(value: object) -> int:
    """Depth of nested JSON containers (a scalar is 0, ``{}`` is 1), without recursion."""
    deepest = 0
    pending: list[tuple[object, int]] = [(value, 0)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list | tuple):
            children = list(item)
        else:
            deepest = max(deepest, depth)
            continue
        deepest = max(deepest, depth + 1)
        pending.extend((child, depth + 1) for child in children)
    return deepest


def to_bot_request(
    query: fp.QueryRequest, request_id: str, data: dict[str, object] | None = None
) -> BotRequest:
    """Translate a Poe query (``data``: its body, for what fastapi_poe's types drop) into the
    neutral request every bot takes; a follow-up's tool calls and results come last."""
    body = data or {}
    messages: list[InputMessage] = []
    for message in query.query:
        text = message.content
        if message.role == "tool":
            text = TOOL_MESSAGE_PREFIX + text
        messages.append(
            InputMessage(
                role=ROLE_MAP[message.role],
                text=text,
                attachments=tuple(
                    Attachment(
                        name=a.name,
                        content_type=a.content_type,
                        url=a.url,
                        parsed_content=a.parsed_content,
                    )
                    for a in message.attachments
                ),
            )
        )
    messages.extend(tool_turns(query, failed_tool_calls(body)))
    last_user = next((m for m in reversed(query.query) if m.role == "user"), None)
    return BotRequest(
        request_id=request_id,
        messages=tuple(messages),
        user_id=query.user_id,
        conversation_id=query.conversation_id,
        temperature=query.temperature,
        stop_sequences=tuple(query.stop_sequences),
        parameters=dict(last_user.parameters) if last_user is not None else {},
        tools=tool_specs(query, body),
    )
