"""Neutral events -> ``chat.completion.chunk`` SSE lines (``POST /v1/chat/completions``, stream).

The first chunk carries the assistant role; text and reasoning (``reasoning_content``) follow as
deltas. Tool calls stream as OpenAI streams them: the first delta of a call carries its
``index`` (0, 1, ... in the order the calls began), ``id``, ``type`` and ``function.name`` with
empty ``arguments``; each later delta carries the ``index`` and a piece of
``function.arguments`` as the model produced it. The last choice chunk carries the
``finish_reason``. With
``stream_options.include_usage`` one more chunk follows, with ``choices: []`` and the usage.
``data: [DONE]`` ends every stream. A failure after the stream started becomes one chunk with
an ``error`` object (OpenAI's own mid-stream error shape), then ``[DONE]``.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from contextlib import aclosing
from dataclasses import dataclass, field

import orjson

from fmgate.core.errors import GatewayError
from fmgate.core.events import (
    Done,
    Event,
    ReasoningDelta,
    TextDelta,
    ToolCall,
    ToolCallStart,
    ToolInputDelta,
    Usage,
)
from fmgate.fronts.openai.bodies import FINISH_REASONS, completion_id, tool_call_body, usage_body
from fmgate.fronts.openai.errors import gateway_error_body
from fmgate.fronts.openai.parallel_tool_calls import ToolCallLimit

DONE_LINE = b"data: [DONE]\n\n"


def sse(payload: Mapping[str, object]) -> bytes:
    return b"data: " + orjson.dumps(payload) + b"\n\n"


@dataclass(slots=True)
class ChunkWriter:
    """Builds the chunks of one streamed completion."""

    request_id: str
    model: str
    include_usage: bool
    created: int = field(default_factory=lambda: int(time.time()))
    #: Each tool call's index, by call id, in the order the calls began.
    tool_indexes: dict[str, int] = field(default_factory=dict)
    #: Tool calls whose arguments have had at least one piece sent.
    tool_arguments_sent: set[str] = field(default_factory=set)

    def chunk(self, choices: list[dict[str, object]], **extra: object) -> bytes:
        payload: dict[str, object] = {
            "id": completion_id(self.request_id),
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": None,
            "choices": choices,
        }
        if self.include_usage:
            payload["usage"] = None
        payload.update(extra)
        return sse(payload)

    def delta(self, delta: dict[str, object], finish_reason: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return self.chunk([choice])

    def role(self) -> bytes:
        return self.delta({"role": "assistant", "content": ""})

    def tool_delta(self, call_id: str, body: dict[str, object]) -> bytes:
        return self.delta({"tool_calls": [{"index": self.tool_indexes[call_id], **body}]})

    def tool_start(self, start: ToolCallStart) -> bytes:
        """A call's first delta: its index, id, type and name, with no arguments yet."""
        self.tool_indexes[start.id] = len(self.tool_indexes)
        function = {"name": start.name, "arguments": ""}
        return self.tool_delta(start.id, {"id": start.id, "type": "function", "function": function})

    def tool_input(self, piece: ToolInputDelta) -> bytes | None:
        """A piece of a begun call's arguments (None for a call that never began)."""
        if piece.id not in self.tool_indexes:
            return None
        self.tool_arguments_sent.add(piece.id)
        return self.tool_delta(piece.id, {"function": {"arguments": piece.json}})

    def tool_call(self, call: ToolCall) -> bytes | None:
        """The whole call, which closes it: nothing more once its arguments streamed; its
        arguments (``{}`` when the model sent no input) if none did; the whole call in one
        delta if it never began."""
        if call.id not in self.tool_indexes:
            self.tool_indexes[call.id] = len(self.tool_indexes)
            return self.tool_delta(call.id, tool_call_body(call))
        if call.id in self.tool_arguments_sent:
            return None
        self.tool_arguments_sent.add(call.id)
        return self.tool_delta(call.id, {"function": {"arguments": call.input_json}})

    def finish(self, done: Done) -> bytes:
        return self.delta({}, FINISH_REASONS[done.stop_reason])

    def usage(self, usage: Usage | None) -> bytes:
        return self.chunk([], usage=usage_body(usage))


def event_chunk(writer: ChunkWriter, event: Event) -> bytes | None:
    """The chunk one event becomes, if any (usage and done are the caller's to place)."""
    match event:
        case TextDelta(text=text):
            return writer.delta({"content": text})
        case ReasoningDelta(text=text):
            return writer.delta({"reasoning_content": text})
        case ToolCallStart():
            return writer.tool_start(event)
        case ToolInputDelta():
            return writer.tool_input(event)
        case ToolCall():
            return writer.tool_call(event)
        case _:
            return None


async def completion_chunks(
    events: AsyncGenerator[Event, None],
    writer: ChunkWriter,
    tool_call_limit: ToolCallLimit | None = None,
) -> AsyncIterator[bytes]:
    """The SSE body for one streamed completion (``events`` already opened and tracked).

    ``tool_call_limit`` leaves out the tool calls ``parallel_tool_calls: false`` drops.
    ``events`` is closed however this stream ends (the caller going away included), which
    cancels the model call.
    """
    limit = tool_call_limit or ToolCallLimit()
    yield writer.role()
    usage: Usage | None = None
    try:
        async with aclosing(events):
            async for event in events:
                match event:
                    case Usage():
                        usage = event  # sent after the last choice chunk
                    case Done():
                        yield writer.finish(event)
                    case _ if limit.keeps(event):
                        chunk = event_chunk(writer, event)
                        if chunk is not None:
                            yield chunk
        if writer.include_usage:
            yield writer.usage(usage)
    except GatewayError as error:
        yield sse(gateway_error_body(error))
    yield DONE_LINE
