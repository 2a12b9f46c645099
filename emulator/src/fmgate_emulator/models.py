"""The emulator's model catalogue: which Bedrock model ids exist and what each supports.

Capabilities are declared here, per model id, never guessed from the id's spelling. A request's
model id (plain id, inference-profile id, or ARN of either, percent-decoded) is resolved by
:func:`resolve_model`, which raises the ValidationException Bedrock gives for ids it refuses.

The cross-region inference profiles of a model (``profiles``: ``us.``, ``eu.``, ``apac.``,
``global.``) are declared for the models added from 2026 on, from fmgate's model table and its
sources; a prefix the model has no profile for is an invalid model id, as on Bedrock. The older
entries declare none (``None``): every prefix is taken for them (not modelled).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from fmgate_emulator.errors import INVALID_MODEL_ID, validation


class Modality(Enum):
    """What a model produces, hence which operations it answers."""

    CHAT = "chat"
    IMAGE = "image"
    VIDEO = "video"


class Reasoning(Enum):
    """How a chat model reasons: never, when asked (``thinking`` field), or always."""

    NONE = "none"
    ON_REQUEST = "on_request"
    ALWAYS = "always"


class RequestBody(Enum):
    """The native request body Bedrock builds for a chat model from Converse (and whose
    validator answers a field it does not know): Anthropic's Messages, OpenAI's Chat
    Completions (gpt-oss), or another provider's."""

    ANTHROPIC = "anthropic"
    OPENAI_CHAT = "openai_chat"
    OTHER = "other"


class ToolUse(Enum):
    """Whether a chat model takes ``toolConfig``: in ConverseStream too, in Converse only, or
    not at all (Bedrock's "Supported models and model features" table)."""

    STREAMING = "streaming"
    WHOLE = "whole"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class CacheSupport:
    """How a chat model takes prompt-cache checkpoints (``cachePoint`` blocks).

    The figures are those of fmgate's model table (docs/prompt-caching.md, "Facts").
    """

    #: Fewest prompt tokens before a checkpoint for it to be written to the cache.
    min_tokens: int
    #: TTLs a checkpoint may ask for.
    ttls: frozenset[str] = frozenset({"5m"})
    #: Takes a checkpoint in ``toolConfig.tools`` (Claude does, Nova does not).
    tools: bool = False


#: Amazon Nova: explicit checkpoints in system and messages, 5-minute TTL.
NOVA_CACHE = CacheSupport(min_tokens=1000)


def claude_cache(min_tokens: int, *ttls: str) -> CacheSupport:
    return CacheSupport(min_tokens=min_tokens, ttls=frozenset({"5m", *ttls}), tools=True)


class BodyFamily(Enum):
    """The native InvokeModel / StartAsyncInvoke body a media model takes."""

    TITAN_IMAGE = "titan-image"
    STABILITY = "stability"
    NOVA_REEL = "nova-reel"
    LUMA_RAY = "luma-ray"


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """One foundation model as the emulator knows it."""

    model_id: str
    modality: Modality
    #: Callable on demand only through a cross-region inference profile (``us.<id>`` etc.).
    profile_only: bool = False
    vision: bool = False
    documents: bool = False
    reasoning: Reasoning = Reasoning.NONE
    system_messages: bool = True
    #: Largest ``inferenceConfig.maxTokens`` accepted.
    max_output_tokens: int = 4096
    body_family: BodyFamily | None = None
    #: Prompt caching; ``None``: a ``cachePoint`` is refused.
    caching: CacheSupport | None = None
    #: ``toolChoice`` members taken beyond ``auto`` (``any``, ``tool``); others are refused.
    tool_choices: frozenset[str] = frozenset()
    #: Answers CountTokens (called by its foundation-model id).
    count_tokens: bool = False
    #: ``additionalModelRequestFields.anthropic_beta`` values taken; ``None``: not an Anthropic
    #: model, the field itself is unknown to it.
    anthropic_betas: frozenset[str] | None = None
    #: Tools (``toolConfig``); media models take none.
    tool_use: ToolUse = ToolUse.NONE
    #: ``serviceTier.type`` values taken (every model takes ``default``, the standard tier).
    service_tiers: frozenset[str] = frozenset({"default"})
    #: The native body behind Converse (how an unknown additional field is refused).
    request_body: RequestBody = RequestBody.OTHER
    #: ``thinking.type`` values taken (``enabled``, ``disabled``, ``adaptive``); empty: the
    #: model knows no ``thinking`` field.
    thinking_types: frozenset[str] = frozenset()
    #: Reasoning effort levels taken, least effort first; empty: none.
    efforts: tuple[str, ...] = ()
    #: Where the effort goes in additionalModelRequestFields: ``output_config``,
    #: ``reasoning_effort`` or ``reasoning_config`` (fmgate's model table names the same).
    effort_field: str | None = None
    #: The ``anthropic_beta`` flag the effort needs (Claude Opus 4.5: ``effort-2025-11-24``).
    effort_beta: str | None = None
    #: Structured outputs: ``outputConfig.textFormat`` (a JSON schema for the answer) and
    #: strict tools (``toolSpec.strict``); other models refuse both.
    structured_output: bool = False
    #: Cites documents sent with ``citations: {enabled: true}`` (fmgate's model table).
    citations: bool = False
    #: Prefixes of its cross-region inference profiles (``us.``, ``global.``, ...); ``None``:
    #: not modelled, every prefix is taken; empty: it has none.
    profiles: frozenset[str] | None = None

    @property
    def anthropic(self) -> bool:
        """An Anthropic model: Bedrock passes on its errors ("The model returned ...")."""
        return self.anthropic_betas is not None


#: The tiers of the models Bedrock serves on Priority and Flex as well (fmgate's model table).
ALL_TIERS = frozenset({"default", "priority", "flex"})
#: The thinking types of Claude models with extended thinking within a budget.
BUDGET_THINKING = frozenset({"enabled", "disabled"})
#: ... and of those that also think adaptively (Claude Opus 4.6, Sonnet 4.6).
ADAPTIVE_THINKING = BUDGET_THINKING | {"adaptive"}
#: The anthropic_beta Claude Opus 4.5 takes its effort with.
EFFORT_BETA = "effort-2025-11-24"


@dataclass(frozen=True, slots=True)
class ClaudeEffort:
    """A Claude model's ``output_config.effort`` levels, and the beta it needs them with."""

    levels: tuple[str, ...]
    beta: str | None = None

    @property
    def betas(self) -> tuple[str, ...]:
        return (self.beta,) if self.beta else ()


#: gpt-oss's reasoning efforts (its Chat Completions ``reasoning_effort``).
GPT_OSS_EFFORTS = ("low", "medium", "high")

PROFILE_PREFIXES = ("us.", "eu.", "apac.", "global.")


def _chat(
    model_id: str,
    max_output_tokens: int,
    *,
    profile_only: bool = False,
    vision: bool = False,
    documents: bool = False,
    reasoning: Reasoning = Reasoning.NONE,
    system_messages: bool = True,
    caching: CacheSupport | None = None,
    tool_choices: frozenset[str] = frozenset(),
    count_tokens: bool = False,
    anthropic_betas: frozenset[str] | None = None,
    tool_use: ToolUse = ToolUse.STREAMING,
    service_tiers: frozenset[str] = frozenset({"default"}),
    request_body: RequestBody | None = None,
    thinking_types: frozenset[str] | None = None,
    efforts: tuple[str, ...] = (),
    effort_field: str | None = None,
    effort_beta: str | None = None,
    structured_output: bool = False,
    citations: bool = False,
    profiles: frozenset[str] | None = None,
) -> ModelSpec:
    """A chat model; an Anthropic model (``anthropic_betas`` set) has Anthropic's body, and a
    model that reasons on request takes thinking ``enabled`` and ``disabled`` unless told."""
    if request_body is None:
        request_body = RequestBody.OTHER if anthropic_betas is None else RequestBody.ANTHROPIC
    if thinking_types is None:
        on_request = reasoning is Reasoning.ON_REQUEST
        thinking_types = BUDGET_THINKING if on_request else frozenset()
    return ModelSpec(
        model_id,
        Modality.CHAT,
        profile_only=profile_only,
        vision=vision,
        documents=documents,
        reasoning=reasoning,
        system_messages=system_messages,
        max_output_tokens=max_output_tokens,
        caching=caching,
        tool_choices=tool_choices,
        count_tokens=count_tokens,
        anthropic_betas=anthropic_betas,
        tool_use=tool_use,
        service_tiers=service_tiers,
        request_body=request_body,
        thinking_types=thinking_types,
        efforts=efforts,
        effort_field=effort_field,
        effort_beta=effort_beta,
        structured_output=structured_output,
        citations=citations,
        profiles=profiles,
    )


_ON_REQUEST = Reasoning.ON_REQUEST
_ALWAYS = Reasoning.ALWAYS
_WHOLE = ToolUse.WHOLE
_NO_TOOLS = ToolUse.NONE

#: Inference-profile prefixes (the models declaring them; see the module docstring).
NO_PROFILES: frozenset[str] = frozenset()
US_ONLY = frozenset({"us."})
US_EU_GLOBAL = frozenset({"us.", "eu.", "global."})
#: Claude Opus 4.6 also has a jp. profile, a prefix the emulator does not know.
US_EU_APAC_GLOBAL = frozenset({"us.", "eu.", "apac.", "global."})

#: Forced tool choices: Claude 3+ and Nova take both, Mistral Large only ``any``.
ANY_OR_NAMED = frozenset({"any", "tool"})
ANY_ONLY = frozenset({"any"})

#: The anthropic_beta values Bedrock takes per Claude model (fmgate's model table, sources there).
EFFICIENT_TOOL_USE = "token-efficient-tools-2025-02-19"
INTERLEAVED_THINKING = "interleaved-thinking-2025-05-14"
CONTEXT_1M = "context-1m-2025-08-07"
CONTEXT_MANAGEMENT = "context-management-2025-06-27"
OUTPUT_128K = "output-128k-2025-02-19"

MODELS: tuple[ModelSpec, ...] = (
    # Amazon Nova
    _chat("amazon.nova-micro-v1:0", 10000, caching=NOVA_CACHE, tool_choices=ANY_OR_NAMED),
    *(
        _chat(
            model_id,
            limit,
            profile_only=profile_only,
            vision=True,
            documents=True,
            caching=NOVA_CACHE,
            tool_choices=ANY_OR_NAMED,
            service_tiers=tiers,
        )
        for model_id, limit, profile_only, tiers in (
            ("amazon.nova-lite-v1:0", 10000, False, frozenset({"default"})),
            ("amazon.nova-pro-v1:0", 10000, False, ALL_TIERS),
            ("amazon.nova-premier-v1:0", 32000, True, ALL_TIERS),
        )
    ),
    _chat(
        "amazon.nova-2-lite-v1:0",
        10000,
        profile_only=True,
        vision=True,
        tool_choices=ANY_OR_NAMED,
        service_tiers=ALL_TIERS,
        profiles=US_EU_GLOBAL,
        efforts=("low", "medium", "high"),
        effort_field="reasoning_config",
    ),
    # Anthropic
    _chat(
        "anthropic.claude-3-haiku-20240307-v1:0",
        4096,
        vision=True,
        documents=True,
        tool_choices=ANY_OR_NAMED,
        anthropic_betas=frozenset(),
    ),
    _chat(
        "anthropic.claude-3-5-haiku-20241022-v1:0",
        8192,
        profile_only=True,
        documents=True,
        caching=claude_cache(2048),
        tool_choices=ANY_OR_NAMED,
        count_tokens=True,
        anthropic_betas=frozenset(),
        citations=True,
    ),
    _chat(
        "anthropic.claude-3-5-sonnet-20241022-v2:0",
        8192,
        profile_only=True,
        vision=True,
        documents=True,
        tool_choices=ANY_OR_NAMED,
        count_tokens=True,
        anthropic_betas=frozenset(),
        citations=True,
    ),
    *(
        _chat(
            model_id,
            limit,
            profile_only=True,
            vision=True,
            documents=True,
            reasoning=_ON_REQUEST,
            caching=caching,
            tool_choices=ANY_OR_NAMED,
            count_tokens=True,
            anthropic_betas=frozenset(betas),
            structured_output=structured,
            citations=True,
        )
        for model_id, limit, caching, betas, structured in (
            (
                "anthropic.claude-3-7-sonnet-20250219-v1:0",
                64000,
                claude_cache(1024),
                (EFFICIENT_TOOL_USE, OUTPUT_128K),
                False,
            ),
            (
                "anthropic.claude-sonnet-4-20250514-v1:0",
                64000,
                claude_cache(1024),
                (EFFICIENT_TOOL_USE, INTERLEAVED_THINKING, CONTEXT_1M),
                False,
            ),
            (
                "anthropic.claude-opus-4-1-20250805-v1:0",
                32000,
                claude_cache(1024),
                (EFFICIENT_TOOL_USE, INTERLEAVED_THINKING),
                False,
            ),
            (
                "anthropic.claude-sonnet-4-5-20250929-v1:0",
                64000,
                claude_cache(1024, "1h"),
                (EFFICIENT_TOOL_USE, INTERLEAVED_THINKING, CONTEXT_1M, CONTEXT_MANAGEMENT),
                True,
            ),
            (
                "anthropic.claude-haiku-4-5-20251001-v1:0",
                64000,
                claude_cache(4096, "1h"),
                (EFFICIENT_TOOL_USE, INTERLEAVED_THINKING, CONTEXT_MANAGEMENT),
                True,
            ),
        )
    ),
    *(
        _chat(
            model_id,
            limit,
            profile_only=True,
            vision=True,
            documents=True,
            reasoning=_ON_REQUEST,
            caching=claude_cache(min_tokens, "1h"),
            tool_choices=ANY_OR_NAMED,
            count_tokens=True,
            anthropic_betas=frozenset({EFFICIENT_TOOL_USE, INTERLEAVED_THINKING, *effort.betas}),
            citations=True,
            profiles=profiles,
            thinking_types=thinking,
            efforts=effort.levels,
            effort_field="output_config",
            effort_beta=effort.beta,
            structured_output=True,
        )
        for model_id, limit, min_tokens, profiles, thinking, effort in (
            (
                "anthropic.claude-opus-4-5-20251101-v1:0",
                64000,
                4096,
                US_EU_GLOBAL,
                BUDGET_THINKING,
                ClaudeEffort(("low", "medium", "high"), EFFORT_BETA),
            ),
            (
                "anthropic.claude-opus-4-6-v1",
                128000,
                4096,
                US_EU_APAC_GLOBAL,
                ADAPTIVE_THINKING,
                ClaudeEffort(("low", "medium", "high", "max")),
            ),
            (
                "anthropic.claude-sonnet-4-6",
                64000,
                2048,
                US_EU_GLOBAL,
                ADAPTIVE_THINKING,
                ClaudeEffort(("low", "medium", "high")),
            ),
        )
    ),
    # Meta Llama
    _chat("meta.llama3-8b-instruct-v1:0", 2048, tool_use=_NO_TOOLS),
    _chat("meta.llama3-70b-instruct-v1:0", 2048, tool_use=_NO_TOOLS),
    _chat("meta.llama3-1-8b-instruct-v1:0", 8192, profile_only=True, tool_use=_WHOLE),
    _chat("meta.llama3-1-70b-instruct-v1:0", 8192, profile_only=True, tool_use=_WHOLE),
    _chat("meta.llama3-2-11b-instruct-v1:0", 8192, profile_only=True, vision=True, tool_use=_WHOLE),
    _chat("meta.llama3-2-90b-instruct-v1:0", 8192, profile_only=True, vision=True, tool_use=_WHOLE),
    _chat("meta.llama3-3-70b-instruct-v1:0", 8192, profile_only=True, tool_use=_WHOLE),
    _chat(
        "meta.llama4-scout-17b-instruct-v1:0", 8192, profile_only=True, vision=True, tool_use=_WHOLE
    ),
    _chat(
        "meta.llama4-maverick-17b-instruct-v1:0",
        8192,
        profile_only=True,
        vision=True,
        tool_use=_WHOLE,
    ),
    # Mistral
    _chat("mistral.mistral-7b-instruct-v0:2", 8192, system_messages=False, tool_use=_NO_TOOLS),
    _chat("mistral.mixtral-8x7b-instruct-v0:1", 4096, system_messages=False, tool_use=_NO_TOOLS),
    _chat("mistral.mistral-large-2402-v1:0", 8192, tool_choices=ANY_ONLY, tool_use=_WHOLE),
    _chat("mistral.mistral-small-2402-v1:0", 8192, tool_use=_WHOLE),
    _chat("mistral.pixtral-large-2502-v1:0", 8192, profile_only=True, vision=True, tool_use=_WHOLE),
    _chat(
        "mistral.mistral-large-3-675b-instruct",
        8192,
        tool_use=_WHOLE,
        profiles=NO_PROFILES,
        structured_output=True,
    ),
    _chat(
        "mistral.magistral-small-2509",
        8192,
        reasoning=_ALWAYS,
        tool_use=_WHOLE,
        profiles=NO_PROFILES,
        structured_output=True,
    ),
    # DeepSeek, Cohere, AI21, OpenAI, Qwen
    _chat("deepseek.r1-v1:0", 32768, profile_only=True, reasoning=_ALWAYS, tool_use=_NO_TOOLS),
    _chat(
        "deepseek.v3-v1:0",
        8192,
        tool_use=_WHOLE,
        service_tiers=ALL_TIERS,
        structured_output=True,
    ),
    _chat("deepseek.v3.2", 8192, tool_use=_WHOLE, profiles=NO_PROFILES, structured_output=True),
    _chat("cohere.command-r-plus-v1:0", 4096),
    _chat("cohere.command-r-v1:0", 4096),
    _chat("ai21.jamba-1-5-large-v1:0", 4096),
    _chat("ai21.jamba-1-5-mini-v1:0", 4096),
    *(
        _chat(
            model_id,
            8192,
            reasoning=_ALWAYS,
            tool_use=_WHOLE,
            service_tiers=ALL_TIERS,
            request_body=RequestBody.OPENAI_CHAT,
            efforts=GPT_OSS_EFFORTS,
            effort_field="reasoning_effort",
            structured_output=True,
        )
        for model_id in ("openai.gpt-oss-120b-1:0", "openai.gpt-oss-20b-1:0")
    ),
    _chat(
        "qwen.qwen3-32b-v1:0",
        8192,
        tool_use=_WHOLE,
        service_tiers=ALL_TIERS,
        structured_output=True,
    ),
    *(
        _chat(
            model_id,
            8192,
            reasoning=_ALWAYS,
            tool_use=_WHOLE,
            profiles=NO_PROFILES,
            structured_output=True,
        )
        for model_id in ("openai.gpt-oss-safeguard-120b", "openai.gpt-oss-safeguard-20b")
    ),
    _chat(
        "qwen.qwen3-235b-a22b-2507-v1:0",
        8192,
        tool_use=_WHOLE,
        profiles=NO_PROFILES,
        structured_output=True,
    ),
    *(
        _chat(
            model_id,
            8192,
            tool_use=_WHOLE,
            service_tiers=ALL_TIERS,
            profiles=NO_PROFILES,
            structured_output=True,
        )
        for model_id in ("qwen.qwen3-coder-480b-a35b-v1:0", "qwen.qwen3-coder-30b-a3b-v1:0")
    ),
    # Moonshot, Z.AI, MiniMax, Google, Writer
    *(
        _chat(
            model_id,
            limit,
            reasoning=_ALWAYS,
            tool_use=_WHOLE,
            profiles=NO_PROFILES,
            structured_output=structured,
        )
        for model_id, limit, structured in (
            ("moonshot.kimi-k2-thinking", 16000, True),
            ("zai.glm-4.7", 8192, True),
            ("zai.glm-4.7-flash", 8192, True),
            ("minimax.minimax-m2", 8192, False),
        )
    ),
    *(
        _chat(
            model_id,
            limit,
            system_messages=False,
            tool_use=_NO_TOOLS,
            profiles=NO_PROFILES,
            structured_output=structured,
        )
        for model_id, limit, structured in (
            ("google.gemma-3-27b-it", 8192, True),
            ("google.gemma-3-12b-it", 8192, True),
            ("google.gemma-3-4b-it", 4096, False),
        )
    ),
    *(
        _chat(model_id, 8192, profile_only=True, tool_use=_WHOLE, profiles=US_ONLY)
        for model_id in ("writer.palmyra-x4-v1:0", "writer.palmyra-x5-v1:0")
    ),
    # Image generation (InvokeModel)
    ModelSpec(
        "amazon.titan-image-generator-v2:0", Modality.IMAGE, body_family=BodyFamily.TITAN_IMAGE
    ),
    ModelSpec("amazon.nova-canvas-v1:0", Modality.IMAGE, body_family=BodyFamily.TITAN_IMAGE),
    ModelSpec("stability.sd3-5-large-v1:0", Modality.IMAGE, body_family=BodyFamily.STABILITY),
    ModelSpec(
        "stability.stable-image-ultra-v1:1", Modality.IMAGE, body_family=BodyFamily.STABILITY
    ),
    ModelSpec("stability.stable-image-core-v1:1", Modality.IMAGE, body_family=BodyFamily.STABILITY),
    # Video generation (StartAsyncInvoke)
    ModelSpec("amazon.nova-reel-v1:0", Modality.VIDEO, body_family=BodyFamily.NOVA_REEL),
    ModelSpec("amazon.nova-reel-v1:1", Modality.VIDEO, body_family=BodyFamily.NOVA_REEL),
    ModelSpec("luma.ray-v2:0", Modality.VIDEO, body_family=BodyFamily.LUMA_RAY),
)

MODELS_BY_ID: dict[str, ModelSpec] = {spec.model_id: spec for spec in MODELS}


@dataclass(frozen=True, slots=True)
class ResolvedModel:
    """A model id from a request, resolved against the catalogue."""

    #: The id as the caller sent it (decoded), e.g. ``us.anthropic...`` or an ARN.
    requested_id: str
    spec: ModelSpec
    #: Called through a cross-region inference profile.
    via_profile: bool


def on_demand_unsupported(model_id: str) -> str:
    """Bedrock's message for a profile-only model called by its plain id."""
    return (
        f"Invocation of model ID {model_id} with on-demand throughput isn't supported. Retry "
        "your request with the ID or ARN of an inference profile that contains this model."
    )


def split_arn(identifier: str) -> str:
    """``arn:aws:bedrock:<region>:<account>:<type>/<id>`` -> ``<id>``; other ids unchanged."""
    if not identifier.startswith("arn:"):
        return identifier
    parts = identifier.split(":", 5)
    if len(parts) != 6 or parts[2] != "bedrock" or "/" not in parts[5]:
        raise validation(INVALID_MODEL_ID)
    resource_type, _, resource_id = parts[5].partition("/")
    if resource_type not in ("foundation-model", "inference-profile"):
        raise validation(INVALID_MODEL_ID)
    return resource_id


def identify_model(requested_id: str) -> ResolvedModel:
    """The model a (percent-decoded) identifier names, or Bedrock's ValidationException; an
    operation that does not run the model (CountTokens) takes profile-only models by plain id."""
    identifier = split_arn(requested_id)
    prefix = next((p for p in PROFILE_PREFIXES if identifier.startswith(p)), None)
    base_id = identifier.removeprefix(prefix) if prefix else identifier
    spec = MODELS_BY_ID.get(base_id)
    if spec is None:
        raise validation(INVALID_MODEL_ID)
    if prefix and spec.modality is not Modality.CHAT:
        raise validation(INVALID_MODEL_ID)
    if prefix and spec.profiles is not None and prefix not in spec.profiles:
        raise validation(INVALID_MODEL_ID)  # no such inference profile
    return ResolvedModel(requested_id=requested_id, spec=spec, via_profile=prefix is not None)


def resolve_model(requested_id: str) -> ResolvedModel:
    """The model to run for an identifier: :func:`identify_model`, and a profile-only model
    only through an inference profile."""
    model = identify_model(requested_id)
    if model.spec.profile_only and not model.via_profile:
        raise validation(on_demand_unsupported(model.spec.model_id))
    return model
