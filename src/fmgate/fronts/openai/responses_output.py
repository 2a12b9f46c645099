"""Neutral events -> a response's output items, and the Response object around them.

:class:`OutputItems` folds a bot's events into the response's ``output``: ``reasoning``,
``message`` (``output_text``) and ``function_call`` items, in the order the model produced
them. For each event it also returns the stream events it makes (``output_item.added``, the
deltas, ``...done``), so the streamed and the whole answer are one fold.
:func:`response_object` draws the Response around the items, as ``GET /v1/responses/{id}``
reads it back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from fmgate.accounting.estimates import estimate_output_tokens
from fmgate.core.errors import GatewayError
from fmgate.core.events import (
    Done,
    Event,
    ReasoningDelta,
    StopReason,
    TextDelta,
    ToolCall,
    ToolCallStart,
    ToolInputDelta,
    Usage,
)
from fmgate.fronts.openai.responses_schema import FunctionTool, ResponsesRequest

Payload = dict[str, object]
ItemKind = Literal["reasoning", "message", "function_call"]
ItemStatus = Literal["completed", "incomplete"]
ResponseStatus = Literal["completed", "incomplete", "failed"]

#: Stop reasons that leave a response ``incomplete``, and the reason OpenAI gives.
INCOMPLETE_REASONS: Mapping[StopReason, str] = {
    "max_tokens": "max_output_tokens",
    "content_filtered": "content_filter",
    "guardrail_intervened": "content_filter",
}
#: Item id prefixes, as OpenAI's.
ID_PREFIXES: Mapping[ItemKind, str] = {"reasoning": "rs", "message": "msg", "function_call": "fc"}


def response_id(request_id: str) -> str:
    """A response's id: the request's (the ledger row's id) behind OpenAI's prefix."""
    return f"resp_{request_id}"


@dataclass(slots=True)
class _OpenItem:
    kind: ItemKind
    index: int
    id: str
    parts: list[str] = field(default_factory=list)
    call_id: str = ""
    name: str = ""


def text_part(text: str) -> Payload:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def reasoning_part(text: str) -> Payload:
    return {"type": "reasoning_text", "text": text}


class OutputItems:
    """The output of one response, folded from its events (one item open at a time)."""

    def __init__(self, request_id: str) -> None:
        self._request_id = request_id
        self.items: list[Payload] = []
        self._open: _OpenItem | None = None
        self.usage: Usage | None = None
        self.stop_reason: StopReason | None = None
        self._reasoning: list[str] = []

    @property
    def reasoning_text(self) -> str:
        return "".join(self._reasoning)

    def feed(self, event: Event) -> list[Payload]:
        """Take one event; the stream events it makes."""
        match event:
            case TextDelta(text=text):
                return self._piece("message", text)
            case ReasoningDelta(text=text):
                self._reasoning.append(text)
                return self._piece("reasoning", text)
            case ToolCallStart(id=call_id, name=name):
                return [*self.close("completed"), *self._start_call(call_id, name)]
            case ToolInputDelta(id=call_id, json=piece):
                return self._arguments(call_id, piece)
            case ToolCall():
                return self._end_call(event)
            case Usage():
                self.usage = event
            case Done(stop_reason=reason):
                self.stop_reason = reason
        return []

    def finish(self, status: ItemStatus) -> list[Payload]:
        """Close the open item with ``status`` (an answer of nothing gets an empty message)."""
        if self._open is None and not self.items:
            return [*self._start("message"), *self.close(status)]
        return self.close(status)

    def close(self, status: ItemStatus) -> list[Payload]:
        """Close the open item, if any; its ``...done`` stream events."""
        item = self._open
        if item is None:
            return []
        self._open = None
        whole = "".join(item.parts)
        where = {"item_id": item.id, "output_index": item.index}
        events: list[Payload]
        match item.kind:
            case "message":
                events = [
                    {
                        "type": "response.output_text.done",
                        **where,
                        "content_index": 0,
                        "text": whole,
                        "logprobs": [],
                    },
                    {
                        "type": "response.content_part.done",
                        **where,
                        "content_index": 0,
                        "part": text_part(whole),
                    },
                ]
                done: Payload = {
                    "id": item.id,
                    "type": "message",
                    "role": "assistant",
                    "status": status,
                    "content": [text_part(whole)],
                }
            case "reasoning":
                events = [
                    {
                        "type": "response.reasoning_text.done",
                        **where,
                        "content_index": 0,
                        "text": whole,
                    },
                    {
                        "type": "response.content_part.done",
                        **where,
                        "content_index": 0,
                        "part": reasoning_part(whole),
                    },
                ]
                done = {
                    "id": item.id,
                    "type": "reasoning",
                    "summary": [],
                    "content": [reasoning_part(whole)],
                    "status": status,
                }
            case "function_call":
                events = [
                    {"type": "response.function_call_arguments.done", **where, "arguments": whole}
                ]
                done = {**self._call_item(item, whole), "status": status}
        self.items.append(done)
        events.append(
            {"type": "response.output_item.done", "output_index": item.index, "item": done}
        )
        return events

    # -- internals ----------------------------------------------------------------------------

    def _piece(self, kind: ItemKind, text: str) -> list[Payload]:
        events: list[Payload] = []
        if self._open is None or self._open.kind != kind:
            events = [*self.close("completed"), *self._start(kind)]
        item = self._open
        assert item is not None
        item.parts.append(text)
        where = {"item_id": item.id, "output_index": item.index, "content_index": 0}
        if kind == "message":
            events.append(
                {"type": "response.output_text.delta", **where, "delta": text, "logprobs": []}
            )
        else:
            events.append({"type": "response.reasoning_text.delta", **where, "delta": text})
        return events

    def _start(self, kind: ItemKind, call_id: str = "", name: str = "") -> list[Payload]:
        index = len(self.items)
        item_id = f"{ID_PREFIXES[kind]}_{self._request_id}_{index}"
        item = _OpenItem(kind, index, item_id, call_id=call_id, name=name)
        self._open = item
        where = {"item_id": item_id, "output_index": index, "content_index": 0}
        match kind:
            case "message":
                added: Payload = {
                    "id": item_id,
                    "type": "message",
                    "role": "assistant",
                    "status": "in_progress",
                    "content": [],
                }
                part = [{"type": "response.content_part.added", **where, "part": text_part("")}]
            case "reasoning":
                added = {
                    "id": item_id,
                    "type": "reasoning",
                    "summary": [],
                    "content": [],
                    "status": "in_progress",
                }
                part = [
                    {"type": "response.content_part.added", **where, "part": reasoning_part("")}
                ]
            case "function_call":
                added = {**self._call_item(item, ""), "status": "in_progress"}
                part = []
        return [{"type": "response.output_item.added", "output_index": index, "item": added}, *part]

    def _call_item(self, item: _OpenItem, arguments: str) -> Payload:
        return {
            "id": item.id,
            "type": "function_call",
            "call_id": item.call_id,
            "name": item.name,
            "arguments": arguments,
        }

    def _start_call(self, call_id: str, name: str) -> list[Payload]:
        return self._start("function_call", call_id, name)

    def _arguments(self, call_id: str, piece: str) -> list[Payload]:
        item = self._open
        if item is None or item.kind != "function_call" or item.call_id != call_id:
            return []  # a piece of no open call: the whole call that follows carries it
        item.parts.append(piece)
        return [
            {
                "type": "response.function_call_arguments.delta",
                "item_id": item.id,
                "output_index": item.index,
                "delta": piece,
            }
        ]

    def _end_call(self, call: ToolCall) -> list[Payload]:
        """The whole call: its arguments replace the pieces (they are the model's own)."""
        events: list[Payload] = []
        item = self._open
        if item is None or item.kind != "function_call" or item.call_id != call.id:
            events = [*self.close("completed"), *self._start_call(call.id, call.name)]
            events.extend(self._arguments(call.id, call.input_json))
        item = self._open
        assert item is not None
        item.parts = [call.input_json]
        return [*events, *self.close("completed")]


def final_status(stop_reason: StopReason | None) -> tuple[ResponseStatus, str | None]:
    """A finished response's status, and why it is incomplete (None when it is not)."""
    reason = INCOMPLETE_REASONS.get(stop_reason or "end_turn")
    return ("incomplete", reason) if reason else ("completed", None)


def usage_body(usage: Usage | None, reasoning_text: str) -> Payload:
    """OpenAI ``usage``: input tokens include cache reads and writes, as OpenAI counts them.

    Bedrock counts reasoning within the output tokens and reports no split, so
    ``reasoning_tokens`` is an estimate from the reasoning text (0 without reasoning).
    """
    usage = usage or Usage()
    prompt = usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens
    reasoning = min(usage.output_tokens, estimate_output_tokens(reasoning_text))
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
        },
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": prompt + usage.output_tokens,
    }


def error_object(error: GatewayError) -> Payload:
    """A failed response's ``error`` (OpenAI's codes; the message is the gateway's)."""
    code = "rate_limit_exceeded" if error.status == 429 else "server_error"
    return {"code": code, "message": error.user_message}


def tool_body(tool: FunctionTool) -> Payload:
    return {
        "type": "function",
        "name": tool.name,
        "description": tool.description,
        "parameters": tool.parameters,
        "strict": tool.strict,
    }


def text_format_body(body: ResponsesRequest) -> Payload:
    """The request's ``text.format`` as a Response repeats it (``text`` when none)."""
    text_format = body.text.format if body.text is not None else None
    if text_format is None or text_format.type != "json_schema":
        return {"type": text_format.type if text_format is not None else "text"}
    return {
        "type": "json_schema",
        "name": text_format.name,
        "schema": text_format.json_schema,
        "description": text_format.description,
        "strict": text_format.strict,
    }


def echoed_fields(body: ResponsesRequest) -> Payload:
    """What a Response repeats of its request (with OpenAI's defaults)."""
    choice = body.tool_choice
    reasoning = body.reasoning
    return {
        "instructions": body.instructions,
        "max_output_tokens": body.max_output_tokens,
        "metadata": body.metadata or {},
        "parallel_tool_calls": body.parallel_tool_calls is not False,
        "previous_response_id": body.previous_response_id,
        "reasoning": {
            "effort": reasoning.effort if reasoning else None,
            "summary": reasoning.summary if reasoning else None,
        },
        "store": body.stored,
        "temperature": body.temperature,
        "text": {"format": text_format_body(body), "verbosity": "medium"},
        "tool_choice": choice.model_dump()
        if choice is not None and not isinstance(choice, str)
        else (choice or "auto"),
        "tools": [tool_body(tool) for tool in body.tools if isinstance(tool, FunctionTool)],
        "top_p": body.top_p,
        "truncation": "disabled",
        "user": body.user,
        "background": False,
        "service_tier": "default",
    }


@dataclass(frozen=True, slots=True)
class ResponseFrame:
    """What every rendering of one response shares: its id, model, time, the echoed request."""

    id: str
    model: str
    created_at: int
    echoed: Mapping[str, object]

    def response(
        self,
        status: Literal["in_progress", "completed", "incomplete", "failed"],
        output: list[Payload],
        *,
        usage: Payload | None = None,
        incomplete_reason: str | None = None,
        error: Payload | None = None,
        completed_at: int | None = None,
    ) -> Payload:
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "completed_at": completed_at,
            "error": error,
            "incomplete_details": {"reason": incomplete_reason} if incomplete_reason else None,
            "model": self.model,
            "output": output,
            **self.echoed,
            "usage": usage,
        }
