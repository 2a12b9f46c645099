"""reasoning_for: earlier reasoning goes back only to its own model, and thinking goes off when
the tool-calling turn cannot be led by its reasoning."""

from __future__ import annotations

from dataclasses import replace

from fmgate.bots.reasoning_replay import reasoning_for
from fmgate.core.model_request import (
    ChatMessage,
    ChatRequest,
    Effort,
    ReasoningBlock,
    RedactedReasoningBlock,
    TextBlock,
    ToolResultBlock,
    ToolUseBlock,
)

CLAUDE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
OTHER = "us.anthropic.claude-sonnet-4-20250514-v1:0"
ASK = ChatMessage("user", (TextBlock("use tool clock"),))
CALL = ToolUseBlock("t1", "clock", {})
RESULT = ChatMessage("user", (ToolResultBlock("t1", "12:00"),))


def loop(*calling: ReasoningBlock | RedactedReasoningBlock | ToolUseBlock) -> ChatRequest:
    return ChatRequest(
        model_id=CLAUDE,
        messages=(ASK, ChatMessage("assistant", calling), RESULT),
        reasoning_budget=2048,
    )


def test_the_models_own_reasoning_leads_the_tool_turn_and_thinking_stays_on() -> None:
    chat = loop(ReasoningBlock("t", "sig", CLAUDE), CALL)
    assert reasoning_for(chat) == chat


def test_another_models_reasoning_is_left_out_and_thinking_goes_off() -> None:
    replayed = reasoning_for(loop(RedactedReasoningBlock(b"x", OTHER), CALL))
    assert replayed.messages[1].content == (CALL,)
    assert replayed.reasoning_budget is None


def test_a_tool_turn_without_reasoning_goes_without_thinking() -> None:
    assert reasoning_for(loop(CALL)).reasoning_budget is None


def test_without_a_pending_tool_result_thinking_stays_on() -> None:
    chat = ChatRequest(
        model_id=CLAUDE,
        messages=(ASK, ChatMessage("assistant", (TextBlock("hi"),)), ASK),
        reasoning_budget=2048,
    )
    assert reasoning_for(chat) == chat


def test_adaptive_thinking_goes_off_too_and_an_effort_stays() -> None:
    request = replace(
        loop(CALL),
        reasoning_budget=None,
        adaptive_thinking=True,
        effort=Effort("low", "output_config"),
    )
    answered = reasoning_for(request)
    assert not answered.thinks
    assert answered.effort == Effort("low", "output_config")
