"""A finished event stream -> one Messages answer (``POST /v1/messages``, not streamed)."""

from __future__ import annotations

from collections.abc import Iterable

from fmgate.core.events import Citation, Event, TextBreak, TextDelta, accumulate
from fmgate.fronts.anthropic.bodies import (
    STOP_REASONS,
    citation_body,
    message_body,
    tool_use_block,
    usage_body,
)


def whole_message_body(request_id: str, model: str, events: Iterable[Event]) -> dict[str, object]:
    answer = list(events)
    summary = accumulate(answer)
    content: list[dict[str, object]] = []
    if summary.reasoning:
        content.append({"type": "thinking", "thinking": summary.reasoning, "signature": ""})
    texts = text_blocks(answer)
    if texts or not summary.tool_calls:
        content.extend(texts or [{"type": "text", "text": ""}])
    content.extend(tool_use_block(call) for call in summary.tool_calls)
    body = message_body(request_id, model)
    body["content"] = content
    body["stop_reason"] = STOP_REASONS[summary.stop_reason or "end_turn"]
    body["usage"] = usage_body(summary.usage)
    return body


def text_blocks(events: Iterable[Event]) -> list[dict[str, object]]:
    """The answer's text blocks: one, or one per block Bedrock sent when it cited, each cited
    one with its ``citations``."""
    blocks: list[dict[str, object]] = []
    parts: list[str] = []
    citations: list[dict[str, object]] = []

    def close() -> None:
        if parts or citations:
            block: dict[str, object] = {"type": "text", "text": "".join(parts)}
            if citations:
                block["citations"] = list(citations)
            blocks.append(block)
        parts.clear()
        citations.clear()

    for event in events:
        match event:
            case TextDelta(text=text):
                parts.append(text)
            case Citation():
                citations.append(citation_body(event))
            case TextBreak():
                close()
    close()
    return blocks
