"""offered_tools: a caller's tool choice as Converse can take it (it has no "none");
check_tool_choice: a forced choice only where the model and the request allow it."""

from __future__ import annotations

import pytest

from fmgate.bots.chat import check_tool_choice, offered_tools
from fmgate.config.bot_config import ChatBotConfig, ForcedToolChoice
from fmgate.core.bot_request import BotRequest, InputMessage
from fmgate.core.errors import InvalidRequest
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


def chat_config(*forced: ForcedToolChoice) -> ChatBotConfig:
    return ChatBotConfig(bot_name="small", model_id="meta.llama3-8b", forced_tool_choices=forced)


def test_auto_and_none_are_taken_by_every_model() -> None:
    check_tool_choice(request("auto"), chat_config())
    check_tool_choice(request("none"), chat_config())


def test_a_forced_choice_the_model_takes_passes() -> None:
    check_tool_choice(request("any"), chat_config("any"))
    check_tool_choice(request(UseTool("clock")), chat_config("any", "tool"))


@pytest.mark.parametrize(
    ("choice", "forced", "said"),
    [
        ("any", (), "Model small does not support tool_choice 'any'"),
        (UseTool("clock"), ("any",), "it supports 'auto', 'any', 'none'"),
        (UseTool("calendar"), ("any", "tool"), "'calendar', which is not in tools"),
    ],
)
def test_a_forced_choice_the_model_or_the_request_cannot_take_is_refused(
    choice: object, forced: tuple[ForcedToolChoice, ...], said: str
) -> None:
    with pytest.raises(InvalidRequest) as refused:
        check_tool_choice(request(choice), chat_config(*forced))
    assert said in refused.value.user_message


def test_a_forced_choice_without_tools_is_refused() -> None:
    without_tools = BotRequest("r", (InputMessage("user", "hi"),), tool_choice="any")
    with pytest.raises(InvalidRequest, match="without tools"):
        check_tool_choice(without_tools, chat_config("any"))


def test_a_forced_choice_with_extended_thinking_is_refused() -> None:
    thinking = chat_config("any", "tool").model_copy(update={"enable_reasoning": True})
    with pytest.raises(InvalidRequest, match="extended thinking"):
        check_tool_choice(request("any"), thinking)
    check_tool_choice(request("auto"), thinking)
