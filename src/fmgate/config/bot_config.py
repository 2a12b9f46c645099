"""What one bot is: a discriminated union of the three bot kinds.

::

    BotConfig = ChatBotConfig | ImageBotConfig | VideoBotConfig     (picked by ``kind``)

    BotConfigBase     what every kind has: name, model, region, Poe key and listing, pricing
      ChatBotConfig   kind: chat (the default): conversation, generation, attachments, fallbacks
      ImageBotConfig  kind: image: the `image` section (required)
      VideoBotConfig  kind: video: the `video` section (required)

A catalog entry without ``kind`` is a chat bot. A field belongs to the kinds that use it, so a
chat field on an image bot is an error, and code that needs a kind's field narrows first
(``isinstance(config, ChatBotConfig)``). Capabilities are declared here, never guessed from
model-id substrings: a vision model says ``supports_images: true``, an image model says which
request-body ``family`` it speaks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Literal, Self, TypeAlias

from pydantic import Discriminator, Field, Tag, model_validator

from fmgate.config.fields import (
    AWS_REGION_PATTERN,
    BOT_NAME_PATTERN,
    BedrockModelId,
    FieldConflict,
    SecretRef,
    StrictModel,
)
from fmgate.config.guardrail import GuardrailSettings
from fmgate.config.media import ImageDefaults, VideoDefaults
from fmgate.config.pricing import Pricing
from fmgate.config.reasoning import ReasoningControls
from fmgate.config.response_schema import ResponseSchema
from fmgate.core.model_request import CacheTTL, ReasoningEffort, ServiceTier, ThinkingMode

BotKind = Literal["chat", "image", "video"]
#: Whether a model takes tools (Converse ``toolConfig``): in ConverseStream too (``streaming``),
#: in Converse only (``whole``: ConverseStream refuses them), or not at all (``none``).
ToolUse = Literal["streaming", "whole", "none"]
#: A Converse ``toolChoice`` beyond ``auto`` that only some models take: ``any`` (call one of
#: the tools) or ``tool`` (call this one).
ForcedToolChoice = Literal["any", "tool"]
#: The kind of a catalog entry that does not say.
DEFAULT_KIND: BotKind = "chat"


class AttachmentLimits(StrictModel):
    """Caps on what the gateway downloads for one request."""

    max_file_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest single file.")
    max_total_bytes: int = Field(
        30 * 1024 * 1024, ge=1024, description="All files of one request together."
    )
    max_files: int = Field(20, ge=1, description="Files used from one message.")
    text_budget_chars: int = Field(
        200_000, ge=1000, description="Characters of expanded text attachments, all together."
    )
    max_image_pixels: int = Field(
        8000 * 8000, ge=64 * 64, description="Largest image (width x height) accepted."
    )
    download_timeout_seconds: float = Field(20.0, gt=0, description="Per attachment download.")


class PromptCaching(StrictModel):
    """Bedrock prompt caching: the checkpoints a chat bot places on its own, and what the model
    takes (``fmgate models add`` writes both from the model table; see docs/prompt-caching.md).

    With ``mode: auto`` and a model that takes checkpoints (``min_tokens`` set), every request
    gets one after the tool definitions (when the model takes one there), one after the system
    prompt, and two in the conversation: at the end of the previous user turn (read back from
    the cache) and at the end of the last one (written for the next turn). A checkpoint whose
    prefix is shorter than ``min_tokens`` (a local estimate) is left out. A model without
    ``min_tokens`` never receives a checkpoint.
    """

    mode: Literal["auto", "off"] = Field(
        "auto", description="auto: the gateway places checkpoints; off: it sends none."
    )
    ttl: CacheTTL = Field(
        "5m", description="How long a cached prefix lives after its last use (5m or 1h)."
    )
    min_tokens: int | None = Field(
        None,
        ge=1,
        description="The model's fewest prompt tokens before a checkpoint (the model table's); "
        "None: the model takes no checkpoints, none is ever sent.",
    )
    ttls: tuple[CacheTTL, ...] = Field(
        ("5m",), min_length=1, description="The TTLs the model takes (the model table's)."
    )
    tools: bool = Field(
        False,
        description="The model takes a checkpoint after the tool definitions (Claude: yes; "
        "Nova: no).",
    )

    @property
    def active(self) -> bool:
        """Whether requests get checkpoints: on, and the model takes them."""
        return self.mode == "auto" and self.min_tokens is not None

    @model_validator(mode="after")
    def _ttl_is_taken(self) -> Self:
        if self.min_tokens is not None and self.ttl not in self.ttls:
            raise FieldConflict(
                "ttl", f"the model takes {', '.join(self.ttls)} only, not ttl {self.ttl}"
            )
        return self


class FallbackTarget(StrictModel):
    """Another model, the same model elsewhere, or the same model on another service tier that
    may answer when the bot's own cannot.

    List other regions or cross-region inference profiles of the same model first, then other
    models. A fallback receives the very request the bot's model would have received, so it
    must accept the bot's capabilities (images, documents, reasoning) as configured.
    ``{service_tier: default}`` alone is the bot's model on the standard tier: the way out when
    Bedrock throttles a ``flex`` bot.
    """

    model_id: BedrockModelId | None = Field(
        None,
        min_length=1,
        description="Bedrock model id, inference-profile id or ARN to call; None = the bot's.",
    )
    aws_region: str | None = Field(
        None, pattern=AWS_REGION_PATTERN, description="Region to call; None = the bot's region."
    )
    service_tier: ServiceTier | None = Field(
        None,
        description="Service tier to ask for (Converse serviceTier); None = none named, "
        "Bedrock's standard tier (a fallback does not inherit the bot's tier).",
    )
    label: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="Name users are shown when this fallback answers; None = the model id "
        "(and its tier).",
    )

    @model_validator(mode="after")
    def _names_somewhere_else(self) -> Self:
        if self.model_id is None and self.aws_region is None and self.service_tier is None:
            raise FieldConflict(
                "model_id", "a fallback names a model_id, an aws_region or a service_tier"
            )
        return self


class BotConfigBase(StrictModel):
    """What every bot has, whatever its kind: a Bedrock model deployed behind the fronts."""

    bot_name: str = Field(pattern=BOT_NAME_PATTERN, description="Served at POST /bot/<bot_name>.")
    model_id: BedrockModelId = Field(
        min_length=1,
        description="Bedrock model id, inference-profile id (us./eu./apac./global.) or ARN.",
    )
    kind: BotKind = Field(
        DEFAULT_KIND, description="chat | image | video: picks the bot class and its fields."
    )
    aws_region: str = Field(
        "us-east-1",
        pattern=AWS_REGION_PATTERN,
        description="AWS region whose Bedrock Runtime serves the model.",
    )
    access_key: SecretRef | None = Field(
        None, description="Reference to the Poe access key for this bot (never a literal)."
    )
    description: str = Field("", description="One line for listings.")
    introduction_message: str = Field("", description="Shown by Poe when a chat starts.")
    custom_class: str | None = Field(
        None,
        pattern=r"^python:[A-Za-z_][\w.]*:[A-Za-z_]\w*$",
        description="python:module:Class to use instead of the kind's class.",
    )
    allow_attachments: bool = Field(
        True,
        description="Let users attach files on Poe (only chat bots read them: image and video "
        "bots use the message text).",
    )
    user_controls: bool = Field(
        True,
        description="Offer parameter controls on Poe (chat: temperature, output tokens, "
        "thinking budget, thinking mode, reasoning effort; image: aspect ratio, negative "
        "prompt, count, seed; video: seed).",
    )
    pricing: Pricing = Field(Pricing(), description="What Poe users are charged (milli-cents).")


class ChatBotConfig(BotConfigBase):
    """A chat bot (``kind: chat``, the default): a conversation in, text out (Converse)."""

    kind: Literal["chat"] = "chat"

    # Conversation handling
    supports_system_messages: bool = Field(
        True, description="Send the system prompt as Converse `system`; else fold into user turn."
    )
    system_prompt: str | None = Field(None, description="Operator's system prompt, always sent.")
    expand_text_attachments: bool = Field(
        True, description="Fetch text attachments and place them in the conversation."
    )
    enable_image_comprehension: bool = Field(
        False, description="Ask Poe to describe images (for models without vision)."
    )
    supports_images: bool = Field(False, description="Model takes Converse image blocks.")
    supports_documents: bool = Field(False, description="Model takes Converse document blocks.")
    citations: bool = Field(
        False,
        description="Send documents with citations enabled, for models that cite (the model "
        "table's citations): the answer quotes the passages it rests on (Poe: numbered "
        "footnotes; /v1/messages: Anthropic's citations). Text files then go as documents, to "
        "be citable. On /v1/messages each document's own citations setting decides.",
    )
    tool_use: ToolUse = Field(
        "streaming",
        description="Model takes tools: streaming (ConverseStream too), whole (Converse only: "
        "a streaming bot asks Converse when tools are offered), none (tools are dropped and "
        "the user told).",
    )
    attachments: AttachmentLimits = Field(
        AttachmentLimits(), description="Download caps for attachments (see below)."
    )

    # Generation
    streaming: bool = Field(True, description="Use ConverseStream; else Converse, one text.")
    max_tokens: int = Field(2048, ge=1, description="Default output cap.")
    max_tokens_limit: int = Field(8192, ge=1, description="Largest output cap a user may ask.")
    temperature: float | None = Field(
        None, ge=0, le=2, description="Default temperature; None = the model's default."
    )
    top_p: float | None = Field(
        None, ge=0, le=1, description="Nucleus sampling; not sent with extended thinking."
    )
    temperature_limit: float = Field(1.0, gt=0, le=2, description="Model's largest temperature.")
    stop_sequences: tuple[str, ...] = Field((), description="Always-applied stop sequences.")
    optimize_latency: bool = Field(False, description="Send performanceConfig.latency=optimized.")
    enable_reasoning: bool = Field(False, description="Request extended thinking.")
    reasoning_budget: int = Field(4096, ge=1024, description="Thinking budget in tokens.")
    thinking_mode: ThinkingMode = Field(
        "budget",
        description="With enable_reasoning: think within reasoning_budget (budget), or as long "
        "as the model judges (adaptive: models whose reasoning_controls.thinking has it).",
    )
    reasoning_effort: ReasoningEffort | None = Field(
        None,
        description="The bot's reasoning effort (one of reasoning_controls.efforts), sent in "
        "the model's effort_field; None: the model's own default. Users may pick another (Poe "
        "drop-down, reasoning_effort, output_config.effort).",
    )
    reasoning_controls: ReasoningControls = Field(
        ReasoningControls(),
        description="The reasoning controls the model takes (the model table's; see below).",
    )
    additional_model_request_fields: dict[str, object] = Field(
        default_factory=dict,
        description="Extra Converse additionalModelRequestFields (model-specific knobs).",
    )
    prompt_caching: PromptCaching | None = Field(
        None,
        description="Bedrock prompt caching (see below); None: the model takes no checkpoints.",
    )
    forced_tool_choices: tuple[ForcedToolChoice, ...] = Field(
        (),
        description="The tool choices beyond auto the model takes (Converse toolChoice any / "
        "tool; the model table's); a caller asking for another is refused.",
    )
    count_tokens: bool = Field(
        False,
        description="The model answers Bedrock CountTokens (the model table's): "
        "/v1/messages/count_tokens, the usage estimate of a broken stream and the billing "
        "split (the system prompt's tokens, in the log line and the ledger) use it.",
    )
    anthropic_betas: tuple[str, ...] = Field(
        (),
        description="Anthropic beta flags Bedrock takes for the model "
        "(additionalModelRequestFields.anthropic_beta; the model table's); a caller's others "
        "are dropped.",
    )

    structured_output: bool = Field(
        False,
        description="The model takes Bedrock structured outputs (the model table's): a JSON "
        "schema for the answer (Converse outputConfig.textFormat) and strict tools "
        "(ToolSpecification.strict). Without it a caller's JSON schema is asked for in the "
        "system prompt instead (answered with X-Structured-Output: instructed) and a tool's "
        "strict is not sent.",
    )
    response_schema: ResponseSchema | None = Field(
        None,
        description="Every answer is JSON this schema describes (see below); needs "
        "structured_output. A compatible-API caller's own response format replaces it.",
    )

    service_tier: ServiceTier | None = Field(
        None,
        description="Bedrock service tier to ask for (Converse serviceTier): default, priority "
        "(faster, at a premium) or flex (slower, at a discount; Bedrock throttles it first), "
        "for models that offer it (the model table's service_tiers); None: none named (the "
        "standard tier). Priced with pricing.service_tiers.",
    )

    # Moderation
    guardrail: GuardrailSettings | None = Field(
        None,
        description="A Bedrock guardrail every request runs under (see below); None: none.",
    )

    # Resilience
    fallbacks: tuple[FallbackTarget, ...] = Field(
        (),
        description="Where to send the request, in order, when the model is throttled, "
        "unavailable, not ready or too slow before answering.",
    )
    announce_fallback: bool = Field(
        True, description="Tell the user which fallback answered, and why."
    )

    @model_validator(mode="after")
    def _fallbacks_are_distinct(self) -> Self:
        seen = {(self.model_id, self.aws_region, self.service_tier)}
        for target in self.fallbacks:
            model_id = target.model_id or self.model_id
            place = (model_id, target.aws_region or self.aws_region, target.service_tier)
            if place in seen:
                tier = f" on tier {target.service_tier}" if target.service_tier else ""
                raise FieldConflict(
                    "fallbacks",
                    f"fallback {model_id} in {place[1]}{tier} repeats the bot's model or an "
                    "earlier fallback",
                )
            seen.add(place)
        return self

    @model_validator(mode="after")
    def _tiers_are_priced(self) -> Self:
        """A priced bot that asks for priority or flex (itself or a fallback) says what that
        tier costs: Bedrock's tiers have prices of their own."""
        if not self.pricing.is_priced:
            return self
        asked = [("service_tier", self.service_tier)]
        asked += [("fallbacks", target.service_tier) for target in self.fallbacks]
        for where, tier in asked:
            if tier in ("priority", "flex") and tier not in self.pricing.service_tiers:
                raise FieldConflict(
                    where,
                    f"service tier {tier} is asked for but pricing.service_tiers has no {tier} "
                    "prices (write them from the Bedrock pricing page)",
                )
        return self

    @model_validator(mode="after")
    def _schema_is_native(self) -> Self:
        """A bot-level schema is always enforced by the model, never only asked for."""
        if self.response_schema is not None and not self.structured_output:
            raise FieldConflict(
                "response_schema",
                "a response schema needs a model with structured outputs (structured_output: "
                "true, as the model table says)",
            )
        return self

    @model_validator(mode="after")
    def _citations_have_documents(self) -> Self:
        if self.citations and not self.supports_documents:
            raise FieldConflict(
                "citations",
                "citations need supports_documents: true (documents are what the model cites)",
            )
        return self

    @model_validator(mode="after")
    def _limits_are_consistent(self) -> Self:
        if self.max_tokens > self.max_tokens_limit:
            raise FieldConflict("max_tokens", "max_tokens is larger than max_tokens_limit")
        within_budget = self.enable_reasoning and self.thinking_mode == "budget"
        if within_budget and self.reasoning_budget >= self.max_tokens_limit:
            raise FieldConflict(
                "reasoning_budget", "reasoning_budget must be below max_tokens_limit"
            )
        return self

    @model_validator(mode="after")
    def _reasoning_is_taken(self) -> Self:
        """The bot's thinking mode and effort are ones its reasoning_controls say the model
        takes (a thinking budget is not checked here: catalogs from before
        reasoning_controls have enable_reasoning alone; ``fmgate validate`` checks it)."""
        controls = self.reasoning_controls
        if self.thinking_mode == "adaptive":
            if not self.enable_reasoning:
                raise FieldConflict(
                    "thinking_mode",
                    "thinking_mode adaptive is a way of extended thinking: set "
                    "enable_reasoning: true",
                )
            if "adaptive" not in controls.thinking:
                raise FieldConflict(
                    "thinking_mode",
                    "the model takes no adaptive thinking (reasoning_controls.thinking has no "
                    "adaptive)",
                )
        effort = self.reasoning_effort
        if effort is not None and effort not in controls.efforts:
            taken = ", ".join(controls.efforts) or "none"
            raise FieldConflict(
                "reasoning_effort",
                f"the model takes no reasoning effort {effort} (reasoning_controls.efforts: "
                f"{taken})",
            )
        return self


class ImageBotConfig(BotConfigBase):
    """An image bot (``kind: image``): a prompt in, generated images out (InvokeModel)."""

    kind: Literal["image"] = "image"
    image: ImageDefaults = Field(description="The model's body family and image defaults.")


class VideoBotConfig(BotConfigBase):
    """A video bot (``kind: video``): a prompt in, a video out (StartAsyncInvoke to S3)."""

    kind: Literal["video"] = "video"
    video: VideoDefaults = Field(description="The model's body family, S3 output and defaults.")


#: Each kind's class (the loader validates an entry with its kind's class).
BOT_CONFIG_TYPES: Mapping[BotKind, type[ChatBotConfig | ImageBotConfig | VideoBotConfig]] = {
    "chat": ChatBotConfig,
    "image": ImageBotConfig,
    "video": VideoBotConfig,
}


def bot_kind(value: object) -> str | None:
    """The union's discriminator: a bot's ``kind``; a mapping without one is a chat bot."""
    if isinstance(value, BotConfigBase):
        return value.kind
    kind = value.get("kind", DEFAULT_KIND) if isinstance(value, Mapping) else None
    return kind if isinstance(kind, str) else None


#: Any bot: the rest of the code takes this, and narrows when it needs a kind's own fields.
BotConfig: TypeAlias = Annotated[
    Annotated[ChatBotConfig, Tag("chat")]
    | Annotated[ImageBotConfig, Tag("image")]
    | Annotated[VideoBotConfig, Tag("video")],
    Discriminator(bot_kind),
]
