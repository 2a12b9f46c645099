"""Poe request bodies -> validated fastapi_poe types -> the neutral :class:`BotRequest`."""

from __future__ import annotations

from typing import Literal

import fastapi_poe as fp
import orjson
from pydantic import ValidationError

from fmgate.bot_request import Attachment, BotRequest, InputMessage, Role

RequestType = Literal["query", "settings", "report_feedback", "report_reaction", "report_error"]
REQUEST_TYPES: frozenset[str] = frozenset(
    ("query", "settings", "report_feedback", "report_reaction", "report_error")
)

#: Poe roles -> neutral roles. "tool" messages carry tool results, which no bot uses yet.
ROLE_MAP: dict[str, Role | None] = {
    "user": "user",
    "bot": "assistant",
    "system": "system",
    "tool": None,
}


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


def parse_query(data: dict[str, object]) -> fp.QueryRequest:
    try:
        return fp.QueryRequest.model_validate(data)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in err["loc"]) for err in exc.errors()})
        raise BadPoeRequest("Invalid query request: " + ", ".join(fields[:10])) from exc


def to_bot_request(query: fp.QueryRequest, request_id: str) -> BotRequest:
    """Translate a Poe query into the neutral request every bot takes."""
    messages: list[InputMessage] = []
    for message in query.query:
        role = ROLE_MAP[message.role]
        if role is None:
            continue
        messages.append(
            InputMessage(
                role=role,
                text=message.content,
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
    last_user = next((m for m in reversed(query.query) if m.role == "user"), None)
    return BotRequest(
        request_id=request_id,
        messages=tuple(messages),
        user_id=query.user_id,
        conversation_id=query.conversation_id,
        temperature=query.temperature,
        stop_sequences=tuple(query.stop_sequences),
        parameters=dict(last_user.parameters) if last_user is not None else {},
    )
