"""Deterministic model output and token counting.

The emulator's answer is derived from the last user text, so tests anywhere in the project can
predict it with :func:`reply_text`. Tokens are counted with one rule everywhere (Converse usage,
ConverseStream metadata, CountTokens): every run of word characters and every other non-space
character is one token; each image or document adds a fixed amount.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from typing import Any

_TOKEN = re.compile(r"\w+|[^\w\s]")
_TOKEN_WITH_SPACE = re.compile(r"\s*(?:\w+|[^\w\s])")

#: Tokens an image block adds to the input count.
IMAGE_TOKENS = 1600
#: Tokens a document (or video) block adds to the input count.
DOCUMENT_TOKENS = 2000

REPLY_PREFIX = "Echo: "
REPLY_SUFFIX = " (a deterministic reply from the fmgate Bedrock emulator)"


def count_tokens(text: str) -> int:
    """The emulator's token count of ``text``."""
    return len(_TOKEN.findall(text))


def block_text(block: dict[str, Any]) -> str:
    """The text a content block carries (text, guarded text, tool results, tool use input,
    reasoning, cited text sent back)."""
    if "text" in block:
        return str(block["text"])
    if "guardContent" in block:
        return str((block["guardContent"].get("text") or {}).get("text", ""))
    if "toolResult" in block:
        return " ".join(block_text(part) for part in block["toolResult"].get("content", []))
    if "json" in block:
        return json.dumps(block["json"])
    if "toolUse" in block:
        return json.dumps(block["toolUse"].get("input", {}))
    if "reasoningContent" in block:
        return str((block["reasoningContent"].get("reasoningText") or {}).get("text", ""))
    if "citationsContent" in block:
        parts = block["citationsContent"].get("content") or []
        return "".join(str(part.get("text", "")) for part in parts if isinstance(part, dict))
    return ""


def split_tokens(text: str) -> list[str]:
    """``text`` as streamable tokens, each with its leading whitespace (the last also with the
    whitespace after it); they join back to it."""
    pieces: list[str] = _TOKEN_WITH_SPACE.findall(text)
    trailing = text[len(text.rstrip()) :]
    if pieces and trailing:
        pieces[-1] += trailing
    return pieces


def full_reply(last_user_text: str) -> str:
    """The whole answer before max-tokens and stop-sequence cuts."""
    return f"{REPLY_PREFIX}{last_user_text.strip()}{REPLY_SUFFIX}"


def reply_text(
    last_user_text: str,
    max_tokens: int | None,
    stop_sequences: list[str] | None = None,
) -> tuple[str, str]:
    """The answer to ``last_user_text`` and its Converse stopReason.

    The reply is ``"Echo: <text> (a deterministic reply from the fmgate Bedrock emulator)"``,
    cut before the first stop sequence (``stop_sequence``) and then to ``max_tokens`` tokens
    (``max_tokens``); otherwise the stop reason is ``end_turn``.
    """
    text = full_reply(last_user_text)
    reason = "end_turn"
    cuts = [text.find(seq) for seq in stop_sequences or [] if seq and seq in text]
    if cuts:
        text = text[: min(cuts)].rstrip()
        reason = "stop_sequence"
    return cut_to_tokens(text, max_tokens, reason)


def cut_to_tokens(text: str, max_tokens: int | None, reason: str = "end_turn") -> tuple[str, str]:
    """``text`` cut to ``max_tokens`` tokens (stopReason ``max_tokens``), else as it is (with
    ``reason``)."""
    tokens = split_tokens(text)
    if max_tokens is not None and len(tokens) > max_tokens:
        return "".join(tokens[:max_tokens]), "max_tokens"
    return text, reason


#: Reasoning effort levels, least first: more effort, longer reasoning.
EFFORT_LEVELS = ("low", "medium", "high", "xhigh", "max")


def reasoning_text(last_user_text: str, effort: str | None = None) -> str:
    """The visible "thinking" a reasoning model emits before its answer; an effort names
    itself and makes it longer, one more sentence per level (so tests see the effort carried)."""
    thought = (
        f"The user wrote {count_tokens(last_user_text)} tokens. "
        "The emulator answers by echoing them back."
    )
    if effort is None:
        return thought
    depth = EFFORT_LEVELS.index(effort) + 1 if effort in EFFORT_LEVELS else 1
    return f"{thought} Reasoning at {effort} effort." + " Checking it once more." * depth


def reasoning_signature(reasoning: str) -> str:
    """A stable opaque signature for a reasoning text (as Anthropic models return one)."""
    return base64.b64encode(hashlib.sha256(reasoning.encode()).digest()).decode()


#: Redacted reasoning starts with this (then a digest of the reasoning it hides), so the
#: emulator knows the redacted blocks it gave out when they come back.
REDACTED_PREFIX = b"fmgate-emulator-redacted-thinking:"
#: A prompt containing this marker gets its reasoning redacted (``redactedContent``), as
#: Anthropic models on Bedrock sometimes return it.
REDACT_MARKER = "[redact thinking]"


def redacted_reasoning(reasoning: str) -> bytes:
    """The opaque data that stands for a redacted reasoning text."""
    return REDACTED_PREFIX + hashlib.sha256(reasoning.encode()).digest()


def is_redacted_reasoning(encoded: str) -> bool:
    """Whether ``encoded`` (base64, as JSON carries blobs) is redacted data the emulator gave."""
    try:
        data = base64.b64decode(encoded, validate=True)
    except ValueError:
        return False
    return data.startswith(REDACTED_PREFIX) and len(data) == len(REDACTED_PREFIX) + 32


def stable_id(prefix: str, *parts: str, length: int = 22) -> str:
    """A deterministic id such as ``tooluse_<22 chars>`` derived from ``parts``."""
    digest = hashlib.sha256("\x00".join(parts).encode()).digest()
    return prefix + base64.b32encode(digest).decode().lower()[:length]


#: A prompt containing this marker is treated as one the model's content filters block:
#: Converse stops with ``content_filtered``, image models report a filtered result.
FILTER_MARKER = "[filtered]"


def is_filtered(prompt: str) -> bool:
    return FILTER_MARKER in prompt
