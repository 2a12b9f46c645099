"""Prompt caching as Bedrock does it: ``cachePoint`` checkpoints, prefixes, TTLs, usage.

A request's checkpoints are found in prompt order (``toolConfig.tools``, then ``system``, then
``messages``) by :func:`find_checkpoints`, which refuses what Bedrock refuses. Each checkpoint
stands for the exact content before it: a digest of the canonical JSON of every tool, system
block and message block so far (``cachePoint`` blocks themselves left out, so moving a
checkpoint keeps the prefixes before it), and that prefix's token count.

:class:`PromptCache` keeps one table per (access key id, model, region). A request reads the
longest of its prefixes still cached (which slides that entry's expiry), writes every later
checkpoint whose prefix reaches the model's minimum, and reports what Bedrock reports:
``cacheReadInputTokens`` (the prefix read), ``cacheWriteInputTokens`` (the tokens after it up to
the last checkpoint written) and ``cacheDetails`` (the written tokens by TTL, 1h before 5m).
Only explicit checkpoints count: Claude's look-back of about 20 blocks before a single
checkpoint is not modelled, so the emulator finds fewer hits than Bedrock might, never more.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from fmgate_emulator.content import DOCUMENT_TOKENS, IMAGE_TOKENS, block_text, count_tokens
from fmgate_emulator.errors import BedrockError, validation
from fmgate_emulator.models import CacheSupport, ModelSpec

#: The TTLs CachePointBlock.ttl takes, in seconds; a checkpoint without one has the default.
TTL_SECONDS: dict[str, float] = {"5m": 300.0, "1h": 3600.0}
DEFAULT_TTL = "5m"
MAX_CHECKPOINTS = 4

UNSUPPORTED_MODEL = (
    "You invoked an unsupported model or your request did not allow prompt caching. "
    "See the documentation for more information."
)
AFTER_REASONING = (
    "Cache point cannot be inserted after reasoning block. "
    "Please remove the invalid cache point and try again."
)
NO_TOOLS_CHECKPOINT = (
    "This model doesn't support a cache point in toolConfig.tools. "
    "Try again without it, or with a cache point in system or messages."
)
_MEDIA_TOKENS = {"image": IMAGE_TOKENS, "document": DOCUMENT_TOKENS, "video": DOCUMENT_TOKENS}


def too_many_checkpoints(found: int) -> str:
    return (
        "The model returned the following errors: A maximum of "
        f"{MAX_CHECKPOINTS} blocks with cache_control may be provided. Found {found}."
    )


def bad_enum(value: object, where: str, member: str, allowed: list[str]) -> str:
    return (
        f"1 validation error detected: Value '{value}' at '{where}.cachePoint.{member}' failed "
        f"to satisfy constraint: Member must satisfy enum value set: [{', '.join(allowed)}]"
    )


def ttl_not_supported(ttl: str) -> str:
    return (
        f"The model returned the following errors: This model doesn't support the {ttl} cache "
        "TTL. Try again with 5m or without a ttl."
    )


def ttl_order(later: str, earlier: str) -> str:
    return (
        f"The model returned the following errors: A cache point with ttl '{later}' must not "
        f"come after a cache point with ttl '{earlier}' (tools, then system, then messages)."
    )


def block_tokens(block: dict[str, Any]) -> int:
    """Input tokens of one tool, system block or message block (the emulator's count)."""
    media = sum(cost for kind, cost in _MEDIA_TOKENS.items() if kind in block)
    if "toolSpec" in block or "systemTool" in block:
        return count_tokens(json.dumps(block)) + media
    return count_tokens(block_text(block)) + media


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """One ``cachePoint``: its TTL and the prefix before it (digest and token count)."""

    ttl: str
    key: str
    tokens: int


@dataclass(frozen=True, slots=True)
class PromptBlocks:
    """The prompt in order: every item with its place, section and role."""

    tools: list[Any]
    system: list[Any]
    messages: list[dict[str, Any]]

    def walk(self) -> Iterator[tuple[str, str, Any]]:
        """(place for error messages, tag, item) in prompt order; a message start is yielded as
        a ``role`` item before its blocks."""
        for i, tool in enumerate(self.tools, 1):
            yield f"toolConfig.tools.{i}.member", "T", tool
        for i, block in enumerate(self.system, 1):
            yield f"system.{i}.member", "S", block
        for i, message in enumerate(self.messages, 1):
            yield f"messages.{i}.member", "R", message.get("role")
            for j, block in enumerate(message.get("content", []), 1):
                yield f"messages.{i}.member.content.{j}.member", "B", block


def is_cache_point(item: Any) -> bool:
    return isinstance(item, dict) and "cachePoint" in item


def checkpoint_ttl(item: dict[str, Any], place: str) -> str:
    """The TTL a ``cachePoint`` asks for, checked as the service checks the enum members."""
    point = item["cachePoint"]
    if not isinstance(point, dict):
        raise validation(bad_enum(point, place, "type", ["default"]))
    if point.get("type") != "default":
        raise validation(bad_enum(point.get("type"), place, "type", ["default"]))
    ttl = point.get("ttl", DEFAULT_TTL)
    if ttl not in TTL_SECONDS:
        raise validation(bad_enum(ttl, place, "ttl", list(TTL_SECONDS)))
    return str(ttl)


def find_checkpoints(prompt: PromptBlocks, spec: ModelSpec) -> list[Checkpoint]:
    """The request's checkpoints in prompt order, or the error Bedrock answers with."""
    digest = hashlib.sha256()
    tokens = 0
    found: list[tuple[str, str, str]] = []  # (ttl, place, section tag)
    checkpoints: list[Checkpoint] = []
    previous: Any = None
    for place, tag, item in prompt.walk():
        if is_cache_point(item):
            ttl = checkpoint_ttl(item, place)
            if isinstance(previous, dict) and "reasoningContent" in previous:
                raise validation(AFTER_REASONING)
            found.append((ttl, place, tag))
            checkpoints.append(Checkpoint(ttl, digest.copy().hexdigest(), tokens))
        else:
            encoded = canonical(item)
            digest.update(f"{tag}{len(encoded)}:".encode() + encoded)
            if tag != "R":
                tokens += block_tokens(item)
        previous = item if tag != "R" else None
    if not found:
        return []
    check_support(found, spec.caching)
    return checkpoints


def check_support(found: list[tuple[str, str, str]], support: CacheSupport | None) -> None:
    """Refuse checkpoints the model does not take: any (no caching), too many, in tools where
    the model takes none there, a TTL it lacks, or a longer TTL after a shorter one."""
    if support is None:
        raise BedrockError("AccessDeniedException", UNSUPPORTED_MODEL)
    if len(found) > MAX_CHECKPOINTS:
        raise validation(too_many_checkpoints(len(found)))
    shortest: str | None = None
    for ttl, _, tag in found:
        if tag == "T" and not support.tools:
            raise validation(NO_TOOLS_CHECKPOINT)
        if ttl not in support.ttls:
            raise validation(ttl_not_supported(ttl))
        if shortest is not None and TTL_SECONDS[ttl] > TTL_SECONDS[shortest]:
            raise validation(ttl_order(ttl, shortest))
        if shortest is None or TTL_SECONDS[ttl] < TTL_SECONDS[shortest]:
            shortest = ttl


@dataclass(frozen=True, slots=True)
class CacheUsage:
    """What a request read from and wrote to the cache, in tokens."""

    read: int = 0
    written: int = 0
    #: Tokens written per TTL.
    written_by_ttl: dict[str, int] = field(default_factory=dict)

    def usage_fields(self) -> dict[str, Any]:
        """The ``TokenUsage`` members for caching (``cacheDetails`` only when something was
        written, 1h before 5m)."""
        fields: dict[str, Any] = {
            "cacheReadInputTokens": self.read,
            "cacheWriteInputTokens": self.written,
        }
        details = [
            {"ttl": ttl, "inputTokens": self.written_by_ttl[ttl]}
            for ttl in sorted(self.written_by_ttl, key=TTL_SECONDS.__getitem__, reverse=True)
            if self.written_by_ttl[ttl]
        ]
        if details:
            fields["cacheDetails"] = details
        return fields


class Clock:
    """Monotonic seconds that ``POST /_emulator/clock`` can move forward (TTL tests)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.monotonic() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@dataclass(slots=True)
class Entry:
    """One cached prefix: when it expires and how long each hit extends it."""

    expires_at: float
    ttl_seconds: float


Partition = tuple[str, str, str]


class PromptCache:
    """Cached prefixes per (access key id, model, region), expiring by their TTL."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.tables: dict[Partition, dict[str, Entry]] = {}

    def apply(
        self, partition: Partition, checkpoints: list[Checkpoint], support: CacheSupport
    ) -> CacheUsage:
        """Read the longest cached prefix, write the later ones that reach the minimum."""
        if not checkpoints:
            return CacheUsage()
        now = self.clock.now()
        table = self.tables.setdefault(partition, {})
        for key in [k for k, entry in table.items() if entry.expires_at <= now]:
            del table[key]
        hit = -1
        for index, checkpoint in enumerate(checkpoints):
            entry = table.get(checkpoint.key)
            if entry is not None:
                entry.expires_at = now + entry.ttl_seconds  # a hit slides the expiry
                hit = index
        read = checkpoints[hit].tokens if hit >= 0 else 0
        covered = read
        by_ttl: dict[str, int] = {}
        for checkpoint in checkpoints[hit + 1 :]:
            if checkpoint.tokens < support.min_tokens or checkpoint.tokens <= covered:
                continue
            seconds = TTL_SECONDS[checkpoint.ttl]
            table[checkpoint.key] = Entry(expires_at=now + seconds, ttl_seconds=seconds)
            by_ttl[checkpoint.ttl] = by_ttl.get(checkpoint.ttl, 0) + checkpoint.tokens - covered
            covered = checkpoint.tokens
        return CacheUsage(read=read, written=covered - read, written_by_ttl=by_ttl)

    def clear(self) -> None:
        self.tables.clear()
