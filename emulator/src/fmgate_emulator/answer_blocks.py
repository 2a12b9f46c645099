"""The content blocks of an answer the emulator plans, and how a Converse answer shows them.

Both the JSON and the streaming handlers send the same blocks: :func:`render_block` is the
Converse ``output.message.content`` member, ``converse.stream_block`` its ConverseStream deltas.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ReasoningBlock:
    text: str
    signature: str | None


@dataclass(frozen=True, slots=True)
class RedactedReasoningBlock:
    """Reasoning the model keeps to itself: opaque data that must come back as it was given."""

    data: bytes
    #: The reasoning it hides (counted as output tokens, never shown).
    hidden_text: str


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str


@dataclass(frozen=True, slots=True)
class CitedTextBlock:
    """Answer text resting on passages of the request's documents (Converse
    ``citationsContent``): the text, and Bedrock's ``Citation`` objects for it."""

    text: str
    citations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    tool_use_id: str
    name: str
    input: dict[str, Any]

    @property
    def input_json(self) -> str:
        return json.dumps(self.input, separators=(",", ":"))


Block = ReasoningBlock | RedactedReasoningBlock | TextBlock | CitedTextBlock | ToolUseBlock


def output_text(block: Block) -> str:
    """What the block's output tokens are counted on (a citation's quote is not: Anthropic
    does not count ``cited_text`` as output)."""
    match block:
        case ReasoningBlock(text=text) | TextBlock(text=text) | CitedTextBlock(text=text):
            return text
        case RedactedReasoningBlock(hidden_text=text):
            return text
        case ToolUseBlock():
            return block.input_json


def render_block(block: Block) -> dict[str, Any]:
    """A planned block as a Converse response content block."""
    match block:
        case ReasoningBlock(text=text, signature=signature):
            reasoning: dict[str, Any] = {"text": text}
            if signature is not None:
                reasoning["signature"] = signature
            return {"reasoningContent": {"reasoningText": reasoning}}
        case RedactedReasoningBlock(data=data):
            return {"reasoningContent": {"redactedContent": base64.b64encode(data).decode()}}
        case TextBlock(text=text):
            return {"text": text}
        case CitedTextBlock(text=text, citations=citations):
            return {"citationsContent": {"content": [{"text": text}], "citations": citations}}
        case ToolUseBlock():
            return {
                "toolUse": {
                    "toolUseId": block.tool_use_id,
                    "name": block.name,
                    "input": block.input,
                }
            }
