"""Where a chat bot's prompt-cache checkpoints go (Bedrock prompt caching, ``mode: auto``).

Poe sends the whole conversation on every turn, so turn k+1's prompt starts with turn k's. The
prompt is read in this order, and the checkpoints sit here::

    tools [1] system [2]  user ... assistant  user_k [3]  assistant_k  user_k+1 [4]

1. after the tool definitions, for models that take a checkpoint there;
2. after the system prompt (which covers the tools before it too);
3. at the end of the previous user turn: where the previous request put its last checkpoint,
   so this request reads what that one wrote;
4. at the end of the last user turn, written for the next request to read.

That is Bedrock's maximum of four. The two in the conversation are anchored by the chat bot as it
builds the turns (:func:`turn_anchor` tells where in a user turn), before turns are merged, so
they stay at the same content whatever merging does; :func:`place_cache_points` then adds the
other two and keeps only the checkpoints the model would use: each needs at least the model's
minimum of tokens before it (a cheap local estimate, :func:`estimate_tokens`: no CountTokens call
on the hot path) and some content of its own message before it. Nothing is reordered, merged or
moved, so everything before a checkpoint is the same bytes on the next turn.

A caller that places its own checkpoints (``cache_control`` on ``/v1/messages`` or
``/v1/chat/completions``) gets those instead: :func:`place_explicit_points`.

A fallback that is another model gets :func:`without_cache_points` (it may take none).
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import TypeVar

from fmgate.config.bot_config import PromptCaching
from fmgate.core.model_request import (
    CachePoint,
    CacheTTL,
    ChatMessage,
    ChatRequest,
    ContentBlock,
    DocumentBlock,
    ImageBlock,
    ReasoningBlock,
    RedactedReasoningBlock,
    SystemBlock,
    TextBlock,
    ToolEntry,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)

T = TypeVar("T")

#: Bedrock takes at most this many checkpoints in one request.
MAX_CACHE_POINTS = 4
#: Rough characters per token across models' tokenizers (English text).
CHARS_PER_TOKEN = 4
#: Rough tokens of an image or a document (a 1,000-pixel square image is about 1,300 on Claude).
MEDIA_TOKENS = 1600


def estimate_tokens(item: ContentBlock | SystemBlock | ToolEntry) -> int:
    """A cheap estimate of one block's prompt tokens (characters / 4; a fixed cost per media)."""
    match item:
        case str():
            return len(item) // CHARS_PER_TOKEN
        case TextBlock(text=text) | ToolResultBlock(text=text) | ReasoningBlock(text=text):
            return len(text) // CHARS_PER_TOKEN
        case RedactedReasoningBlock(data=data):
            return len(data) // CHARS_PER_TOKEN
        case ToolUseBlock(name=name, input=arguments):
            return (len(name) + len(json.dumps(arguments))) // CHARS_PER_TOKEN
        case ToolSpec(name=name, description=description, input_schema=schema):
            return (len(name) + len(description) + len(json.dumps(schema))) // CHARS_PER_TOKEN
        case ImageBlock() | DocumentBlock():
            return MEDIA_TOKENS
        case CachePoint():
            return 0


def turn_anchor(
    content: list[ContentBlock], stable_blocks: int, ttl: CacheTTL = "5m"
) -> list[ContentBlock]:
    """A user turn's content with a checkpoint after its first ``stable_blocks`` blocks: the
    part every later request repeats byte for byte (tool results and text; files fetched for
    the last turn are named, not sent, in later turns, so the checkpoint goes before them)."""
    return [*content[:stable_blocks], CachePoint(ttl), *content[stable_blocks:]]


def place_cache_points(chat: ChatRequest, caching: PromptCaching) -> ChatRequest:
    """``chat`` with its checkpoints: after the tools and the system prompt, and the ones
    anchored in the conversation that the model will use (see the module docstring)."""
    minimum = caching.min_tokens
    if not caching.active or minimum is None:
        return without_cache_points(chat)
    point = CachePoint(caching.ttl)
    prefix = 0
    tools: list[ToolEntry] = []
    for tool in chat.tools:
        if not isinstance(tool, CachePoint):
            tools.append(tool)
            prefix += estimate_tokens(tool)
    if tools and caching.tools and prefix >= minimum:
        tools.append(point)
    system: list[SystemBlock] = []
    for part in chat.system:
        if not isinstance(part, CachePoint):
            system.append(part)
            prefix += estimate_tokens(part)
    if system and prefix >= minimum:
        system.append(point)
    messages: list[ChatMessage] = []
    for message in chat.messages:
        content: list[ContentBlock] = []
        for block in message.content:
            if not isinstance(block, CachePoint):
                content.append(block)
                prefix += estimate_tokens(block)
            elif content and not isinstance(content[-1], CachePoint) and prefix >= minimum:
                content.append(point)
        messages.append(ChatMessage(message.role, tuple(content)))
    return keep_last_points(replace(chat, tools=tuple(tools), system=tuple(system)), messages)


def place_explicit_points(
    chat: ChatRequest,
    caching: PromptCaching,
    *,
    system_ttl: CacheTTL | None,
    tool_points: tuple[tuple[int, CacheTTL], ...],
) -> ChatRequest:
    """``chat`` with the caller's checkpoints only: the ones already in its messages (placed by
    the chat bot), one after the system prompt (``system_ttl``) and after the tools at
    ``tool_points``. A TTL the model does not take, or a ``1h`` after a ``5m``, becomes
    ``5m``; a point in the tools is dropped for a model that takes none there, and so is one
    with nothing before it in its message. No minimum applies (below it, Bedrock answers
    without caching)."""
    if not caching.active or caching.min_tokens is None:
        return without_cache_points(chat)

    shortest: list[CacheTTL] = []  # a longer TTL after a shorter one is refused: shorten it

    def point(ttl: CacheTTL) -> CachePoint:
        if ttl not in caching.ttls or shortest:
            ttl = "5m"
        if ttl == "5m":
            shortest.append(ttl)
        return CachePoint(ttl)

    after_tool = dict(tool_points)
    tools: list[ToolEntry] = []
    for index, tool in enumerate(t for t in chat.tools if not isinstance(t, CachePoint)):
        tools.append(tool)
        if caching.tools and index in after_tool:
            tools.append(point(after_tool[index]))
    system: list[SystemBlock] = [s for s in chat.system if not isinstance(s, CachePoint)]
    if system and system_ttl is not None:
        system.append(point(system_ttl))
    messages: list[ChatMessage] = []
    for message in chat.messages:
        content: list[ContentBlock] = []
        for block in message.content:
            if not isinstance(block, CachePoint):
                content.append(block)
            elif content and not isinstance(content[-1], CachePoint):
                content.append(point(block.ttl))
        messages.append(ChatMessage(message.role, tuple(content)))
    return keep_last_points(replace(chat, tools=tuple(tools), system=tuple(system)), messages)


def keep_last_points(chat: ChatRequest, messages: list[ChatMessage]) -> ChatRequest:
    """``chat`` with ``messages``, holding at most :data:`MAX_CACHE_POINTS` checkpoints: the
    last ones (a later prefix holds the earlier ones)."""
    total = sum(isinstance(b, CachePoint) for b in (*chat.tools, *chat.system))
    total += sum(isinstance(b, CachePoint) for m in messages for b in m.content)
    excess = max(0, total - MAX_CACHE_POINTS)
    tools, excess = drop_first_points(chat.tools, excess)
    system, excess = drop_first_points(chat.system, excess)
    kept: list[ChatMessage] = []
    for message in messages:
        content, excess = drop_first_points(message.content, excess)
        kept.append(ChatMessage(message.role, content))
    return replace(chat, tools=tools, system=system, messages=tuple(kept))


def drop_first_points(items: tuple[T, ...], count: int) -> tuple[tuple[T, ...], int]:
    """``items`` without their first ``count`` checkpoints, and how many are still to drop."""
    kept: list[T] = []
    for item in items:
        if count and isinstance(item, CachePoint):
            count -= 1
            continue
        kept.append(item)
    return tuple(kept), count


def without_cache_points(chat: ChatRequest) -> ChatRequest:
    """``chat`` with no checkpoint anywhere (for a model that takes none)."""
    if not has_cache_points(chat):
        return chat
    return replace(
        chat,
        tools=tuple(t for t in chat.tools if not isinstance(t, CachePoint)),
        system=tuple(s for s in chat.system if not isinstance(s, CachePoint)),
        messages=tuple(
            ChatMessage(m.role, tuple(b for b in m.content if not isinstance(b, CachePoint)))
            for m in chat.messages
        ),
    )


def has_cache_points(chat: ChatRequest) -> bool:
    return any(
        isinstance(item, CachePoint)
        for item in (*chat.tools, *chat.system, *(b for m in chat.messages for b in m.content))
    )
