"""OpenAI request bodies, as far as the gateway reads them (unknown fields are ignored).

Only what the gateway reads is declared; a field it cannot honour (``n`` other than 1,
``functions``) is declared so that :mod:`fmgate.fronts.openai.parse` can refuse it rather than
silently ignore it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    field_validator,
)
from pydantic_core import PydanticCustomError

#: The longest end-user id (``user``, ``safety_identifier``) the ledger records.
MAX_USER_CHARS = 256
#: An end-user id is printable: no control characters reach log lines or ledger rows.
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
#: How hard a reasoning model thinks (``reasoning_effort``; Responses' ``reasoning.effort``).
ReasoningEffort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]


class OpenAIModel(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class CacheControl(OpenAIModel):
    """A prompt-cache checkpoint after the part that carries it (LiteLLM's / OpenRouter's
    convention, Anthropic's shape)."""

    type: Literal["ephemeral"]
    ttl: Literal["5m", "1h"] = "5m"


class TextPart(OpenAIModel):
    type: Literal["text"]
    text: str
    cache_control: CacheControl | None = None


class ImageUrl(OpenAIModel):
    #: A ``data:`` URL (inline image) or an http(s) URL (fetched by the safe downloader).
    url: str = Field(min_length=1)
    detail: str | None = None


class ImagePart(OpenAIModel):
    type: Literal["image_url"]
    image_url: ImageUrl


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class FunctionCall(OpenAIModel):
    name: str
    #: The call's arguments, a JSON object serialized as a string.
    arguments: str = "{}"


class ToolCallIn(OpenAIModel):
    """A tool call made earlier by the model, replayed in an assistant message."""

    id: str = Field(min_length=1)
    type: Literal["function"] = "function"
    function: FunctionCall


class SystemMessage(OpenAIModel):
    role: Literal["system", "developer"]
    content: str | list[TextPart]


class UserMessage(OpenAIModel):
    role: Literal["user"]
    content: str | list[ContentPart]


class AssistantMessage(OpenAIModel):
    role: Literal["assistant"]
    content: str | list[TextPart] | None = None
    tool_calls: list[ToolCallIn] = Field(default_factory=list)


class ToolMessage(OpenAIModel):
    role: Literal["tool"]
    tool_call_id: str = Field(min_length=1)
    content: str | list[TextPart]


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class FunctionDefinition(OpenAIModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str = ""
    #: JSON Schema of the arguments (an object schema).
    parameters: dict[str, object] | None = None
    #: The calls' arguments must follow ``parameters`` (Converse strict tools, for models with
    #: structured outputs).
    strict: bool | None = None


class Tool(OpenAIModel):
    type: Literal["function"]
    function: FunctionDefinition


class FunctionName(OpenAIModel):
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")


class NamedToolChoice(OpenAIModel):
    """The model must call this function (one of ``tools``)."""

    type: Literal["function"]
    function: FunctionName


#: ``auto``: the model decides; ``none``: no tool calls; ``required``: at least one call;
#: a named function: that call.
ToolChoice = Literal["auto", "none", "required"] | NamedToolChoice


class StreamOptions(OpenAIModel):
    include_usage: bool = False


class JsonSchemaFormat(OpenAIModel):
    """``response_format.json_schema``: the JSON Schema the answer follows."""

    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    #: The schema (OpenAI's ``schema``; the attribute is named so as not to shadow pydantic's).
    json_schema: dict[str, object] | None = Field(None, alias="schema")
    #: Accepted: Bedrock constrains every answer to the schema, strict or not.
    strict: bool | None = None


class ResponseFormat(OpenAIModel):
    """``text``; ``json_schema`` (structured output: Converse ``outputConfig.textFormat`` for
    models with structured outputs, else asked for in the prompt); ``json_object`` (JSON mode:
    asked for in the prompt, Bedrock has no such mode)."""

    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class ChatCompletionRequest(OpenAIModel):
    """``POST /v1/chat/completions``."""

    #: The bot's name (``GET /v1/models`` lists them).
    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    temperature: float | None = Field(None, ge=0, le=2)
    max_tokens: int | None = Field(None, ge=1)
    max_completion_tokens: int | None = Field(None, ge=1)
    stop: str | list[str] | None = None
    #: Only one choice per request (anything else is refused).
    n: int | None = None
    tools: list[Tool] = Field(default_factory=list)
    tool_choice: ToolChoice | None = None
    #: ``false``: at most one tool call per turn (the gateway keeps the first).
    parallel_tool_calls: bool | None = None
    #: The thinking budget of a bot with extended thinking (:mod:`.reasoning_effort`).
    reasoning_effort: ReasoningEffort | None = None
    response_format: ResponseFormat | None = None
    #: The retired function-calling fields (refused: ``tools`` replaced them).
    functions: list[object] | None = None
    function_call: object | None = None
    #: The caller's own end-user id, recorded in the ledger next to the key's caller.
    user: str | None = Field(None, max_length=MAX_USER_CHARS, pattern=PRINTABLE)
    #: OpenAI's newer name for an end-user id; recorded when ``user`` is absent.
    safety_identifier: str | None = Field(None, max_length=MAX_USER_CHARS, pattern=PRINTABLE)

    @field_validator("tool_choice", mode="wrap")
    @classmethod
    def one_tool_choice(cls, value: object, handler: ValidatorFunctionWrapHandler) -> object:
        """One error naming ``tool_choice`` and its forms (not one per member of the union)."""
        try:
            return handler(value)
        except ValidationError:
            raise PydanticCustomError(
                "tool_choice",
                "it must be 'auto', 'none', 'required' or "
                '{"type": "function", "function": {"name": ...}}',
            ) from None

    @property
    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage

    @property
    def end_user(self) -> str | None:
        """The end user the caller names, if any."""
        return self.user or self.safety_identifier or None

    @property
    def parallel(self) -> bool:
        """Whether a turn may hold several tool calls (OpenAI's default: yes)."""
        return self.parallel_tool_calls is not False


class ImageGenerationRequest(OpenAIModel):
    """``POST /v1/images/generations``."""

    model: str = Field(min_length=1)
    prompt: str = Field(min_length=1)
    n: int = Field(1, ge=1, le=4)
    #: "WxH"; the bot's closest configured aspect ratio is used.
    size: str | None = Field(None, pattern=r"^\d{2,5}x\d{2,5}$")
    response_format: Literal["b64_json", "url"] = "b64_json"
    user: str | None = None
