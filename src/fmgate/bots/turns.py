"""Neutral conversation -> Converse-shaped turns: roles, merging, system prompt placement.

Bedrock's Converse wants: an optional ``system`` list; messages that start with ``user``,
alternate ``user``/``assistant``, and never carry blank text. Poe (and other callers) send
whatever the chat holds: the bot's introduction first, several user messages in a row, empty
messages, system messages anywhere. These pure functions make the one from the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from fmgate.core.bot_request import InputMessage
from fmgate.core.model_request import ChatMessage, ContentBlock, TextBlock

SYSTEM_FOLD_HEADER = "Instructions for this conversation:"


@dataclass(frozen=True, slots=True)
class Turns:
    system: tuple[str, ...]
    messages: tuple[ChatMessage, ...]


def split_system(
    messages: Sequence[InputMessage], operator_prompt: str | None
) -> tuple[tuple[str, ...], list[InputMessage]]:
    """Separate system texts (operator's first) from the dialogue."""
    system = [operator_prompt] if operator_prompt else []
    dialogue: list[InputMessage] = []
    for message in messages:
        if message.role == "system":
            if message.text.strip():
                system.append(message.text)
        else:
            dialogue.append(message)
    return tuple(system), dialogue


def merge_turns(messages: Sequence[ChatMessage]) -> list[ChatMessage]:
    """Drop empty messages and leading assistant turns; merge consecutive same-role messages."""
    merged: list[ChatMessage] = []
    for message in messages:
        content = tuple(block for block in message.content if not _blank(block))
        if not content:
            continue
        if not merged and message.role == "assistant":
            continue  # Converse conversations start with the user (Poe's intro message is a bot's)
        if merged and merged[-1].role == message.role:
            merged[-1] = ChatMessage(message.role, _join(merged[-1].content, content))
        else:
            merged.append(ChatMessage(message.role, content))
    return merged


def fold_system(system: Sequence[str], messages: list[ChatMessage]) -> list[ChatMessage]:
    """For models without system-prompt support: put the system text into the first user turn."""
    if not system or not messages:
        return messages
    preface = TextBlock(SYSTEM_FOLD_HEADER + "\n" + "\n\n".join(system))
    first = messages[0]
    return [ChatMessage(first.role, _join((preface,), first.content)), *messages[1:]]


def build_turns(
    system: tuple[str, ...], messages: Sequence[ChatMessage], *, supports_system: bool
) -> Turns:
    merged = merge_turns(messages)
    if supports_system:
        return Turns(system=system, messages=tuple(merged))
    return Turns(system=(), messages=tuple(fold_system(system, merged)))


def _blank(block: ContentBlock) -> bool:
    return isinstance(block, TextBlock) and not block.text.strip()


def _join(
    first: tuple[ContentBlock, ...], second: tuple[ContentBlock, ...]
) -> tuple[ContentBlock, ...]:
    """Concatenate content, merging a text block that meets another text block."""
    if first and second and isinstance(first[-1], TextBlock) and isinstance(second[0], TextBlock):
        joined = TextBlock(first[-1].text + "\n\n" + second[0].text)
        return (*first[:-1], joined, *second[1:])
    return (*first, *second)
