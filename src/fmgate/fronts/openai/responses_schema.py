"""``POST /v1/responses`` request bodies, as far as the gateway reads them.

The top level is strict, as OpenAI's is: an unknown parameter is a 400 naming it. Items, parts
and tools ignore fields they do not use (clients send output items back with ``status``,
``annotations``, ``logprobs`` ...). Types the gateway cannot serve (hosted tools, other item
types) parse into a catch-all model, so the front can refuse them by name
(:mod:`fmgate.fronts.openai.responses_input`).
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from fmgate.fronts.openai.schema import MAX_USER_CHARS, PRINTABLE, ReasoningEffort


class Tolerant(BaseModel):
    """Items, parts and tools: fields the gateway does not use are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class Strict(BaseModel):
    """The request's top level: an unknown parameter is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class InputText(Tolerant):
    type: Literal["input_text"]
    text: str


class InputImage(Tolerant):
    type: Literal["input_image"]
    #: A ``data:`` URL (inline) or an http(s) URL (fetched by the safe downloader).
    image_url: str | None = None
    #: An uploaded file's id: there is no Files API here, so it is refused.
    file_id: str | None = None
    detail: str | None = None


class InputFile(Tolerant):
    type: Literal["input_file"]
    #: The file as a ``data:<type>;base64,<data>`` URL.
    file_data: str | None = None
    #: An http(s) URL, fetched by the safe downloader.
    file_url: str | None = None
    filename: str | None = None
    file_id: str | None = None


class OutputText(Tolerant):
    """Text an earlier answer gave (assistant messages replayed as input)."""

    type: Literal["output_text"]
    text: str


class RefusalPart(Tolerant):
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[
    InputText | InputImage | InputFile | OutputText | RefusalPart, Field(discriminator="type")
]


class MessageItem(Tolerant):
    """A message (``type`` may be left out: the API's "easy" input message)."""

    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ContentPart]


class FunctionCallItem(Tolerant):
    """A function call the model made earlier, replayed."""

    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    #: The call's arguments: a JSON object, serialized.
    arguments: str
    id: str | None = None


class FunctionCallOutputItem(Tolerant):
    """What the caller's function returned for the call ``call_id``."""

    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: str | list[ContentPart]


class ReasoningItem(Tolerant):
    """Reasoning an earlier answer showed; not replayed to models (as on every front)."""

    type: Literal["reasoning"]


class OtherItem(Tolerant):
    """An item of a type the gateway does not take (``item_reference``, hosted tool calls...)."""

    type: str


def item_tag(value: object) -> str:
    """The union's discriminator: an item's ``type`` (``message`` when absent)."""
    kind = value.get("type", "message") if isinstance(value, dict) else getattr(value, "type", "")
    return kind if kind in KNOWN_ITEMS else "other"


KNOWN_ITEMS = frozenset({"message", "function_call", "function_call_output", "reasoning"})

InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[OtherItem, Tag("other")],
    Discriminator(item_tag),
]


class FunctionTool(Tolerant):
    type: Literal["function"]
    name: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    #: JSON Schema of the arguments (an object schema).
    parameters: dict[str, object] | None = None
    #: ``true``: the calls' arguments must follow ``parameters`` (Converse strict tools, for
    #: models with structured outputs; see docs/openai.md). Only an explicit ``true`` counts.
    strict: bool | None = None


class HostedTool(Tolerant):
    """A tool OpenAI runs itself (web_search, file_search, code_interpreter, computer_use...)."""

    type: str


def tool_tag(value: object) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "function" if kind == "function" else "hosted"


Tool = Annotated[
    Annotated[FunctionTool, Tag("function")] | Annotated[HostedTool, Tag("hosted")],
    Discriminator(tool_tag),
]


class ToolChoiceFunction(Tolerant):
    type: Literal["function"]
    name: str


class ToolChoiceOther(Tolerant):
    """``allowed_tools`` or a hosted tool's type."""

    type: str


def tool_choice_tag(value: object) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "function" if kind == "function" else "other"


ToolChoiceObject = Annotated[
    Annotated[ToolChoiceFunction, Tag("function")] | Annotated[ToolChoiceOther, Tag("other")],
    Discriminator(tool_choice_tag),
]


class TextFormat(Tolerant):
    """``text.format``: ``text``, ``json_object`` (JSON mode) or ``json_schema`` (with the
    schema's fields beside ``type``, as the Responses API has them)."""

    type: Literal["text", "json_schema", "json_object"]
    name: str | None = Field(None, pattern=r"^[A-Za-z0-9_-]{1,64}$")
    description: str | None = None
    #: The schema (the API's ``schema``; named so as not to shadow pydantic's attribute).
    json_schema: dict[str, object] | None = Field(None, alias="schema")
    #: Accepted: Bedrock constrains every answer to the schema, strict or not.
    strict: bool | None = None


class TextConfig(Tolerant):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningConfig(Tolerant):
    effort: ReasoningEffort | None = None
    #: Accepted; the reasoning item carries the model's reasoning text, not a summary.
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class ResponsesRequest(Strict):
    """``POST /v1/responses``."""

    #: The bot's name (``GET /v1/models`` lists them).
    model: str = Field(min_length=1)
    input: str | list[InputItem]
    instructions: str | None = None
    tools: list[Tool] = Field(default_factory=list)
    tool_choice: Literal["none", "auto", "required"] | ToolChoiceObject | None = None
    max_output_tokens: int | None = Field(None, ge=16)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, ge=0, le=1)
    reasoning: ReasoningConfig | None = None
    text: TextConfig | None = None
    stream: bool | None = None
    #: Keep the response for ``previous_response_id`` and ``GET`` (OpenAI's default: true).
    store: bool | None = None
    previous_response_id: str | None = Field(None, min_length=1)
    metadata: dict[str, str] | None = None
    #: The caller's own end-user id, recorded in the ledger next to the key's caller.
    user: str | None = Field(None, max_length=MAX_USER_CHARS, pattern=PRINTABLE)
    parallel_tool_calls: bool | None = None
    truncation: Literal["auto", "disabled"] | None = None
    service_tier: str | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    background: bool | None = None
    #: Tolerated and ignored: extra data asked for (nothing more is included), hints about the
    #: provider's own caching and abuse detection, limits on hosted tools, stream obfuscation.
    include: list[str] | None = None
    prompt_cache_key: str | None = None
    prompt_cache_retention: str | None = None
    prompt_cache_options: dict[str, object] | None = None
    #: OpenAI's newer name for an end-user id; recorded when ``user`` is absent.
    safety_identifier: str | None = Field(None, max_length=MAX_USER_CHARS, pattern=PRINTABLE)
    max_tool_calls: int | None = None
    stream_options: dict[str, object] | None = None
    image: dict[str, object] | None = None
    access_programs: dict[str, object] | None = None
    #: Refused when set (see :data:`REFUSED_FIELDS`).
    conversation: object | None = None
    prompt: object | None = None
    context_management: object | None = None
    moderation: object | None = None
    background_options: object | None = None

    @property
    def stored(self) -> bool:
        return self.store is not False
