"""Automatic prompt-cache checkpoints: where they go, when they are left out, and that each turn
repeats the previous turn's prompt byte for byte up to its last checkpoint (a property over
random conversations, on the real chat bot)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmgate.attachments.download import AttachmentFetcher
from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.converse import build_converse_request
from fmgate.bots.cache_points import place_cache_points, turn_anchor, without_cache_points
from fmgate.bots.chat import ChatBot
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.turns import SYSTEM_FOLD_HEADER
from fmgate.config.bot_config import ChatBotConfig, PromptCaching
from fmgate.core.bot_request import Attachment, BotRequest, InputMessage
from fmgate.core.model_request import (
    CachePoint,
    ChatMessage,
    ChatRequest,
    ContentBlock,
    DocumentBlock,
    TextBlock,
    ToolResultBlock,
    ToolSpec,
)
from fmgate.resilience.retry import RetryPolicy

CLAUDE = "us.anthropic.claude-3-7-sonnet-20250219-v1:0"
CLAUDE_CACHE = PromptCaching(min_tokens=1024, tools=True)
NOVA_CACHE = PromptCaching(min_tokens=1000, tools=False)
LONG = "word " * 1200  # about 1,500 estimated tokens: above every minimum here
POINT = CachePoint()


def user(*blocks: Any) -> ChatMessage:
    return ChatMessage("user", blocks)


def assistant(text: str) -> ChatMessage:
    return ChatMessage("assistant", (TextBlock(text),))


def points(chat: ChatRequest) -> int:
    items = (*chat.tools, *chat.system, *(b for m in chat.messages for b in m.content))
    return sum(isinstance(item, CachePoint) for item in items)


# ---------------------------------------------------------------------------------------------
# place_cache_points


def test_checkpoints_after_tools_system_and_the_two_anchored_user_turns() -> None:
    tool = ToolSpec("lookup", "x" * 5000, {"type": "object"})
    chat = ChatRequest(
        model_id=CLAUDE,
        system=(LONG,),
        tools=(tool,),
        messages=(user(TextBlock("one"), POINT), assistant("two"), user(TextBlock("three"), POINT)),
    )
    placed = place_cache_points(chat, CLAUDE_CACHE)
    assert placed.tools == (tool, POINT)
    assert placed.system == (LONG, POINT)
    assert placed.messages == chat.messages
    assert points(placed) == 4


def test_prefixes_below_the_minimum_get_none() -> None:
    chat = ChatRequest(
        model_id=CLAUDE,
        system=("short system",),
        tools=(ToolSpec("lookup", "small", {"type": "object"}),),
        messages=(user(TextBlock("hi"), POINT),),
    )
    assert points(place_cache_points(chat, CLAUDE_CACHE)) == 0
    longer = replace(chat, messages=(user(TextBlock(LONG), POINT),))
    placed = place_cache_points(longer, CLAUDE_CACHE)
    assert placed.system == ("short system",)  # still below the minimum there
    assert placed.messages == longer.messages  # the conversation's checkpoint is above it


def test_nova_gets_no_checkpoint_in_the_tools_and_the_ttl_is_the_bots() -> None:
    chat = ChatRequest(
        model_id="amazon.nova-pro-v1:0",
        tools=(ToolSpec("lookup", LONG, {"type": "object"}),),
        system=("s",),
        messages=(user(TextBlock("hi"), POINT),),
    )
    placed = place_cache_points(chat, NOVA_CACHE)
    assert not any(isinstance(t, CachePoint) for t in placed.tools)
    assert placed.system == ("s", POINT)  # the tools are part of this prefix
    one_hour = PromptCaching(min_tokens=1024, ttl="1h", ttls=("5m", "1h"), tools=True)
    placed = place_cache_points(chat, one_hour)
    assert placed.tools[-1] == CachePoint("1h")
    assert placed.messages[-1].content[-1] == CachePoint("1h")


def test_off_or_no_support_sends_no_checkpoint() -> None:
    chat = ChatRequest(
        model_id=CLAUDE, system=(LONG, POINT), messages=(user(TextBlock(LONG), POINT),)
    )
    for caching in (PromptCaching(mode="off", min_tokens=1024), PromptCaching()):
        assert points(place_cache_points(chat, caching)) == 0
    assert points(without_cache_points(chat)) == 0
    assert without_cache_points(chat).system == (LONG,)


def test_a_checkpoint_with_nothing_of_its_message_before_it_is_left_out() -> None:
    chat = ChatRequest(
        model_id=CLAUDE,
        system=(LONG,),
        messages=(user(POINT, TextBlock("x")), assistant("a"), user(TextBlock("y"), POINT, POINT)),
    )
    placed = place_cache_points(chat, CLAUDE_CACHE)
    assert placed.messages[0].content == (TextBlock("x"),)
    assert placed.messages[2].content == (TextBlock("y"), POINT)


def test_never_more_than_four_and_the_last_ones_stay() -> None:
    chat = ChatRequest(
        model_id=CLAUDE,
        system=(LONG,),
        tools=(ToolSpec("t", LONG, {}),),
        messages=(
            user(TextBlock("a"), POINT),
            assistant("b"),
            user(TextBlock("c"), POINT),
            assistant("d"),
            user(TextBlock("e"), POINT),
        ),
    )
    placed = place_cache_points(chat, CLAUDE_CACHE)
    assert points(placed) == 4
    assert not any(isinstance(t, CachePoint) for t in placed.tools)  # the first one went
    assert placed.messages[-1].content == (TextBlock("e"), POINT)


def test_an_anchor_goes_before_the_files_of_a_turn() -> None:
    content: list[ContentBlock] = [
        ToolResultBlock("t1", "42"),
        TextBlock("see file"),
        DocumentBlock("txt", "f", b"x"),
    ]
    assert turn_anchor(content, 2) == [*content[:2], CachePoint(), content[2]]


# ---------------------------------------------------------------------------------------------
# The chat bot


@pytest.fixture
async def services() -> AsyncIterator[BotDependencies]:
    fetcher = AttachmentFetcher(allowed_hosts=["files.example"])
    yield BotDependencies(bedrock=BedrockClients(), attachments=fetcher, retry=RetryPolicy())
    await fetcher.aclose()


def claude_bot(services: BotDependencies, **fields: Any) -> ChatBot:
    config = ChatBotConfig.model_validate(
        {
            "bot_name": "claude",
            "model_id": CLAUDE,
            "system_prompt": LONG,
            "prompt_caching": {"min_tokens": 1024, "tools": True},
            "supports_documents": True,
            **fields,
        }
    )
    return ChatBot(config, services)


def request(*messages: InputMessage, tools: tuple[ToolSpec, ...] = ()) -> BotRequest:
    return BotRequest(request_id="r", messages=messages, tools=tools)


async def test_the_bot_anchors_the_previous_and_the_last_user_turn(
    services: BotDependencies,
) -> None:
    chat, _ = await claude_bot(services).build_request(
        request(
            InputMessage("assistant", "Hi, I am the bot."),
            InputMessage("user", "first " * 300),
            InputMessage("assistant", "answer"),
            InputMessage("user", "second"),
        )
    )
    assert chat.system == (LONG, POINT)
    assert [m.content for m in chat.messages] == [
        (TextBlock("first " * 300), POINT),
        (TextBlock("answer"),),
        (TextBlock("second"), POINT),
    ]
    body = build_converse_request(chat)
    assert body["system"] == [{"text": LONG}, {"cachePoint": {"type": "default"}}]


async def test_a_system_message_sent_mid_conversation_stays_where_it_was(
    services: BotDependencies,
) -> None:
    chat, _ = await claude_bot(services).build_request(
        request(
            InputMessage("system", "From Poe."),
            InputMessage("user", "one"),
            InputMessage("assistant", "two"),
            InputMessage("system", "Now answer in French."),
            InputMessage("user", "three"),
        )
    )
    assert chat.system == (LONG, "From Poe.", POINT)
    assert chat.messages[-1].content == (
        TextBlock(f"{SYSTEM_FOLD_HEADER}\nNow answer in French."),
        TextBlock("three"),
        POINT,
    )
    # Without prompt caching the bot hoists it into the system prompt, as before.
    plain, _ = await claude_bot(services, prompt_caching=None).build_request(
        request(
            InputMessage("user", "one"),
            InputMessage("assistant", "two"),
            InputMessage("system", "Now answer in French."),
            InputMessage("user", "three"),
        )
    )
    assert plain.system == (LONG, "Now answer in French.")
    assert points(plain) == 0


async def test_files_of_the_last_turn_come_after_its_checkpoint(
    services: BotDependencies,
) -> None:
    notes = Attachment(name="notes.txt", content_type="text/plain", data=b"file text")
    chat, _ = await claude_bot(services).build_request(
        request(InputMessage("user", "read this", attachments=(notes,)))
    )
    [message] = chat.messages
    assert message.content[:2] == (TextBlock("read this"), POINT)
    assert any("file text" in getattr(b, "text", "") for b in message.content[2:])


async def test_a_bot_without_prompt_caching_sends_no_checkpoint(
    services: BotDependencies,
) -> None:
    for fields in ({"prompt_caching": None}, {"prompt_caching": {"mode": "off", "min_tokens": 1}}):
        chat, _ = await claude_bot(services, **fields).build_request(
            request(
                InputMessage("user", LONG),
                InputMessage("assistant", "a"),
                InputMessage("user", LONG),
            )
        )
        assert points(chat) == 0
        assert "cachePoint" not in json.dumps(build_converse_request(chat), default=str)


# ---------------------------------------------------------------------------------------------
# The property: turn k+1 repeats turn k's prompt up to its last checkpoint


@dataclass(frozen=True)
class Turn:
    """What arrives in one turn besides the user's message: the bot's previous answer (maybe
    empty, as after an error), a system message, an inline text file."""

    user_text: str
    answer: str
    system: str | None
    attachment: str | None


texts = st.text(alphabet=st.sampled_from("abc xyz.\n"), min_size=0, max_size=40)
turns = st.builds(
    Turn,
    user_text=st.one_of(texts.filter(str.strip), st.just("long " * 400)),
    answer=st.one_of(st.just(""), texts, st.just("answer " * 300)),
    system=st.one_of(st.none(), texts),
    attachment=st.one_of(st.none(), texts.filter(bool)),
)
configs = st.fixed_dictionaries(
    {
        "system_prompt": st.sampled_from([None, "Be brief.", LONG]),
        "prompt_caching": st.sampled_from(
            [
                {"min_tokens": 1024, "tools": True},
                {"min_tokens": 1000, "tools": False},
                {"min_tokens": 1, "tools": True},
                {"min_tokens": 2048, "tools": True, "ttl": "1h", "ttls": ["5m", "1h"]},
            ]
        ),
        "supports_system_messages": st.booleans(),
    }
)
tool_sets = st.sampled_from([(), (ToolSpec("lookup", "finds things " * 400, {"type": "object"}),)])


def conversation(history: list[Turn], upto: int) -> list[InputMessage]:
    """The Poe conversation as sent on turn ``upto`` (0-based): every earlier turn and its
    answer, then this turn's message."""
    messages = [InputMessage("assistant", "Hello, I am the bot.")]
    for index, turn in enumerate(history[: upto + 1]):
        if turn.system is not None:
            messages.append(InputMessage("system", turn.system))
        files = (
            (Attachment(name="f.txt", content_type="text/plain", data=turn.attachment.encode()),)
            if turn.attachment
            else ()
        )
        messages.append(InputMessage("user", turn.user_text, attachments=files))
        if index < upto:
            messages.append(InputMessage("assistant", turn.answer))
    return messages


def flat_prompt(body: dict[str, Any]) -> tuple[list[str], list[int]]:
    """The prompt as Bedrock reads it (tools, system, messages), each item as canonical JSON,
    and where the checkpoints are: after how many items."""
    items: list[str] = []
    checkpoints: list[int] = []

    def add(tag: str, item: Any) -> None:
        if isinstance(item, dict) and "cachePoint" in item:
            checkpoints.append(len(items))
        else:
            items.append(tag + json.dumps(item, sort_keys=True, default=repr))

    for tool in (body.get("toolConfig") or {}).get("tools", []):
        add("T", tool)
    for block in body.get("system", []):
        add("S", block)
    for message in body["messages"]:
        items.append("R" + message["role"])
        for block in message["content"]:
            add("B", block)
    return items, checkpoints


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(config=configs, tools=tool_sets, history=st.lists(turns, min_size=2, max_size=6))
async def test_each_turn_starts_with_the_previous_turns_prompt_up_to_its_last_checkpoint(
    services: BotDependencies,
    config: dict[str, Any],
    tools: tuple[ToolSpec, ...],
    history: list[Turn],
) -> None:
    bot = claude_bot(services, **config)
    previous: tuple[list[str], list[int]] | None = None
    for k in range(len(history)):
        chat, _ = await bot.build_request(request(*conversation(history, k), tools=tools))
        assert points(chat) <= 4
        items, checkpoints = flat_prompt(build_converse_request(chat))
        if previous is not None and previous[1]:
            before, before_points = previous
            last = before_points[-1]
            assert items[:last] == before[:last], f"turn {k}: the cached prefix changed"
            if last > len([i for i in before if i[0] in "TS"]):  # a conversation checkpoint
                assert last in checkpoints, f"turn {k} does not read what turn {k - 1} wrote"
        previous = (items, checkpoints)
