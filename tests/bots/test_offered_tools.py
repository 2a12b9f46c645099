"""offered_tools: a caller's tool choice as Converse can take it (it has no "none")."""

from __future__ import annotations

from fmgate.bots.chat import offered_tools
from fmgate.core.bot_request import BotRequest, InputMessage
from fmgate.core.model_request import (
    ChatMessage,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
    UseTool,
)

CLOCK = ToolSpec("clock", "tells the time", {"type": "object"})
QUESTION = ChatMessage("user", (TextBlock("what time is it?"),))


def request(choice: object) -> BotRequest:
    return BotRequest(
        request_id="r",
        messages=(InputMessage("user", "what time is it?"),),
        tools=(CLOCK,),
        tool_choice=choice,  # type: ignore[arg-type]
    )


def test_auto_any_and_a_named_tool_pass_through() -> None:
    assert offered_tools(request("auto"), (QUESTION,)) == ((CLOCK,), "auto")
    assert offered_tools(request("any"), (QUESTION,)) == ((CLOCK,), "any")
    assert offered_tools(request(UseTool("clock")), (QUESTION,)) == ((CLOCK,), UseTool("clock"))


def test_none_offers_no_tools() -> None:
    assert offered_tools(request("none"), (QUESTION,)) == ((), "auto")


def test_none_keeps_the_definitions_when_the_history_holds_tool_blocks() -> None:
    history = (
        QUESTION,
        ChatMessage("assistant", (ToolUseBlock("t1", "clock", {}),)),
        ChatMessage("user", (ToolResultBlock("t1", "12:00"), TextBlock("and now?"))),
    )

    assert offered_tools(request("none"), history) == ((CLOCK,), "auto")
