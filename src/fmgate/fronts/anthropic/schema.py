"""Anthropic Messages request bodies, as far as the gateway reads them (unknown fields ignored)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field


class AnthropicModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CacheControlIn(AnthropicModel):
    """A prompt-cache checkpoint after the block or tool that carries it."""

    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] = "5m"


class Cacheable(AnthropicModel):
    cache_control: CacheControlIn | None = None


class TextIn(Cacheable):
    type: Literal["text"]
    text: str


class Base64Source(AnthropicModel):
    type: Literal["base64"]
    media_type: str = Field(min_length=1)
    data: str


class UrlSource(AnthropicModel):
    type: Literal["url"]
    #: Fetched by the safe downloader (its host rules apply).
    url: str = Field(min_length=1)


class TextSource(AnthropicModel):
    """A plain-text document given inline (Anthropic's ``PlainTextSource``)."""

    type: Literal["text"]
    media_type: Literal["text/plain"] = "text/plain"
    data: str


Source = Annotated[Base64Source | UrlSource, Field(discriminator="type")]
DocumentSource = Annotated[Base64Source | UrlSource | TextSource, Field(discriminator="type")]


class ImageIn(Cacheable):
    type: Literal["image"]
    source: Source


class CitationsIn(AnthropicModel):
    """Whether the model is to cite the document (Converse ``citations``)."""

    enabled: bool = False


class DocumentIn(Cacheable):
    type: Literal["document"]
    source: DocumentSource
    title: str | None = None
    #: Absent: not cited, as on Anthropic's API.
    citations: CitationsIn | None = None


class ToolUseIn(Cacheable):
    """A tool call the model made earlier, replayed in an assistant message."""

    type: Literal["tool_use"]
    id: str = Field(min_length=1)
    name: str
    input: dict[str, object] = Field(default_factory=dict)


class ToolResultIn(Cacheable):
    type: Literal["tool_result"]
    tool_use_id: str = Field(min_length=1)
    content: str | list[Annotated[TextIn | ImageIn, Field(discriminator="type")]] = ""
    is_error: bool = False


class ThinkingIn(AnthropicModel):
    """Earlier reasoning sent back by the caller: replayed to the model when it carries the
    signature the model gave it."""

    type: Literal["thinking"]
    thinking: str = ""
    signature: str = ""


class RedactedThinkingIn(AnthropicModel):
    """Earlier reasoning the model kept encrypted, sent back by the caller: replayed as it is."""

    type: Literal["redacted_thinking"]
    #: The model's data, base64.
    data: str = Field(min_length=1)


ContentIn = Annotated[
    TextIn | ImageIn | DocumentIn | ToolUseIn | ToolResultIn | ThinkingIn | RedactedThinkingIn,
    Field(discriminator="type"),
]


class MessageIn(AnthropicModel):
    role: Literal["user", "assistant"]
    content: str | list[ContentIn]


def object_schema() -> dict[str, object]:
    return {"type": "object"}


class ToolIn(Cacheable):
    #: ``custom`` (or none) only: server and client tools of Anthropic's own (web search, bash,
    #: computer use, ...) are refused, Converse runs none of them.
    type: str | None = None
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    input_schema: dict[str, object] = Field(default_factory=object_schema)
    #: The calls' input must follow ``input_schema`` (Converse strict tools, for models with
    #: structured outputs).
    strict: bool | None = None


class ParallelToolUse(AnthropicModel):
    #: Accepted and ignored: Converse has no switch for it (models may call several tools).
    disable_parallel_tool_use: bool = False


class AutoToolChoice(ParallelToolUse):
    type: Literal["auto"]


class AnyToolChoice(ParallelToolUse):
    """The model must call one of the tools."""

    type: Literal["any"]


class NamedToolChoice(ParallelToolUse):
    """The model must call this tool."""

    type: Literal["tool"]
    name: str = Field(min_length=1)


class NoToolChoice(AnthropicModel):
    """The model may not call tools in this turn."""

    type: Literal["none"]


ToolChoiceIn = Annotated[
    AutoToolChoice | AnyToolChoice | NamedToolChoice | NoToolChoice, Field(discriminator="type")
]


class ThinkingConfig(AnthropicModel):
    """``enabled`` (within ``budget_tokens``), ``adaptive`` (the model decides) or
    ``disabled``."""

    type: Literal["enabled", "disabled", "adaptive"]
    budget_tokens: int | None = Field(None, ge=1)


#: Anthropic's effort levels (``output_config.effort``).
EffortIn = Literal["low", "medium", "high", "xhigh", "max"]


class JsonOutputFormat(AnthropicModel):
    """The JSON Schema the answer follows (structured outputs)."""

    type: Literal["json_schema"]
    #: The schema (Anthropic's ``schema``; named so as not to shadow pydantic's attribute).
    json_schema: dict[str, object] = Field(alias="schema")


class OutputConfigIn(AnthropicModel):
    #: How much the model reasons; the model's own levels only.
    effort: EffortIn | None = None
    #: The JSON Schema the answer follows (Converse ``outputConfig.textFormat``).
    format: JsonOutputFormat | None = None


class MetadataIn(AnthropicModel):
    #: The caller's own end user: recorded in the ledger after the caller (``caller/user``).
    user_id: str | None = Field(None, max_length=256)


class CountTokensRequest(AnthropicModel):
    """``POST /v1/messages/count_tokens``: the prompt of a Messages request."""

    #: The bot's name.
    model: str = Field(min_length=1)
    messages: list[MessageIn] = Field(min_length=1)
    system: str | list[TextIn] | None = None
    tools: list[ToolIn] = Field(default_factory=list)
    tool_choice: ToolChoiceIn | None = None
    thinking: ThinkingConfig | None = None
    output_config: OutputConfigIn | None = None


class MessagesRequest(CountTokensRequest):
    """``POST /v1/messages``."""

    max_tokens: int = Field(ge=1)
    stop_sequences: list[str] = Field(default_factory=list)
    temperature: float | None = Field(None, ge=0, le=1)
    stream: bool = False
    metadata: MetadataIn | None = None
    #: ``output_config.format``: the answer's JSON Schema.
    output_config: OutputConfigIn | None = None
    #: The beta API's older place for the same format (deprecated by Anthropic).
    output_format: JsonOutputFormat | None = None
