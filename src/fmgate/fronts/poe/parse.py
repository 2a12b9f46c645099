"""Poe request bodies -> validated fastapi_poe types, within the gateway's limits (the neutral
request is made from them in :mod:`fmgate.fronts.poe.conversation`)."""

from __future__ import annotations

from typing import Literal

import fastapi_poe as fp
import orjson
from pydantic import ValidationError

from fmgate.config.gateway_settings import RequestLimits

RequestType = Literal["query", "settings", "report_feedback", "report_reaction", "report_error"]
REQUEST_TYPES: frozenset[str] = frozenset(
    ("query", "settings", "report_feedback", "report_reaction", "report_error")
)


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
