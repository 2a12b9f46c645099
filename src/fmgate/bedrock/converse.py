"""Chat through Converse / ConverseStream: neutral request in, neutral events out.

``build_*`` functions turn a :class:`~fmgate.core.model_request.ChatRequest` into the Converse
request; ``convert_*`` functions turn Bedrock's answer into :mod:`fmgate.core.events`. The stream's
order is always the same: deltas and tool calls as they come, then ``Usage``, then ``Done``
(Bedrock sends ``metadata`` — usage and latency — *after* ``messageStop``, so ``Done`` is held
back until the stream has ended).

What the converters do not model (a content-block kind, a usage or metrics member, a stop
reason, a stream event Bedrock adds later) is skipped, never shown to the user, and reported to
:mod:`fmgate.bedrock.unknown_members`, which logs each kind once; the answer goes on.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field

from fmgate.bedrock.citations import convert_citation, convert_citations_block
from fmgate.bedrock.client import BedrockRuntimeClient
from fmgate.bedrock.errors import bedrock_errors
from fmgate.bedrock.eventstream import stream_event_batches
from fmgate.bedrock.guardrails import (
    build_guarded_text,
    build_guardrail_config,
    guardrail_trace,
    report_guardrail,
)
from fmgate.bedrock.model_ids import foundation_model_id
from fmgate.bedrock.readers import Shape, integer, items, mapping, optional_text, text
from fmgate.bedrock.readers import field as member
from fmgate.bedrock.reasoning_fields import build_reasoning_fields
from fmgate.bedrock.stream_transport import ConverseStreamTransport
from fmgate.bedrock.structured_output import build_output_config, closed_schema
from fmgate.bedrock.unknown_members import report_kinds, report_unknown, report_unknown_keys
from fmgate.core.errors import ContextTooLong, ModelStreamFailed
from fmgate.core.events import (
    Citation,
    Done,
    Event,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoning,
    StopReason,
    TextBreak,
    TextDelta,
    ToolCall,
    ToolCallStart,
    ToolInputDelta,
    Usage,
)
from fmgate.core.model_request import (
    CachePoint,
    CacheTTL,
    ChatMessage,
    ChatRequest,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    ReasoningBlock,
    RedactedReasoningBlock,
    SystemBlock,
    TextBlock,
    ToolChoice,
    ToolEntry,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    UseTool,
)
from fmgate.observability.overhead import upstream_call

#: Bedrock stopReason -> neutral stop reason; anything else is "other".
STOP_REASONS: Mapping[str, StopReason] = {
    "end_turn": "end_turn",
    "max_tokens": "max_tokens",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_use",
    "content_filtered": "content_filtered",
    "guardrail_intervened": "guardrail_intervened",
}

#: The stop reason by which Bedrock says the conversation did not fit the context window.
CONTEXT_WINDOW_EXCEEDED = "model_context_window_exceeded"

# The members the converters read or knowingly pass over (botocore's bedrock-runtime model);
# any other is reported as not modelled.
#: TokenUsage.
USAGE_MEMBERS = frozenset(
    {
        "inputTokens",
        "outputTokens",
        "totalTokens",
        "cacheReadInputTokens",
        "cacheWriteInputTokens",
        "cacheDetails",
    }
)
#: ConverseMetrics / ConverseStreamMetrics.
METRICS_MEMBERS = frozenset({"latencyMs"})
#: ConverseStreamMetadataEvent.
METADATA_MEMBERS = frozenset({"usage", "metrics", "trace", "performanceConfig", "serviceTier"})
#: ConverseResponse, as botocore returns it (with its own ResponseMetadata).
RESPONSE_MEMBERS = frozenset(
    {
        "output",
        "stopReason",
        "usage",
        "metrics",
        "additionalModelResponseFields",
        "trace",
        "performanceConfig",
        "serviceTier",
        "ResponseMetadata",
    }
)
#: MessageStopEvent.
MESSAGE_STOP_MEMBERS = frozenset({"stopReason", "additionalModelResponseFields"})

#: The TTL a ``cachePoint`` without ``ttl`` has; it is sent as Bedrock's default (no ``ttl``
#: member) since models without extended TTLs take only that.
DEFAULT_CACHE_TTL: CacheTTL = "5m"


# ---------------------------------------------------------------------------------------------
# Request


def build_cache_point(point: CachePoint) -> dict[str, object]:
    """``{"cachePoint": {"type": "default"[, "ttl": ...]}}``: a SystemContentBlock, a
    ContentBlock and a Tool alike."""
    body: dict[str, object] = {"type": "default"}
    if point.ttl != DEFAULT_CACHE_TTL:
        body["ttl"] = point.ttl
    return {"cachePoint": body}


def build_content_block(block: ContentBlock) -> dict[str, object]:
    """One neutral content block -> a Converse ContentBlock (bytes stay bytes: botocore
    base64-encodes them on the wire)."""
    match block:
        case CachePoint():
            return build_cache_point(block)
        case TextBlock(text=value, guarded=True):
            return build_guarded_text(value)
        case TextBlock(text=value):
            return {"text": value}
        case ImageBlock(format=fmt, data=data):
            return {"image": {"format": fmt, "source": {"bytes": data}}}
        case DocumentBlock():
            return build_document(block)
        case ReasoningBlock(text=thought, signature=signature):
            return {
                "reasoningContent": {"reasoningText": {"text": thought, "signature": signature}}
            }
        case RedactedReasoningBlock(data=data):
            return {"reasoningContent": {"redactedContent": data}}
        case ToolUseBlock(tool_use_id=tool_use_id, name=name, input=arguments):
            return {"toolUse": {"toolUseId": tool_use_id, "name": name, "input": arguments}}
        case ToolResultBlock(tool_use_id=tool_use_id, text=output, is_error=is_error):
            return {
                "toolResult": {
                    "toolUseId": tool_use_id,
                    "content": [{"text": output}],
                    "status": "error" if is_error else "success",
                }
            }


def build_document(block: DocumentBlock) -> dict[str, object]:
    """A DocumentBlock; ``citations: {enabled: true}`` when the model is to cite it."""
    document: dict[str, object] = {
        "format": block.format,
        "name": block.name,
        "source": {"bytes": block.data},
    }
    if block.citations:
        document["citations"] = {"enabled": True}
    return {"document": document}


def is_blank_text(block: ContentBlock) -> bool:
    return isinstance(block, TextBlock) and not block.text.strip()


def build_message(message: ChatMessage) -> dict[str, object]:
    """A neutral message -> a Converse Message.

    Bedrock rejects blank text blocks, so they are left out when the message has other content
    (the usual case: an attachment sent without words).
    """
    blocks = [b for b in message.content if not is_blank_text(b)] or list(message.content)
    return {"role": message.role, "content": [build_content_block(b) for b in blocks]}


def build_inference_config(req: ChatRequest) -> dict[str, object]:
    """``inferenceConfig``: only what the request sets. With extended thinking (a budget or
    adaptive), Bedrock (Anthropic) rejects ``topP`` and any temperature but 1, so both are left
    to the model."""
    thinking = req.thinks
    config: dict[str, object] = {}
    if req.max_tokens is not None:
        config["maxTokens"] = req.max_tokens
    if req.temperature is not None and not thinking:
        config["temperature"] = req.temperature
    if req.top_p is not None and not thinking:
        config["topP"] = req.top_p
    if req.stop_sequences:
        config["stopSequences"] = list(req.stop_sequences)
    return config


def build_additional_fields(req: ChatRequest) -> dict[str, object]:
    """``additionalModelRequestFields``: configured extras, plus ``thinking`` and the effort when
    requested (they win over configured ones) and the request's ``anthropic_beta`` flags (an
    effort's own beta among them) after any configured ones."""
    fields = dict(req.additional_fields)
    fields.update(build_reasoning_fields(req, fields))
    effort = req.effort
    betas = (*req.anthropic_betas, *((effort.beta,) if effort and effort.beta else ()))
    if betas:
        configured = fields.get("anthropic_beta")
        flags = [str(flag) for flag in configured] if isinstance(configured, list) else []
        fields["anthropic_beta"] = list(dict.fromkeys([*flags, *betas]))
    return fields


def build_tool(entry: ToolEntry) -> dict[str, object]:
    """One ``toolConfig.tools`` member: a tool's spec, or a checkpoint. A blank description is
    left out: Bedrock's is a non-empty string (botocore refuses an empty one before sending). A
    strict tool's schema goes closed (:func:`~fmgate.bedrock.structured_output.closed_schema`)."""
    if isinstance(entry, CachePoint):
        return build_cache_point(entry)
    spec: ToolSpec = entry
    schema = closed_schema(spec.input_schema) if spec.strict else spec.input_schema
    tool: dict[str, object] = {"name": spec.name, "inputSchema": {"json": schema}}
    if spec.description.strip():
        tool["description"] = spec.description
    if spec.strict:
        tool["strict"] = True
    return {"toolSpec": tool}


def build_tool_choice(choice: ToolChoice) -> dict[str, object]:
    match choice:
        case UseTool(name=name):
            return {"tool": {"name": name}}
        case "any":
            return {"any": {}}
        case "auto":
            return {"auto": {}}


def build_tool_config(tools: tuple[ToolEntry, ...], choice: ToolChoice) -> dict[str, object]:
    """``toolConfig``; ``auto`` is Bedrock's default and is left out (every model takes it)."""
    config: dict[str, object] = {"tools": [build_tool(entry) for entry in tools]}
    if choice != "auto":
        config["toolChoice"] = build_tool_choice(choice)
    return config


def build_system_block(block: SystemBlock) -> dict[str, object]:
    return build_cache_point(block) if isinstance(block, CachePoint) else {"text": block}


def build_converse_request(req: ChatRequest, *, streaming: bool = False) -> dict[str, object]:
    """The keyword arguments of ``converse`` (or, ``streaming``, ``converse_stream``) for
    ``req``."""
    request: dict[str, object] = {
        "modelId": req.model_id,
        "messages": [build_message(m) for m in req.messages],
    }
    if req.system:
        request["system"] = [build_system_block(block) for block in req.system]
    inference = build_inference_config(req)
    if inference:
        request["inferenceConfig"] = inference
    additional = build_additional_fields(req)
    if additional:
        request["additionalModelRequestFields"] = additional
    if req.optimize_latency:
        request["performanceConfig"] = {"latency": "optimized"}
    if req.tools:
        request["toolConfig"] = build_tool_config(req.tools, req.tool_choice)
    if req.guardrail is not None:
        request["guardrailConfig"] = build_guardrail_config(req.guardrail, streaming=streaming)
    if req.service_tier is not None:
        request["serviceTier"] = {"type": req.service_tier}
    if req.output_schema is not None:
        request["outputConfig"] = build_output_config(req.output_schema)
    return request


# ---------------------------------------------------------------------------------------------
# Answer


def convert_stop_reason(reason: str) -> StopReason:
    """Bedrock stopReason -> neutral; context overflow is an error, not a way to finish. A stop
    reason fmgate does not know finishes the answer as "other" (and is reported)."""
    if reason == CONTEXT_WINDOW_EXCEEDED:
        raise ContextTooLong(f"bedrock stopReason {CONTEXT_WINDOW_EXCEEDED}")
    known = STOP_REASONS.get(reason)
    if known is None:
        report_unknown("stop reason", reason)
        return "other"
    return known


def convert_usage(usage: Shape) -> Usage:
    """Bedrock's TokenUsage; ``cacheDetails`` gives the writes made with the 1-hour TTL."""
    report_unknown_keys("usage member", usage, USAGE_MEMBERS)
    return Usage(
        input_tokens=integer(usage, "inputTokens"),
        output_tokens=integer(usage, "outputTokens"),
        cache_read_tokens=integer(usage, "cacheReadInputTokens"),
        cache_write_tokens=integer(usage, "cacheWriteInputTokens"),
        cache_write_1h_tokens=sum(
            integer(detail, "inputTokens")
            for detail in map(mapping, items(usage, "cacheDetails"))
            if optional_text(detail, "ttl") == "1h"
        ),
    )


def convert_latency(metrics: Shape) -> int | None:
    report_unknown_keys("metrics member", metrics, METRICS_MEMBERS)
    return integer(metrics, "latencyMs") if "latencyMs" in metrics else None


def convert_service_tier(container: Shape) -> str | None:
    """The ``serviceTier.type`` Bedrock reports (a Converse response, a metadata event)."""
    return optional_text(member(container, "serviceTier"), "type")


@dataclass(slots=True)
class ToolUseInProgress:
    """A tool call being streamed: its input JSON arrives in fragments."""

    id: str
    name: str
    fragments: list[str] = field(default_factory=list)

    def finish(self) -> ToolCall:
        return ToolCall(id=self.id, name=self.name, input_json="".join(self.fragments) or "{}")


@dataclass(slots=True)
class StreamState:
    """What :func:`convert_stream_event` remembers between events of one ConverseStream."""

    tool_uses: dict[int, ToolUseInProgress] = field(default_factory=dict)
    stop_reason: StopReason | None = None
    latency_ms: int | None = None
    #: The metadata event's ``trace.guardrail`` (empty without a guardrail trace).
    guardrail_trace: Shape = field(default_factory=dict)
    service_tier: str | None = None
    #: A block of answer text (text or citation deltas) is open.
    in_text: bool = False
    #: A block of answer text has ended: the next text or citation starts a new one.
    text_ended: bool = False


def convert_block_start(event: Shape, state: StreamState) -> list[Event]:
    """A tool call opens; a block of any other kind is not modelled (its deltas are skipped)."""
    start = member(event, "start")
    tool_use = member(start, "toolUse")
    if not tool_use:
        report_kinds("content block start", start)
        return []
    pending = ToolUseInProgress(id=text(tool_use, "toolUseId"), name=text(tool_use, "name"))
    state.tool_uses[integer(event, "contentBlockIndex")] = pending
    return [ToolCallStart(id=pending.id, name=pending.name)]


def convert_block_delta(event: Shape, state: StreamState) -> list[Event]:
    delta = member(event, "delta")
    if "text" in delta:
        piece = text(delta, "text")
        if not piece:
            return []
        if state.text_ended:
            return [*text_block_opened(state), TextDelta(piece)]
        state.in_text = True
        return [TextDelta(piece)]
    if "citation" in delta:
        citation = convert_citation(member(delta, "citation"))
        if citation is None:
            return []
        return [*text_block_opened(state), citation]
    if "reasoningContent" in delta:
        return convert_reasoning_delta(member(delta, "reasoningContent"))
    if "toolUse" in delta:
        index = integer(event, "contentBlockIndex")
        pending = state.tool_uses.get(index)
        if pending is None:
            raise ModelStreamFailed(f"toolUse delta for unopened content block {index}")
        fragment = text(member(delta, "toolUse"), "input", default="")
        if fragment:
            pending.fragments.append(fragment)
            return [ToolInputDelta(id=pending.id, json=fragment)]
        return []
    report_kinds("content block delta", delta)
    return []


def text_block_opened(state: StreamState) -> list[Event]:
    """A text or citation delta arrived: a ``TextBreak`` first when it opens a new block of
    answer text after another one."""
    state.in_text = True
    if not state.text_ended:
        return []
    state.text_ended = False
    return [TextBreak()]


def convert_reasoning_delta(reasoning: Shape) -> list[Event]:
    """A ``reasoningContent`` delta: readable text, the signature that closes the block, or
    redacted reasoning (base64 in the stream's JSON)."""
    if "redactedContent" in reasoning:
        return [RedactedReasoning(decode_blob(text(reasoning, "redactedContent")))]
    if "signature" in reasoning:
        return [ReasoningSignature(text(reasoning, "signature"))]
    if "text" not in reasoning:
        report_kinds("reasoning delta", reasoning)
        return []
    thought = optional_text(reasoning, "text")
    return [ReasoningDelta(thought)] if thought else []


def decode_blob(encoded: str) -> bytes:
    """A blob member of an event-stream payload (base64 in its JSON)."""
    try:
        return base64.b64decode(encoded, validate=True)
    except binascii.Error as exc:
        raise ModelStreamFailed("redactedContent that is not base64") from exc


def convert_block_stop(event: Shape, state: StreamState) -> list[Event]:
    pending = state.tool_uses.pop(integer(event, "contentBlockIndex"), None)
    if pending is not None:
        return [pending.finish()]
    if state.in_text:
        state.in_text = False
        state.text_ended = True
    return []


def convert_message_stop(event: Shape, state: StreamState) -> list[Event]:
    report_unknown_keys("messageStop member", event, MESSAGE_STOP_MEMBERS)
    state.stop_reason = convert_stop_reason(text(event, "stopReason", default="end_turn"))
    return []


def convert_metadata(event: Shape, state: StreamState) -> list[Event]:
    report_unknown_keys("metadata member", event, METADATA_MEMBERS)
    state.latency_ms = convert_latency(member(event, "metrics"))
    state.guardrail_trace = guardrail_trace(event)
    state.service_tier = convert_service_tier(event)
    usage = member(event, "usage")
    return [convert_usage(usage)] if usage else []


def ignore_event(event: Shape, state: StreamState) -> list[Event]:
    return []


StreamConverter = Callable[[Shape, StreamState], list[Event]]

#: ConverseStream member name -> its converter. An event of another type (one Bedrock adds
#: later) is skipped without reading its payload, and reported.
STREAM_CONVERTERS: Mapping[str, StreamConverter] = {
    "messageStart": ignore_event,
    "contentBlockStart": convert_block_start,
    "contentBlockDelta": convert_block_delta,
    "contentBlockStop": convert_block_stop,
    "messageStop": convert_message_stop,
    "metadata": convert_metadata,
}


def convert_stream_event(event: Mapping[str, object], state: StreamState) -> list[Event]:
    """One ConverseStream event (``{member: payload}``) -> the neutral events it completes."""
    produced: list[Event] = []
    for name, payload in event.items():
        converter = STREAM_CONVERTERS.get(name)
        if converter is None:
            report_unknown("ConverseStream event", name)
            continue
        produced.extend(converter(mapping(payload), state))
    return produced


def finish_stream(state: StreamState) -> list[Event]:
    """The closing ``Done`` once the stream has ended; a stream without ``messageStop`` was cut
    off."""
    if state.stop_reason is None:
        raise ModelStreamFailed("ConverseStream ended without messageStop")
    return [
        Done(
            stop_reason=state.stop_reason,
            latency_ms=state.latency_ms,
            service_tier=state.service_tier,
        )
    ]


def convert_batch(
    batch: list[tuple[str, object]], state: StreamState
) -> tuple[list[Event], Exception | None]:
    """The neutral events of a batch of ConverseStream events, and the error that stopped the
    conversion, if one did: the events before it are delivered first, as they came."""
    events: list[Event] = []
    for name, payload in batch:
        converter = STREAM_CONVERTERS.get(name)
        if converter is None:
            report_unknown("ConverseStream event", name)
            continue
        try:
            events.extend(converter(mapping(payload), state))
        except Exception as error:  # raised by the caller once the events before it are out
            return events, error
    return events, None


def join_text_pieces(events: list[Event]) -> list[Event]:
    """``events`` with each run of adjacent answer (or reasoning) pieces joined into one: they
    arrived together, so the caller gets the same text at the same moment in fewer events."""
    if len(events) < 2:
        return events
    joined: list[Event] = []
    run: list[str] = []
    run_kind: type[TextDelta] | type[ReasoningDelta] = TextDelta
    for event in events:
        if isinstance(event, TextDelta | ReasoningDelta):
            if run and type(event) is not run_kind:
                joined.append(run_kind("".join(run)))
                run = []
            run_kind = type(event)
            run.append(event.text)
            continue
        if run:
            joined.append(run_kind("".join(run)))
            run = []
        joined.append(event)
    if run:
        joined.append(run_kind("".join(run)))
    return joined


def convert_output_block(block: Shape) -> list[Event]:
    """One content block of a (non-streaming) Converse answer; a block of another kind is
    skipped and reported (botocore names a kind its model lacks in ``SDK_UNKNOWN_MEMBER``)."""
    if "text" in block:
        value = text(block, "text")
        return [TextDelta(value)] if value else []
    if "citationsContent" in block:
        return convert_citations_block(member(block, "citationsContent"))
    if "reasoningContent" in block:
        return convert_reasoning_block(member(block, "reasoningContent"))
    if "toolUse" in block:
        tool_use = member(block, "toolUse")
        call = ToolCall(
            id=text(tool_use, "toolUseId"),
            name=text(tool_use, "name"),
            input_json=json.dumps(tool_use.get("input", {}), separators=(",", ":")),
        )
        # The same shape as a stream: opened, the whole input as one piece, closed.
        return [
            ToolCallStart(id=call.id, name=call.name),
            ToolInputDelta(id=call.id, json=call.input_json),
            call,
        ]
    report_kinds("content block", block)
    return []


def convert_reasoning_block(content: Shape) -> list[Event]:
    """A whole answer's reasoning block: the text then its signature, or the redacted data
    (botocore has decoded the blob already)."""
    redacted = content.get("redactedContent")
    if isinstance(redacted, bytes):
        return [RedactedReasoning(redacted)]
    if "reasoningText" not in content:
        report_kinds("reasoning block", content)
        return []
    reasoning = member(content, "reasoningText")
    thought = optional_text(reasoning, "text")
    events: list[Event] = [ReasoningDelta(thought)] if thought else []
    signature = optional_text(reasoning, "signature")
    if signature:
        events.append(ReasoningSignature(signature))
    return events


def convert_converse_response(response: Mapping[str, object]) -> list[Event]:
    """A Converse answer -> reasoning/text/tool calls in order, then ``Usage``, then ``Done``."""
    report_unknown_keys("Converse response member", response, RESPONSE_MEMBERS)
    stop_reason = convert_stop_reason(text(response, "stopReason", default="end_turn"))
    events: list[Event] = []
    after_text = False
    for block in items(member(member(response, "output"), "message"), "content"):
        converted = convert_output_block(mapping(block))
        is_text = any(isinstance(event, TextDelta | Citation) for event in converted)
        if is_text and after_text:
            events.append(TextBreak())  # the same break a stream has between its text blocks
        after_text = after_text or is_text
        events.extend(converted)
    usage = member(response, "usage")
    if usage:
        events.append(convert_usage(usage))
    events.append(
        Done(
            stop_reason=stop_reason,
            latency_ms=convert_latency(member(response, "metrics")),
            service_tier=convert_service_tier(response),
        )
    )
    return events


# ---------------------------------------------------------------------------------------------
# Calls


async def converse_stream(
    transport: ConverseStreamTransport, req: ChatRequest
) -> AsyncIterator[Event]:
    """Stream ``req``'s answer as neutral events; raises :class:`~fmgate.core.errors.GatewayError`.

    The request is sent by :mod:`fmgate.bedrock.stream_transport`; the answer's frames are
    decoded by :mod:`fmgate.bedrock.eventstream`. The response is closed however the iteration
    ends (finished, failed, or the consumer stopped early), so a cancelled request does not hold
    a pooled connection.
    """
    state = StreamState()
    body = build_converse_request(req, streaming=True)
    with bedrock_errors(), upstream_call():
        response = await transport.open(body)
        try:
            async for batch in stream_event_batches(response.content):
                events, failure = convert_batch(batch, state)
                for event in join_text_pieces(events):
                    yield event
                if failure is not None:
                    raise failure
        finally:
            response.close()
    if req.guardrail is not None:
        report_guardrail(req.guardrail, state.stop_reason, state.guardrail_trace)
    for event in finish_stream(state):
        yield event


async def converse(client: BedrockRuntimeClient, req: ChatRequest) -> list[Event]:
    """The whole answer at once (Converse), as the same events a stream would give."""
    body = build_converse_request(req)
    with bedrock_errors(), upstream_call():
        response = await client.converse(**body)
    if req.guardrail is not None:
        stop_reason = optional_text(response, "stopReason")
        report_guardrail(req.guardrail, stop_reason, guardrail_trace(response))
    return convert_converse_response(response)


#: The parts of a Converse request CountTokens counts.
COUNTED_PARTS = ("messages", "system", "toolConfig")


async def count_input_tokens(client: BedrockRuntimeClient, req: ChatRequest) -> int:
    """Bedrock's CountTokens for the request's input (messages, system, tools), as Converse
    counts it. CountTokens takes the foundation model's id, not an inference profile's."""
    body = build_converse_request(req)
    converse_input = {key: body[key] for key in COUNTED_PARTS if key in body}
    with bedrock_errors(), upstream_call():
        response = await client.count_tokens(
            modelId=foundation_model_id(req.model_id), input={"converse": converse_input}
        )
    return integer(response, "inputTokens")
