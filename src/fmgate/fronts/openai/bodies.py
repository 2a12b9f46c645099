"""Pieces shared by streamed and whole chat completions: finish reasons, usage, tool calls."""

from __future__ import annotations

from collections.abc import Mapping

from fmgate.core.events import StopReason, ToolCall, Usage

#: Neutral stop reason -> OpenAI ``finish_reason``.
FINISH_REASONS: Mapping[StopReason, str] = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
    "other": "stop",
}


def completion_id(request_id: str) -> str:
    return f"chatcmpl-{request_id}"


def usage_body(usage: Usage | None) -> dict[str, object]:
    """OpenAI ``usage``: prompt tokens include cache reads and writes, as OpenAI counts them."""
    usage = usage or Usage()
    prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    return {
        "prompt_tokens": prompt,
        "completion_tokens": usage.output_tokens,
        "total_tokens": prompt + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cache_read_tokens},
    }


def tool_call_body(call: ToolCall) -> dict[str, object]:
    return {
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": call.input_json},
    }
