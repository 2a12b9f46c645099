"""Earlier reasoning replayed to a model, as extended thinking with tools requires.

Anthropic models on Bedrock sign their reasoning; with thinking enabled, the assistant turn whose
tool calls the last user turn answers must start with that turn's reasoning block, unchanged
(signature, or redacted data, included). A signature vouches for one model's reasoning, so a
block goes back only to the model that produced it: a call to another model (a fallback) drops
it. When the tool-calling turn has no reasoning to lead it (it was never kept, or another model
made it), the call goes without thinking, within a budget or adaptive alike: Bedrock's own way
out ("To avoid this requirement, disable thinking"). A reasoning effort stays: it does not need
thinking.
"""

from __future__ import annotations

from dataclasses import replace

from fmgate.core.model_request import (
    ChatMessage,
    ChatRequest,
    ContentBlock,
    ReasoningBlock,
    RedactedReasoningBlock,
    ToolResultBlock,
)


def foreign_reasoning(block: ContentBlock, model_id: str) -> bool:
    """Whether ``block`` is reasoning another model produced."""
    return isinstance(block, ReasoningBlock | RedactedReasoningBlock) and block.model_id != model_id


def reasoning_for(chat: ChatRequest) -> ChatRequest:
    """``chat`` as its model may take it: other models' reasoning left out, and thinking off
    when the tool-calling turn the last user turn answers does not start with reasoning."""
    model_id = chat.model_id
    messages = tuple(
        ChatMessage(m.role, tuple(b for b in m.content if not foreign_reasoning(b, model_id)))
        if any(foreign_reasoning(b, model_id) for b in m.content)
        else m
        for m in chat.messages
    )
    if chat.thinks and not tool_turn_led_by_reasoning(messages):
        return replace(chat, messages=messages, reasoning_budget=None, adaptive_thinking=False)
    return replace(chat, messages=messages) if messages != chat.messages else chat


def tool_turn_led_by_reasoning(messages: tuple[ChatMessage, ...]) -> bool:
    """False only when the last user turn answers tool calls and the assistant turn that made
    them does not start with a reasoning block."""
    if len(messages) < 2 or not any(isinstance(b, ToolResultBlock) for b in messages[-1].content):
        return True
    calling = messages[-2].content
    return bool(calling) and isinstance(calling[0], ReasoningBlock | RedactedReasoningBlock)
