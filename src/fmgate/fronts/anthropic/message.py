"""A finished event stream -> one Messages answer (``POST /v1/messages``, not streamed).

The content is the reasoning blocks in the order the model gave them (``thinking`` with its
signature, ``redacted_thinking`` with its data; from a fallback, thinking without a signature
and no redacted blocks, as in a stream), then the text blocks (one per block Bedrock sent when
it cited), then the tool calls.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from fmgate.core.events import (
    AnsweredBy,
    Citation,
    Event,
    ReasoningDelta,
    ReasoningSignature,
    RedactedReasoning,
    TextBreak,
    TextDelta,
    accumulate,
)
from fmgate.fronts.anthropic.bodies import (
    STOP_REASONS,
    citation_body,
    message_body,
    redacted_thinking_block,
    tool_use_block,
    usage_body,
)


@dataclass(slots=True)
class ReasoningBlocks:
    """The answer's reasoning blocks, folded from its events."""

    own_model: str
    blocks: list[dict[str, object]] = field(default_factory=list)
    thought: list[str] = field(default_factory=list)
    replayable: bool = True

    def fold(self, event: Event) -> None:
        match event:
            case AnsweredBy(model_id=model_id):
                self.replayable = model_id == self.own_model
            case ReasoningDelta(text=text):
                self.thought.append(text)
            case ReasoningSignature(signature=signature):
                self.close(signature if self.replayable else "")
            case RedactedReasoning() if self.replayable:
                self.close("")
                self.blocks.append(redacted_thinking_block(event))
            case _:
                pass

    def close(self, signature: str) -> None:
        """The thinking block read so far ends (with ``signature``)."""
        if self.thought:
            thinking = "".join(self.thought)
            self.blocks.append({"type": "thinking", "thinking": thinking, "signature": signature})
            self.thought.clear()


def reasoning_blocks(events: Sequence[Event], own_model: str) -> list[dict[str, object]]:
    folded = ReasoningBlocks(own_model)
    for event in events:
        folded.fold(event)
    folded.close("")  # reasoning without a signature (a model that signs none)
    return folded.blocks


def whole_message_body(
    request_id: str, model: str, events: Iterable[Event], own_model: str = ""
) -> dict[str, object]:
    """The answer as one message; ``own_model``: the bot's model (whose reasoning is replayable)."""
    answer = list(events)
    summary = accumulate(answer)
    content = reasoning_blocks(answer, own_model)
    texts = text_blocks(answer)
    if texts or not summary.tool_calls:
        content.extend(texts or [{"type": "text", "text": ""}])
    content.extend(tool_use_block(call) for call in summary.tool_calls)
    body = message_body(request_id, model)
    body["content"] = content
    body["stop_reason"] = STOP_REASONS[summary.stop_reason or "end_turn"]
    body["usage"] = usage_body(summary.usage)
    return body


def text_blocks(events: Iterable[Event]) -> list[dict[str, object]]:
    """The answer's text blocks: one, or one per block Bedrock sent when it cited, each cited
    one with its ``citations``."""
    blocks: list[dict[str, object]] = []
    parts: list[str] = []
    citations: list[dict[str, object]] = []

    def close() -> None:
        if parts or citations:
            block: dict[str, object] = {"type": "text", "text": "".join(parts)}
            if citations:
                block["citations"] = list(citations)
            blocks.append(block)
        parts.clear()
        citations.clear()

    for event in events:
        match event:
            case TextDelta(text=text):
                parts.append(text)
            case Citation():
                citations.append(citation_body(event))
            case TextBreak():
                close()
    close()
    return blocks
