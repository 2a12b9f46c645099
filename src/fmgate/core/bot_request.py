"""What a front hands to a bot: a protocol-neutral conversation turn.

Fronts (Poe, OpenAI, ...) parse their wire format into a :class:`BotRequest`; bots never see Poe
or OpenAI types. Attachments are references here (URL or inline bytes); ``fmgate.attachments``
fetches and checks them when a bot builds its model request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from fmgate.core.model_request import (
    CacheTTL,
    OutputSchema,
    ReplayedReasoning,
    ToolChoice,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)

Role = Literal["system", "user", "assistant"]


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file the user attached to a message."""

    name: str
    content_type: str
    #: Where to fetch it (Poe attachment host, or an http URL from an OpenAI caller).
    url: str | None = None
    #: The bytes, when the caller sent them inline (data: URLs).
    data: bytes | None = None
    #: Text the platform already extracted (Poe's ``parsed_content``: file text, image description).
    parsed_content: str | None = None
    #: Whether the model is to cite this document: the caller's choice (Anthropic's
    #: ``citations.enabled``); None: the bot's ``citations`` setting decides.
    citations: bool | None = None


@dataclass(frozen=True, slots=True)
class InputMessage:
    """One message of the conversation, oldest first."""

    role: Role
    text: str
    attachments: tuple[Attachment, ...] = ()
    #: Tool calls the model made in this (assistant) message, replayed to the model.
    tool_uses: tuple[ToolUseBlock, ...] = ()
    #: The model's signed or redacted reasoning that led this (assistant) message, replayed
    #: before its text (extended thinking wants it back with tool use).
    reasoning: tuple[ReplayedReasoning, ...] = ()
    #: Results of earlier tool calls, sent back in this (user) message.
    tool_results: tuple[ToolResultBlock, ...] = ()
    #: A caller's prompt-cache checkpoint after this message (Anthropic / OpenAI
    #: ``cache_control``), with its TTL; a system message's goes after the system prompt.
    cache_point: CacheTTL | None = None


@dataclass(frozen=True, slots=True)
class JsonObjectOutput:
    """The caller wants the answer as one JSON object of any shape (OpenAI's JSON mode)."""


#: The form a caller asks the answer in: JSON a schema describes, or any JSON object.
OutputFormat = OutputSchema | JsonObjectOutput


@dataclass(frozen=True, slots=True)
class BotRequest:
    """One request to a bot: the conversation so far plus caller-chosen options."""

    request_id: str
    messages: tuple[InputMessage, ...]
    user_id: str = ""
    conversation_id: str = ""
    #: Caller's sampling temperature, if any (clamped to the bot's limits by the bot).
    temperature: float | None = None
    #: Caller's nucleus sampling, if any (else the bot's; not sent with extended thinking).
    top_p: float | None = None
    stop_sequences: tuple[str, ...] = ()
    #: Values from the caller's parameter controls (Poe) or request options (OpenAI).
    parameters: Mapping[str, object] = field(default_factory=dict)
    #: Caller-chosen output cap, if any (clamped by the bot).
    max_tokens: int | None = None
    #: Tools the model may call (OpenAI / Anthropic callers); calls come back as ``ToolCall``.
    tools: tuple[ToolSpec, ...] = ()
    #: How the model may use ``tools``; "none": not at all in this turn.
    tool_choice: ToolChoice | Literal["none"] = "auto"
    #: A caller's prompt-cache checkpoints after tools: (index in ``tools``, TTL).
    tool_cache_points: tuple[tuple[int, CacheTTL], ...] = ()
    #: Beta features the caller asked for by name (Anthropic's ``anthropic-beta`` header); the
    #: bot passes on those its model takes and drops the others.
    betas: tuple[str, ...] = ()
    #: The form the caller wants the answer in (a compatible API's response format); None:
    #: the bot's own (its ``response_schema``), else free text.
    output_format: OutputFormat | None = None
    #: A file the bot cannot use refuses the request (``AttachmentRejected``, 400) instead of
    #: being skipped with a notice: for callers that are shown no notices (the compatible APIs).
    refuse_unusable_files: bool = False

    @property
    def explicit_cache_points(self) -> bool:
        """Whether the caller placed checkpoints (they replace the bot's automatic ones)."""
        return bool(self.tool_cache_points) or any(m.cache_point for m in self.messages)
