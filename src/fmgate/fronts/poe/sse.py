"""Server-Sent Events framing for Poe's protocol events.

Encoded by hand with orjson: this is the hot path of every streamed token, and Poe's events are
a handful of fixed shapes (see fastapi_poe's ``PoeBot.*_event`` for the reference encoder).
"""

from __future__ import annotations

import orjson

from fmgate.fronts.poe.errors import PoeErrorType


def event(name: str, data: object) -> bytes:
    """One SSE frame: ``event: <name>`` and a JSON ``data`` line."""
    return b"event: " + name.encode() + b"\r\ndata: " + orjson.dumps(data) + b"\r\n\r\n"


META = event(
    "meta",
    {
        "content_type": "text/markdown",
        "refetch_settings": False,
        "linkify": True,
        "suggested_replies": False,
    },
)
DONE = b"event: done\r\ndata: {}\r\n\r\n"


def text(chunk: str) -> bytes:
    return b"event: text\r\ndata: " + orjson.dumps({"text": chunk}) + b"\r\n\r\n"


def replace_response(whole: str) -> bytes:
    return event("replace_response", {"text": whole})


def file(url: str, content_type: str, name: str, inline_ref: str | None) -> bytes:
    return event(
        "file", {"url": url, "content_type": content_type, "name": name, "inline_ref": inline_ref}
    )


def error(message: str, *, allow_retry: bool, error_type: PoeErrorType | None = None) -> bytes:
    data: dict[str, object] = {"allow_retry": allow_retry, "text": message}
    if error_type is not None:
        data["error_type"] = error_type
    return event("error", data)
