"""Neutral events -> the Responses API's stream (``POST /v1/responses`` with ``stream: true``).

Every event carries its ``sequence_number`` (from 0) and goes out as ``event: <type>`` plus
``data: <json>``::

    response.created, response.in_progress
    per output item, in order:
      response.output_item.added
      message:       response.content_part.added, response.output_text.delta ...,
                     response.output_text.done, response.content_part.done
      reasoning:     the same with response.reasoning_text.delta / .done
      function_call: response.function_call_arguments.delta ... (as the model streams the
                     arguments), response.function_call_arguments.done
      response.output_item.done
    response.completed (or response.incomplete: the length limit, a content filter), with usage

A failure after the stream started (the model broke off, the server's shutdown cut it, the
response could not be stored) closes the open item as incomplete and ends the stream with
``response.failed``, its ``error`` saying why. The answer is stored (``store: true``) before
the last event, so a client may continue from it as soon as it has read it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

import orjson

from fmgate.core.errors import GatewayError
from fmgate.core.events import Event
from fmgate.fronts.openai.parallel_tool_calls import ToolCallLimit
from fmgate.fronts.openai.responses_output import (
    OutputItems,
    Payload,
    ResponseFrame,
    error_object,
    final_status,
    usage_body,
)
from fmgate.fronts.openai.responses_storage import Continuation
from fmgate.fronts.pipeline import Refusal

logger = logging.getLogger("fmgate.api")


class SequencedEvents:
    """SSE lines of one response stream, numbered in order."""

    __slots__ = ("_next",)

    def __init__(self) -> None:
        self._next = 0

    def line(self, payload: Payload) -> bytes:
        numbered = {**payload, "sequence_number": self._next}
        self._next += 1
        kind = str(payload["type"]).encode()
        return b"event: " + kind + b"\ndata: " + orjson.dumps(numbered) + b"\n\n"


def finished(frame: ResponseFrame, output: OutputItems) -> tuple[list[Payload], Payload]:
    """The events that close a finished answer's output, and its Response."""
    status, reason = final_status(output.stop_reason)
    closing = output.finish("incomplete" if reason else "completed")
    response = frame.response(
        status,
        output.items,
        usage=usage_body(output.usage, output.reasoning_text),
        incomplete_reason=reason,
        completed_at=int(time.time()) if status == "completed" else None,
    )
    return closing, response


def failed(frame: ResponseFrame, output: OutputItems, error: Payload) -> Payload:
    """A failed response: what was produced until then, and why it failed."""
    usage = usage_body(output.usage, output.reasoning_text) if output.usage else None
    return frame.response("failed", output.items, usage=usage, error=error)


async def response_events(
    events: AsyncGenerator[Event, None],
    frame: ResponseFrame,
    output: OutputItems,
    continuation: Continuation,
    tool_calls: ToolCallLimit,
) -> AsyncIterator[bytes]:
    """The SSE body of one streamed response (``events`` already opened and tracked), without
    the tool calls ``parallel_tool_calls: false`` leaves out (``tool_calls``).

    ``events`` is closed however this stream ends (the caller going away included), which
    cancels the model call.
    """
    lines = SequencedEvents()
    yield lines.line({"type": "response.created", "response": frame.response("in_progress", [])})
    yield lines.line(
        {"type": "response.in_progress", "response": frame.response("in_progress", [])}
    )
    try:
        async with aclosing(events):
            async for event in events:
                if not tool_calls.keeps(event):
                    continue
                for payload in output.feed(event):
                    yield lines.line(payload)
    except GatewayError as error:
        for payload in output.close("incomplete"):
            yield lines.line(payload)
        response = failed(frame, output, error_object(error))
        await keep_failed(continuation, response, output)
        yield lines.line({"type": "response.failed", "response": response})
        return
    closing, response = finished(frame, output)
    for payload in closing:
        yield lines.line(payload)
    try:
        await continuation.keep(response, output.items)
    except Refusal as refusal:
        not_kept: Payload = {"code": "server_error", "message": refusal.message}
        yield lines.line({"type": "response.failed", "response": failed(frame, output, not_kept)})
        return
    yield lines.line({"type": f"response.{response['status']}", "response": response})


async def keep_failed(continuation: Continuation, response: Payload, output: OutputItems) -> None:
    """Store a failed response when asked to (as OpenAI does); a store failure is only logged:
    the caller is already being told the response failed."""
    try:
        await continuation.keep(response, output.items)
    except Refusal:
        logger.warning("failed response %s could not be stored", response["id"])
