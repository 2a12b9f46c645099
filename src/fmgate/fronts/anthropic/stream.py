"""Neutral events -> Messages stream events (``POST /v1/messages`` with ``stream: true``).

``message_start``, then per content block ``content_block_start`` / ``content_block_delta``
(``text_delta``, ``citations_delta``, ``thinking_delta``, ``input_json_delta``) /
``content_block_stop``, then ``message_delta`` (stop reason and usage) and ``message_stop``. A
tool call streams as Bedrock sends it: its ``tool_use`` block opens (input ``{}``) when the call
starts, each piece of its input JSON is an ``input_json_delta``, and the block stops with the
whole call. An answer that cites comes in text blocks as Bedrock's: each cited passage its own,
with one ``citations_delta`` per citation, where Bedrock put it. A failure after the stream
started becomes an ``error`` event, as Anthropic's API sends it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass
from typing import Literal

import orjson

from fmgate.core.errors import GatewayError
from fmgate.core.events import (
    Citation,
    Done,
    Event,
    ReasoningDelta,
    TextBreak,
    TextDelta,
    ToolCall,
    ToolCallStart,
    ToolInputDelta,
    Usage,
)
from fmgate.fronts.anthropic.bodies import (
    STOP_REASONS,
    citation_body,
    message_body,
    tool_use_block,
    usage_body,
)
from fmgate.fronts.anthropic.errors import gateway_error_body

StreamingBlock = Literal["text", "thinking"]

#: Block start payloads and delta shapes of the blocks that stream piece by piece.
BLOCK_STARTS: dict[StreamingBlock, dict[str, object]] = {
    "text": {"type": "text", "text": ""},
    "thinking": {"type": "thinking", "thinking": "", "signature": ""},
}
DELTA_TYPES: dict[StreamingBlock, tuple[str, str]] = {
    "text": ("text_delta", "text"),
    "thinking": ("thinking_delta", "thinking"),
}


def sse(kind: str, payload: Mapping[str, object]) -> bytes:
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


@dataclass(slots=True)
class MessageStreamWriter:
    """Keeps the open content block and its index for one streamed message."""

    request_id: str
    model: str
    index: int = -1
    open_block: StreamingBlock | Literal["tool_use"] | None = None

    def start(self) -> bytes:
        message = message_body(self.request_id, self.model)
        return sse("message_start", {"type": "message_start", "message": message})

    def _open(self, block: dict[str, object]) -> bytes:
        self.index += 1
        payload = {"type": "content_block_start", "index": self.index, "content_block": block}
        return sse("content_block_start", payload)

    def close(self) -> bytes:
        if self.open_block is None:
            return b""
        self.open_block = None
        return sse("content_block_stop", {"type": "content_block_stop", "index": self.index})

    def piece(self, kind: StreamingBlock, text: str) -> bytes:
        """A text or thinking piece, opening its block (and closing another) when needed."""
        out = b""
        if self.open_block != kind:
            out = self.close() + self._open(BLOCK_STARTS[kind])
            self.open_block = kind
        delta_type, field = DELTA_TYPES[kind]
        delta = {"type": delta_type, field: text}
        payload = {"type": "content_block_delta", "index": self.index, "delta": delta}
        return out + sse("content_block_delta", payload)

    def citation(self, citation: Citation) -> bytes:
        """A citation of the open text block (opened here when the citation comes first)."""
        out = b""
        if self.open_block != "text":
            out = self.close() + self._open(BLOCK_STARTS["text"])
            self.open_block = "text"
        delta = {"type": "citations_delta", "citation": citation_body(citation)}
        payload = {"type": "content_block_delta", "index": self.index, "delta": delta}
        return out + sse("content_block_delta", payload)

    def text_break(self) -> bytes:
        """The text block is complete: the next text or citation opens another."""
        return self.close() if self.open_block == "text" else b""

    def tool_start(self, start: ToolCallStart) -> bytes:
        """A tool call begins: its ``tool_use`` block opens, with input ``{}`` for now."""
        block: dict[str, object] = {
            "type": "tool_use",
            "id": start.id,
            "name": start.name,
            "input": {},
        }
        out = self.close() + self._open(block)
        self.open_block = "tool_use"
        return out

    def tool_input(self, piece: ToolInputDelta) -> bytes:
        """A piece of the open call's input JSON."""
        if self.open_block != "tool_use":
            return b""  # not after a ToolCallStart: the whole call comes with its ToolCall
        delta = {"type": "input_json_delta", "partial_json": piece.json}
        payload = {"type": "content_block_delta", "index": self.index, "delta": delta}
        return sse("content_block_delta", payload)

    def tool_end(self, call: ToolCall) -> bytes:
        """The call is complete: its block stops (or, never opened, is sent whole)."""
        if self.open_block == "tool_use":
            return self.close()
        out = self.close() + self._open(tool_use_block(call, with_input=False))
        self.open_block = "tool_use"
        return out + self.tool_input(ToolInputDelta(call.id, call.input_json)) + self.close()

    def finish(self, done: Done | None, usage: Usage | None) -> bytes:
        # An answer without content still has one (empty) text block.
        opening = self.piece("text", "") if self.index < 0 else b""
        delta: dict[str, object] = {
            "stop_reason": STOP_REASONS[done.stop_reason if done else "end_turn"],
            "stop_sequence": None,
        }
        message_delta = {"type": "message_delta", "delta": delta, "usage": usage_body(usage)}
        return (
            opening
            + self.close()
            + sse("message_delta", message_delta)
            + sse("message_stop", {"type": "message_stop"})
        )


async def message_events(
    events: AsyncGenerator[Event, None], writer: MessageStreamWriter
) -> AsyncIterator[bytes]:
    """The SSE body of one streamed message (``events`` already opened and tracked)."""
    yield writer.start()
    usage: Usage | None = None
    done: Done | None = None
    try:
        async with aclosing(events):
            async for event in events:
                match event:
                    case TextDelta(text=text):
                        yield writer.piece("text", text)
                    case Citation():
                        yield writer.citation(event)
                    case TextBreak():
                        yield writer.text_break()
                    case ReasoningDelta(text=text):
                        yield writer.piece("thinking", text)
                    case ToolCallStart():
                        yield writer.tool_start(event)
                    case ToolInputDelta():
                        yield writer.tool_input(event)
                    case ToolCall():
                        yield writer.tool_end(event)
                    case Usage():
                        usage = event
                    case Done():
                        done = event
        yield writer.finish(done, usage)
    except GatewayError as error:
        yield sse("error", gateway_error_body(error))
