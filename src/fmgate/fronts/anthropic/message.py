"""A finished event stream -> one Messages answer (``POST /v1/messages``, not streamed)."""

from __future__ import annotations

from collections.abc import Iterable

from fmgate.core.events import Event, accumulate
from fmgate.fronts.anthropic.bodies import STOP_REASONS, message_body, tool_use_block, usage_body


def whole_message_body(request_id: str, model: str, events: Iterable[Event]) -> dict[str, object]:
    summary = accumulate(events)
    content: list[dict[str, object]] = []
    if summary.reasoning:
        content.append({"type": "thinking", "thinking": summary.reasoning, "signature": ""})
    if summary.text or not summary.tool_calls:
        content.append({"type": "text", "text": summary.text})
    content.extend(tool_use_block(call) for call in summary.tool_calls)
    body = message_body(request_id, model)
    body["content"] = content
    body["stop_reason"] = STOP_REASONS[summary.stop_reason or "end_turn"]
    body["usage"] = usage_body(summary.usage)
    return body
