"""Pieces shared by streamed and whole Messages answers: stop reasons, usage, content blocks,
citations."""

from __future__ import annotations

from collections.abc import Mapping

import orjson

from fmgate.core.events import Citation, CitationUnit, StopReason, ToolCall, Usage

#: Neutral stop reason -> Anthropic ``stop_reason``.
STOP_REASONS: Mapping[StopReason, str] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "content_filtered": "refusal",
    "guardrail_intervened": "refusal",
    "other": "end_turn",
}


#: A citation's unit -> Anthropic's citation type and the names of its start and end (the same
#: conventions: characters and blocks from 0, pages from 1, ends exclusive).
CITATION_SHAPES: Mapping[CitationUnit, tuple[str, str, str]] = {
    "char": ("char_location", "start_char_index", "end_char_index"),
    "page": ("page_location", "start_page_number", "end_page_number"),
    "chunk": ("content_block_location", "start_block_index", "end_block_index"),
}


def citation_body(citation: Citation) -> dict[str, object]:
    """A citation as Anthropic's ``char_location`` / ``page_location`` /
    ``content_block_location``."""
    kind, start, end = CITATION_SHAPES[citation.unit]
    return {
        "type": kind,
        "cited_text": citation.cited_text,
        "document_index": citation.document_index,
        "document_title": citation.document_title,
        start: citation.start,
        end: citation.end,
    }


def message_id(request_id: str) -> str:
    return f"msg_{request_id}"


def usage_body(usage: Usage | None) -> dict[str, object]:
    usage = usage or Usage()
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_input_tokens": usage.cache_read_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_creation": {
            "ephemeral_5m_input_tokens": usage.cache_write_tokens - usage.cache_write_1h_tokens,
            "ephemeral_1h_input_tokens": usage.cache_write_1h_tokens,
        },
    }


def tool_input(call: ToolCall) -> dict[str, object]:
    """The call's input as an object (a model that produced no object gives ``{}``)."""
    try:
        value = orjson.loads(call.input_json)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def tool_use_block(call: ToolCall, *, with_input: bool = True) -> dict[str, object]:
    return {
        "type": "tool_use",
        "id": call.id,
        "name": call.name,
        "input": tool_input(call) if with_input else {},
    }


def message_body(request_id: str, model: str) -> dict[str, object]:
    """The message envelope, before any content."""
    return {
        "id": message_id(request_id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": usage_body(None),
    }
