"""Converse (JSON), ConverseStream (event stream) and CountTokens handlers."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, replace
from typing import Any

from aiohttp import web

from fmgate_emulator import unknown_members
from fmgate_emulator.answer_blocks import (
    Block,
    CitedTextBlock,
    ReasoningBlock,
    RedactedReasoningBlock,
    TextBlock,
    ToolUseBlock,
    render_block,
)
from fmgate_emulator.call import Call
from fmgate_emulator.content import count_tokens, split_tokens
from fmgate_emulator.conversation import (
    Answer,
    ConverseCall,
    as_list,
    check_content,
    check_roles,
    check_system,
    count_input_tokens,
    parse_converse,
    plan_answer,
)
from fmgate_emulator.errors import validation
from fmgate_emulator.eventstream import event_frame
from fmgate_emulator.faults import FaultKind
from fmgate_emulator.guarded_answer import BlockedTextBlock, blocked_input, guard_output
from fmgate_emulator.guardrails import Verdict, assess_input, parse_guardrail_config
from fmgate_emulator.models import Modality, ResolvedModel
from fmgate_emulator.streaming import EventStreamWriter

NOT_A_CHAT_MODEL = (
    "This action doesn't support the model that you provided. "
    "Try again with a supported text or chat model."
)
#: CountTokens for a model that does not count, or called by an inference profile's id.
UNCOUNTABLE_MODEL = "The provided model doesn't support counting tokens."


def chat_model(call: Call) -> ResolvedModel:
    """The call's model, which must be a chat model (image/video models refuse Converse)."""
    model = call.model()
    if model.spec.modality is not Modality.CHAT:
        raise validation(NOT_A_CHAT_MODEL)
    return model


@dataclass(frozen=True, slots=True)
class Prepared:
    """A validated call and what to answer: the billed answer, the blocks to send (a
    guardrail may cut them), and the guardrail's verdict (None without a guardrail)."""

    converse_call: ConverseCall
    answer: Answer
    blocks: list[Block | BlockedTextBlock]
    verdict: Verdict | None

    def extras(self) -> dict[str, Any]:
        """The members both answers carry besides output and usage: ``performanceConfig``,
        the ``serviceTier`` served and the guardrail's ``trace``."""
        members: dict[str, Any] = {}
        if self.converse_call.performance_latency:
            members["performanceConfig"] = {"latency": self.converse_call.performance_latency}
        if self.converse_call.service_tier is not None:
            members["serviceTier"] = {"type": self.converse_call.service_tier}
        trace = self.verdict.trace() if self.verdict is not None else None
        if trace is not None:
            members["trace"] = trace
        return members


def prepare(call: Call, *, streaming: bool) -> Prepared:
    """Validate the request, run its guardrail on the input, plan the answer (read / write the
    prompt cache for it), and run the guardrail on the output."""
    spec = chat_model(call).spec
    body = call.json_object()
    converse_call = parse_converse(body, spec, streaming=streaming)
    guardrail = parse_guardrail_config(body.get("guardrailConfig"), call.state.guardrails)
    verdict = None
    if guardrail is not None:
        verdict = assess_input(guardrail, converse_call.system, converse_call.messages)
        if verdict.input_blocked:  # the model is never called
            answer = blocked_input(guardrail)
            call.record_usage(answer.usage)
            message = guardrail.spec.blocked_input_messaging
            sent: list[Block | BlockedTextBlock] = [BlockedTextBlock("", message)]
            if not streaming:
                sent = list(answer.blocks)
            return Prepared(converse_call, answer, sent, verdict)
    answer = plan_answer(converse_call, spec)
    if converse_call.checkpoints and spec.caching is not None:
        cache = call.state.prompt_cache.apply(
            call.cache_partition(spec), converse_call.checkpoints, spec.caching
        )
        answer = replace(answer, cache=cache)
    blocks: list[Block | BlockedTextBlock] = list(answer.blocks)
    if verdict is not None:
        answer, blocks, verdict = guard_output(answer, verdict, streaming=streaming)
    call.record_usage(answer.usage)
    return Prepared(converse_call, answer, blocks, verdict)


async def converse(call: Call) -> web.StreamResponse:
    """Converse: the whole answer as one JSON document, after the time generating it takes."""
    prepared = prepare(call, streaming=False)
    answer = prepared.answer
    await call.pacer(answer.uncached_input_tokens).whole_answer(answer.output_tokens)
    content = [render_block(b) for b in prepared.blocks if not isinstance(b, BlockedTextBlock)]
    body: dict[str, Any] = {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": answer.stop_reason,
        "usage": answer.usage,
        "metrics": {"latencyMs": call.latency_ms()},
        **prepared.extras(),
    }
    if with_unknown_members(call):
        body = unknown_members.converse_body(body)
    return web.json_response(body)


def with_unknown_members(call: Call) -> bool:
    """Whether an ``unknown_members`` fault asks for members no client models yet."""
    return call.fault is not None and call.fault.kind is FaultKind.UNKNOWN_MEMBERS


async def converse_stream(call: Call) -> web.StreamResponse:
    """ConverseStream: event-stream frames, one contentBlockDelta per token, paced."""
    prepared = prepare(call, streaming=True)
    answer = prepared.answer
    writer = EventStreamWriter(call.request, call.pacer(answer.uncached_input_tokens), call.fault)
    unknown = with_unknown_members(call)
    response = await writer.open()
    await writer.send(event_frame("messageStart", {"role": "assistant"}))
    first_index = 0
    if unknown:
        await send_unknown_members(writer)
        first_index = 1
    for index, block in enumerate(prepared.blocks, start=first_index):
        await stream_block(writer, index, block)
    metadata: dict[str, Any] = {
        "usage": answer.usage,
        "metrics": {"latencyMs": 0},
        **prepared.extras(),
    }
    stop_reason = answer.stop_reason
    if unknown:
        stop_reason = unknown_members.stop_reason(stop_reason)
    stop = event_frame("messageStop", {"stopReason": stop_reason})
    await writer.checkpoint()
    metadata["metrics"]["latencyMs"] = call.latency_ms()
    if unknown:
        metadata = unknown_members.metadata(metadata)
    await writer.finish(stop, event_frame("metadata", metadata))
    return response


async def send_unknown_members(writer: EventStreamWriter) -> None:
    """The unknown event, then block 0 of an unknown kind (start, one delta, stop)."""
    await writer.send(event_frame(unknown_members.UNKNOWN_EVENT, unknown_members.unknown_event()))
    await writer.send(event_frame("contentBlockStart", unknown_members.block_start(0)))
    await writer.send(event_frame("contentBlockDelta", unknown_members.block_delta(0)))
    await writer.send(event_frame("contentBlockStop", {"contentBlockIndex": 0}))


def delta(index: int, body: dict[str, Any]) -> bytes:
    return event_frame("contentBlockDelta", {"contentBlockIndex": index, "delta": body})


async def stream_block(writer: EventStreamWriter, index: int, block: Any) -> None:
    """contentBlockStart (toolUse only), the block's deltas token by token, contentBlockStop."""
    match block:
        case ReasoningBlock(text=text, signature=signature):
            for piece in split_tokens(text):
                await writer.token(delta(index, {"reasoningContent": {"text": piece}}))
            if signature is not None:
                await writer.send(delta(index, {"reasoningContent": {"signature": signature}}))
        case RedactedReasoningBlock(data=data):
            redacted = {"redactedContent": base64.b64encode(data).decode()}
            await writer.send(delta(index, {"reasoningContent": redacted}))
        case TextBlock(text=text):
            for piece in split_tokens(text):
                await writer.token(delta(index, {"text": piece}))
        case CitedTextBlock(text=text, citations=citations):
            for cited in citations:  # each citation before the text it supports
                await writer.send(delta(index, {"citation": cited}))
            for piece in split_tokens(text):
                await writer.token(delta(index, {"text": piece}))
        case BlockedTextBlock(released=released, message=message):
            for piece in split_tokens(released):
                await writer.token(delta(index, {"text": piece}))
            await writer.token(delta(index, {"text": message}))
        case ToolUseBlock():
            start = {"toolUse": {"toolUseId": block.tool_use_id, "name": block.name}}
            await writer.send(
                event_frame("contentBlockStart", {"contentBlockIndex": index, "start": start})
            )
            for piece in split_tokens(block.input_json):
                await writer.token(delta(index, {"toolUse": {"input": piece}}))
    await writer.send(event_frame("contentBlockStop", {"contentBlockIndex": index}))


def invoke_body_text(raw: Any) -> str:
    """An InvokeModel body as CountTokens receives it (a base64 blob) decoded to text."""
    if not isinstance(raw, str):
        return json.dumps(raw)
    try:
        return base64.b64decode(raw, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return raw


async def count_tokens_handler(call: Call) -> web.StreamResponse:
    """CountTokens: the same input count Converse reports in ``usage.inputTokens``, for the
    models that count, called by their foundation-model id (an inference profile is refused)."""
    model = call.named_model()
    if model.via_profile or not model.spec.count_tokens:
        raise validation(UNCOUNTABLE_MODEL)
    body = call.json_object()
    request_input = body.get("input") or {}
    if "converse" in request_input:
        converse_input = request_input["converse"]
        messages = as_list(converse_input.get("messages"), "messages")
        system = as_list(converse_input.get("system"), "system")
        check_roles(messages)
        check_system(system)
        check_content(messages, model.spec)
        tokens = count_input_tokens(system, messages, converse_input.get("toolConfig"))
    elif "invokeModel" in request_input:
        tokens = count_tokens(invoke_body_text(request_input["invokeModel"].get("body", "")))
    else:
        raise validation("The input must contain either converse or invokeModel.")
    return web.json_response({"inputTokens": tokens})
