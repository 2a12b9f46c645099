"""Neutral events -> ``chat.completion.chunk`` SSE lines (``POST /v1/chat/completions``, stream).

The first chunk carries the assistant role; text, reasoning (``reasoning_content``) and tool
calls follow as deltas; the last choice chunk carries the ``finish_reason``. With
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
from fmgate.core.events import Done, Event, ReasoningDelta, TextDelta, ToolCall, Usage
from fmgate.fronts.openai.bodies import FINISH_REASONS, completion_id, tool_call_body, usage_body
from fmgate.fronts.openai.errors import gateway_error_body

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
    tool_calls: int = 0

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

    def tool_call(self, call: ToolCall) -> bytes:
        body = {"index": self.tool_calls, **tool_call_body(call)}
        self.tool_calls += 1
        return self.delta({"tool_calls": [body]})

    def finish(self, done: Done) -> bytes:
        return self.delta({}, FINISH_REASONS[done.stop_reason])

    def usage(self, usage: Usage | None) -> bytes:
        return self.chunk([], usage=usage_body(usage))


async def completion_chunks(
    events: AsyncGenerator[Event, None], writer: ChunkWriter
) -> AsyncIterator[bytes]:
    """The SSE body for one streamed completion (``events`` already opened and tracked).

    ``events`` is closed however this stream ends (the caller going away included), which
    cancels the model call.
    """
    yield writer.role()
    usage: Usage | None = None
    try:
        async with aclosing(events):
            async for event in events:
                match event:
                    case TextDelta(text=text):
                        yield writer.delta({"content": text})
                    case ReasoningDelta(text=text):
                        yield writer.delta({"reasoning_content": text})
                    case ToolCall():
                        yield writer.tool_call(event)
                    case Usage():
                        usage = event  # sent after the last choice chunk
                    case Done():
                        yield writer.finish(event)
        if writer.include_usage:
            yield writer.usage(usage)
    except GatewayError as error:
        yield sse(gateway_error_body(error))
    yield DONE_LINE
