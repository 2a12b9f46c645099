"""What a bot hands to the Bedrock layer: neutral model requests.

``fmgate.bedrock`` turns these into Converse / InvokeModel / StartAsyncInvoke bodies; nothing
here knows any model family's wire format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

ImageFormat = Literal["png", "jpeg", "gif", "webp"]
#: How long a prompt-cache entry lives after its last use: Bedrock's ``CachePointBlock.ttl``.
CacheTTL = Literal["5m", "1h"]
DocumentFormat = Literal["pdf", "csv", "doc", "docx", "xls", "xlsx", "html", "txt", "md"]


@dataclass(frozen=True, slots=True)
class TextBlock:
    text: str
    #: Assessed by the request's guardrail (Converse ``guardContent``): once a request has a
    #: guarded block, its guardrail reads only those.
    guarded: bool = False


@dataclass(frozen=True, slots=True)
class ImageBlock:
    format: ImageFormat
    data: bytes


@dataclass(frozen=True, slots=True)
class DocumentBlock:
    format: DocumentFormat
    #: Document name as Bedrock wants it (letters, digits, spaces, hyphens, parentheses, brackets).
    name: str
    data: bytes
    #: Ask the model to cite it (Converse ``citations: {enabled: true}``), for models that cite.
    citations: bool = False


@dataclass(frozen=True, slots=True)
class ReasoningBlock:
    """A model's signed reasoning from an earlier assistant turn (Anthropic's extended thinking),
    replayed unchanged: the signature vouches for the text."""

    text: str
    signature: str
    #: The model that reasoned (and signed): the block goes back to that model only.
    model_id: str


@dataclass(frozen=True, slots=True)
class RedactedReasoningBlock:
    """Encrypted reasoning from an earlier assistant turn, replayed as it came."""

    data: bytes
    #: The model that produced it: the block goes back to that model only.
    model_id: str


@dataclass(frozen=True, slots=True)
class ToolUseBlock:
    """A tool call the model made earlier in the conversation (in an assistant turn)."""

    tool_use_id: str
    name: str
    #: The call's arguments, a JSON object.
    input: dict[str, object]


@dataclass(frozen=True, slots=True)
class ToolResultBlock:
    """What the caller's tool returned (in a user turn), answering the call with that id."""

    tool_use_id: str
    text: str
    is_error: bool = False


@dataclass(frozen=True, slots=True)
class CachePoint:
    """A prompt-cache checkpoint: the prompt up to here (tools, then system, then messages) may be
    written to and read from the model's prompt cache.

    It may stand among system blocks, among a message's content and among the tools, nowhere
    else; a request holds at most four, and only models that take checkpoints may get one.
    """

    #: How long the cached prefix lives after its last use.
    ttl: CacheTTL = "5m"


ContentBlock = (
    TextBlock
    | ImageBlock
    | DocumentBlock
    | ReasoningBlock
    | RedactedReasoningBlock
    | ToolUseBlock
    | ToolResultBlock
    | CachePoint
)
#: Reasoning replayed in an assistant turn (it leads the turn).
ReplayedReasoning = ReasoningBlock | RedactedReasoningBlock
#: A system prompt part: text, or a checkpoint after the text before it.
SystemBlock = str | CachePoint


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Literal["user", "assistant"]
    content: tuple[ContentBlock, ...]


@dataclass(frozen=True, slots=True)
class ToolSpec:
    name: str
    description: str
    input_schema: dict[str, object]
    #: The model's calls must follow ``input_schema`` (constrained decoding, Converse
    #: ``ToolSpecification.strict``); only models with structured outputs take it.
    strict: bool = False


#: A tool the model may call, or a checkpoint after the tools before it.
ToolEntry = ToolSpec | CachePoint


@dataclass(frozen=True, slots=True)
class UseTool:
    """The model must call this tool."""

    name: str


#: How the model may use its tools: as it sees fit ("auto"), at least one of them ("any"), or
#: the named one. Converse has no "none"; a caller's "none" is settled before the request.
ToolChoice = Literal["auto", "any"] | UseTool


#: How hard a model reasons, in the levels Bedrock's models take: Anthropic's
#: ``output_config.effort`` (low ... max), gpt-oss's ``reasoning_effort`` and Nova 2's
#: ``maxReasoningEffort`` (low, medium, high). Which levels a model takes is the model table's.
ReasoningEffort = Literal["low", "medium", "high", "xhigh", "max"]
#: Every level, least effort first.
REASONING_EFFORTS: tuple[ReasoningEffort, ...] = ("low", "medium", "high", "xhigh", "max")
#: Where a model takes its effort in ``additionalModelRequestFields``: Anthropic's
#: ``output_config.effort``, the OpenAI-style ``reasoning_effort`` (gpt-oss) or Nova 2's
#: ``reasoningConfig.maxReasoningEffort`` (which also turns its thinking on).
EffortField = Literal["output_config", "reasoning_effort", "reasoning_config"]
#: How a model is asked for extended thinking (``additionalModelRequestFields.thinking``): within
#: a token budget (``type: enabled`` with ``budget_tokens``), or adaptively (``type: adaptive``:
#: the model decides whether and how long to think).
ThinkingMode = Literal["budget", "adaptive"]


@dataclass(frozen=True, slots=True)
class Effort:
    """A reasoning effort for the request, in the field the model takes it."""

    level: ReasoningEffort
    field: EffortField
    #: An ``anthropic_beta`` flag the model needs with it (Claude Opus 4.5's
    #: ``effort-2025-11-24``), sent whatever the caller's betas.
    beta: str | None = None


@dataclass(frozen=True, slots=True)
class OutputSchema:
    """The answer's text is JSON that ``schema`` (a JSON Schema) describes: Converse
    ``outputConfig.textFormat`` (type ``json_schema``) for models with structured outputs."""

    schema: dict[str, object]
    #: The schema's name and what it is, both for the model to read.
    name: str | None = None
    description: str | None = None


#: A Bedrock service tier (Converse ``serviceTier.type``) the gateway asks for: standard
#: processing (``default``), ahead of it at a premium (``priority``), or behind it at a discount
#: (``flex``). Bedrock's ``reserved`` needs a reservation and is not offered.
ServiceTier = Literal["default", "priority", "flex"]

#: What a guardrail's trace reports: nothing, the policies that acted, or every assessment.
GuardrailTrace = Literal["enabled", "enabled_full", "disabled"]
#: How a guardrail reads a stream: each chunk before it is sent, or alongside.
GuardrailStreamMode = Literal["sync", "async"]


@dataclass(frozen=True, slots=True)
class Guardrail:
    """A Bedrock guardrail the request runs under (Converse ``guardrailConfig``)."""

    #: The guardrail's id or ARN.
    identifier: str
    #: ``DRAFT`` or a version number.
    version: str
    trace: GuardrailTrace = "enabled"
    stream_mode: GuardrailStreamMode = "sync"


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """A Converse request in neutral form. Messages alternate, starting with ``user``."""

    model_id: str
    messages: tuple[ChatMessage, ...]
    system: tuple[SystemBlock, ...] = ()
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    stop_sequences: tuple[str, ...] = ()
    #: Extended-thinking budget in tokens; None means no thinking within a budget.
    reasoning_budget: int | None = None
    #: Adaptive extended thinking (``thinking: {type: adaptive}``), which takes no budget.
    adaptive_thinking: bool = False
    #: The reasoning effort to ask for; None: the model's own default.
    effort: Effort | None = None
    #: Send ``performanceConfig.latency = optimized``.
    optimize_latency: bool = False
    tools: tuple[ToolEntry, ...] = ()
    tool_choice: ToolChoice = "auto"
    #: Extra ``additionalModelRequestFields`` from config (model-specific knobs).
    additional_fields: dict[str, object] = field(default_factory=dict)
    #: Anthropic beta flags for the model (``additionalModelRequestFields.anthropic_beta``), only
    #: ones it takes.
    anthropic_betas: tuple[str, ...] = ()
    #: The guardrail that assesses input and output; None: none.
    guardrail: Guardrail | None = None
    #: The service tier to ask for; None: none named (Bedrock serves the standard tier).
    service_tier: ServiceTier | None = None
    #: The JSON schema the answer follows (constrained by Bedrock); None: free text.
    output_schema: OutputSchema | None = None

    @property
    def thinks(self) -> bool:
        """Whether extended thinking is asked for (within a budget or adaptive)."""
        return self.reasoning_budget is not None or self.adaptive_thinking


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """Generate images from text, whatever the model family."""

    model_id: str
    prompt: str
    negative_prompt: str | None = None
    width: int = 1024
    height: int = 1024
    #: Aspect ratio as "W:H" for families that take ratios instead of sizes (Stability).
    aspect_ratio: str = "1:1"
    seed: int | None = None
    count: int = 1
    quality: Literal["standard", "premium"] = "standard"
    cfg_scale: float | None = None
    output_format: Literal["png", "jpeg"] = "png"


@dataclass(frozen=True, slots=True)
class VideoRequest:
    """Generate a video from text, whatever the model family."""

    model_id: str
    prompt: str
    #: s3://bucket/prefix where Bedrock writes the result.
    output_s3_uri: str
    duration_seconds: int = 6
    fps: int = 24
    #: "WxH" (Nova Reel) — families with ratios get ``aspect_ratio``.
    dimension: str = "1280x720"
    aspect_ratio: str = "16:9"
    resolution: str = "720p"
    seed: int | None = None
    loop: bool = False
