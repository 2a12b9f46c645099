"""Roles, merging and system placement (pure functions), with properties over random chats."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from fmgate.bots.turns import (
    SYSTEM_FOLD_HEADER,
    build_turns,
    merge_turns,
    split_system,
)
from fmgate.core.bot_request import InputMessage
from fmgate.core.model_request import ChatMessage, TextBlock


def msg(role: str, text: str) -> ChatMessage:
    return ChatMessage(role, (TextBlock(text),))  # type: ignore[arg-type]


def test_split_system_puts_operator_prompt_first() -> None:
    system, dialogue = split_system(
        [InputMessage("system", "from poe"), InputMessage("user", "hi")], "operator"
    )
    assert system == ("operator", "from poe")
    assert [m.role for m in dialogue] == ["user"]


def test_merge_drops_leading_assistant_and_blank_and_merges_runs() -> None:
    merged = merge_turns(
        [
            msg("assistant", "intro"),
            msg("user", "a"),
            msg("user", "   "),
            msg("user", "b"),
            msg("assistant", "c"),
            msg("assistant", "d"),
            msg("user", "e"),
        ]
    )
    assert merged == [msg("user", "a\n\nb"), msg("assistant", "c\n\nd"), msg("user", "e")]


def test_fold_system_into_first_user_turn() -> None:
    turns = build_turns(("Be brief.",), [msg("user", "Hello")], supports_system=False)
    assert turns.system == ()
    [first] = turns.messages
    assert first.content == (TextBlock(f"{SYSTEM_FOLD_HEADER}\nBe brief.\n\nHello"),)


def test_system_kept_when_supported() -> None:
    turns = build_turns(("Be brief.",), [msg("user", "Hello")], supports_system=True)
    assert turns.system == ("Be brief.",)
    assert turns.messages == (msg("user", "Hello"),)


chats = st.lists(
    st.tuples(st.sampled_from(["user", "assistant"]), st.text(max_size=20)), max_size=30
)


@given(chats, st.booleans())
def test_turns_always_valid_for_converse(chat: list[tuple[str, str]], supports: bool) -> None:
    turns = build_turns(("sys",), [msg(r, t) for r, t in chat], supports_system=supports)
    roles = [m.role for m in turns.messages]
    if roles:
        assert roles[0] == "user"
    assert all(a != b for a, b in itertools.pairwise(roles))  # alternating
    for message in turns.messages:
        assert message.content
        assert all(isinstance(b, TextBlock) and b.text.strip() for b in message.content)


@given(chats)
def test_no_user_text_is_lost(chat: list[tuple[str, str]]) -> None:
    turns = build_turns((), [msg(r, t) for r, t in chat], supports_system=True)
    kept = "".join(b.text for m in turns.messages for b in m.content if isinstance(b, TextBlock))
    for role, text in chat:
        if role == "user" and text.strip():
            assert text in kept


def test_keep_prefix_merges_without_joining_texts() -> None:
    merged = merge_turns(
        [msg("user", "a"), msg("user", "b"), msg("assistant", "c")], keep_prefix=True
    )
    assert merged == [
        ChatMessage("user", (TextBlock("a"), TextBlock("b"))),
        msg("assistant", "c"),
    ]


def test_keep_prefix_keeps_later_system_messages_in_place() -> None:
    messages = [
        InputMessage("system", "first"),
        InputMessage("user", "hi"),
        InputMessage("system", "later"),
        InputMessage("user", "again"),
    ]
    system, dialogue = split_system(messages, "operator", keep_prefix=True)
    assert system == ("operator", "first")
    assert [(m.role, m.text) for m in dialogue] == [
        ("user", "hi"),
        ("system", "later"),
        ("user", "again"),
    ]
    assert split_system(messages, "operator")[0] == ("operator", "first", "later")


@given(chats)
def test_keep_prefix_turns_are_valid_and_lose_no_text(chat: list[tuple[str, str]]) -> None:
    turns = build_turns(
        ("sys",), [msg(r, t) for r, t in chat], supports_system=False, keep_prefix=True
    )
    roles = [m.role for m in turns.messages]
    assert all(a != b for a, b in itertools.pairwise(roles))
    kept = [b.text for m in turns.messages for b in m.content if isinstance(b, TextBlock)]
    for role, text in chat:
        if role == "user" and text.strip():
            assert text in kept
