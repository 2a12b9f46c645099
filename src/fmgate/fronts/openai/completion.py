"""A finished event stream -> one ``chat.completion`` (``POST /v1/chat/completions``)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from fmgate.core.events import Event, accumulate
from fmgate.fronts.openai.bodies import FINISH_REASONS, completion_id, tool_call_body, usage_body


def completion_body(request_id: str, model: str, events: Iterable[Event]) -> dict[str, object]:
    summary = accumulate(events)
    message: dict[str, object] = {
        "role": "assistant",
        "content": summary.text or (None if summary.tool_calls else ""),
        "refusal": None,
    }
    if summary.reasoning:
        message["reasoning_content"] = summary.reasoning
    if summary.tool_calls:
        message["tool_calls"] = [tool_call_body(call) for call in summary.tool_calls]
    return {
        "id": completion_id(request_id),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": None,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": FINISH_REASONS[summary.stop_reason or "end_turn"],
            }
        ],
        "usage": usage_body(summary.usage),
    }
