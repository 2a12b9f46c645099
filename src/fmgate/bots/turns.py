"""Neutral conversation -> Converse-shaped turns: roles, merging, system prompt placement.

Bedrock's Converse wants: an optional ``system`` list; messages that start with ``user``,
alternate ``user``/``assistant``, and never carry blank text. Poe (and other callers) send
whatever the chat holds: the bot's introduction first, several user messages in a row, empty
messages, system messages anywhere. These pure functions make the one from the other.

With ``keep_prefix`` (a bot whose prompts are cached), what one turn sends is a prefix of what
the next turn sends: system messages after the conversation started stay where they are (as an
instruction in the user turn there) instead of joining ``system``, and merged messages keep their
blocks as they were instead of joining texts, so nothing before a cache checkpoint changes when
the conversation grows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fmgate.core.bot_request import InputMessage
from fmgate.core.model_request import CachePoint, ChatMessage, ContentBlock, TextBlock

SYSTEM_FOLD_HEADER = "Instructions for this conversation:"


@dataclass(frozen=True, slots=True)
class Turns:
    system: tuple[str, ...]
    messages: tuple[ChatMessage, ...]


def split_system(
    messages: Sequence[InputMessage], operator_prompt: str | None, *, keep_prefix: bool = False
) -> tuple[tuple[str, ...], list[InputMessage]]:
    """Separate system texts (operator's first) from the dialogue.

    With ``keep_prefix``, only the system messages before the first user or assistant message
    are system texts; later ones stay in the dialogue (role ``system``, see
    :func:`in_place_instruction`)."""
    system = [operator_prompt] if operator_prompt else []
    dialogue: list[InputMessage] = []
    for message in messages:
        if message.role != "system":
            dialogue.append(message)
        elif not message.text.strip():
            continue
        elif keep_prefix and dialogue:
            dialogue.append(message)
        else:
            system.append(message.text)
    return tuple(system), dialogue


def in_place_instruction(text: str) -> TextBlock:
    """A system message kept where it was sent, as the user turn there carries it."""
    return TextBlock(SYSTEM_FOLD_HEADER + "\n" + text)


def merge_turns(messages: Sequence[ChatMessage], *, keep_prefix: bool = False) -> list[ChatMessage]:
    """Drop empty messages and leading assistant turns; merge consecutive same-role messages
    (joining the texts that meet, or with ``keep_prefix`` keeping every block as it was)."""
    join = _append if keep_prefix else _join
    merged: list[ChatMessage] = []
    for message in messages:
        content = tuple(block for block in message.content if not _blank(block))
        if not any(not isinstance(block, CachePoint) for block in content):
            continue
        if not merged and message.role == "assistant":
            continue  # Converse conversations start with the user (Poe's intro message is a bot's)
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, join(merged[-1].content, content))
        else:
            merged.append(ChatMessage(message.role, content))
    return merged


def fold_system(
    system: Sequence[str], messages: list[ChatMessage], *, keep_prefix: bool = False
) -> list[ChatMessage]:
    """For models without system-prompt support: put the system text into the first user turn."""
    if not system or not messages:
        return messages
    preface = TextBlock(SYSTEM_FOLD_HEADER + "\n" + "\n\n".join(system))
    first = messages[0]
    join = _append if keep_prefix else _join
    return [ChatMessage(first.role, join((preface,), first.content)), *messages[1:]]


def build_turns(
    system: tuple[str, ...],
    messages: Sequence[ChatMessage],
    *,
    supports_system: bool,
    keep_prefix: bool = False,
) -> Turns:
    merged = merge_turns(messages, keep_prefix=keep_prefix)
    if supports_system:
        return Turns(system=system, messages=tuple(merged))
    folded = fold_system(system, merged, keep_prefix=keep_prefix)
    return Turns(system=(), messages=tuple(folded))


def _blank(block: ContentBlock) -> bool:
    return isinstance(block, TextBlock) and not block.text.strip()


def _append(
    first: tuple[ContentBlock, ...], second: tuple[ContentBlock, ...]
) -> tuple[ContentBlock, ...]:
    return (*first, *second)


def _join(
    first: tuple[ContentBlock, ...], second: tuple[ContentBlock, ...]
) -> tuple[ContentBlock, ...]:
    """Concatenate content, merging a text block that meets another text block."""
    if first and second and isinstance(first[-1], TextBlock) and isinstance(second[0], TextBlock):
        joined = TextBlock(first[-1].text + "\n\n" + second[0].text)
        return (*first[:-1], joined, *second[1:])
    return (*first, *second)
