"""The catalog's schema: what one bot is, and the gateway-wide settings.

A catalog file (YAML) has ``gateway`` settings, ``defaults`` applied to every bot, named
``templates`` (which may ``extends`` another template), and ``bots``. Each bot entry names a
template (or none) and overrides fields; the loader merges defaults <- template chain <- entry
and validates the result as a :class:`BotConfig`. Unknown fields are errors everywhere.

Capabilities are declared here, never guessed from model-id substrings: a vision model says
``supports_images: true``, an image model says which request-body ``family`` it speaks.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

#: A reference to a secret, never the secret itself: ``env:NAME``, ``file:/path`` or
#: ``aws-secretsmanager:SECRET_ID#json_key`` (``#json_key`` optional: whole string secret).
SECRET_REF_PATTERN = r"^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+|aws-secretsmanager:[^#]+(#.+)?)$"  # noqa: S105 (a pattern, not a secret)
SecretRef = Annotated[str, Field(pattern=SECRET_REF_PATTERN)]

BOT_NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
AWS_REGION_PATTERN = r"^[a-z]{2}(-gov)?-[a-z]+-\d$"

#: Bedrock model ids: ``provider.model-name-vN:M`` (optionally ``:context`` such as ``:18k``),
#: the same behind a cross-region inference-profile prefix (``us.``, ``eu.``, ``apac.``,
#: ``global.``, ...), or a Bedrock ARN (foundation model, inference profile, provisioned model...).
MODEL_ID_PATTERN = re.compile(
    r"(?:(?:us|us-gov|eu|apac|jp|au|ca|global)\.)?[a-z0-9-]+\.[a-z0-9][a-z0-9._-]*(?::[a-z0-9]+){0,2}"
    r"|arn:aws(?:-[a-z]+)*:bedrock:[a-z0-9-]+:\d{0,12}:[a-z-]+/[A-Za-z0-9._:/-]+"
)


def check_model_id(model_id: str) -> str:
    """Reject strings that cannot be a Bedrock model id (syntax only: no AWS call)."""
    if MODEL_ID_PATTERN.fullmatch(model_id) is None:
        raise ValueError(
            "not a Bedrock model id: expected provider.model-vN:M (amazon.nova-pro-v1:0), "
            "an inference-profile id (us.anthropic.claude-sonnet-4-5-20250929-v1:0) or an ARN"
        )
    return model_id


BedrockModelId = Annotated[str, AfterValidator(check_model_id)]


class FieldConflict(ValueError):
    """A rule across fields failed; ``field`` names the field to fix (used in error reports)."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


BotKind = Literal["chat", "image", "video"]
ImageFamily = Literal["titan-image", "nova-canvas", "stability"]
VideoFamily = Literal["nova-reel", "luma-ray"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pricing(StrictModel):
    """Prices in Poe's unit, US milli-cents (1/1000 of a cent). 0 means "not charged"."""

    input_token: float = Field(0.0, ge=0, description="Per input (prompt) token.")
    output_token: float = Field(0.0, ge=0, description="Per output (completion) token.")
    cache_read_token: float = Field(0.0, ge=0, description="Per prompt-cache read token.")
    cache_write_token: float = Field(0.0, ge=0, description="Per prompt-cache write token.")
    image_input: float = Field(0.0, ge=0, description="Per image attachment analysed.")
    image_output: float = Field(0.0, ge=0, description="Per image generated.")
    video_second: float = Field(0.0, ge=0, description="Per second of video generated.")
    minimum: float = Field(0.0, ge=0, description="Smallest charge for a successful request.")
    on_failure: Literal["charge_delivered", "charge_nothing"] = Field(
        "charge_delivered",
        description="A request that failed or was cancelled part-way: charge what was delivered "
        "(tokens used, media generated; never the minimum), or nothing.",
    )
    authorize: bool = Field(
        False,
        description="Authorize the expected cost with Poe before calling the model "
        "(for expensive image/video bots); the actual cost is captured afterwards.",
    )

    @property
    def is_priced(self) -> bool:
        return any(
            v > 0
            for v in (
                self.input_token,
                self.output_token,
                self.image_output,
                self.video_second,
                self.image_input,
                self.minimum,
            )
        )


class ImageDefaults(StrictModel):
    """Defaults for image bots; Poe parameter controls may override some per request."""

    family: ImageFamily = Field(description="Request-body family the model speaks.")
    aspect_ratios: tuple[str, ...] = Field(
        ("1:1", "16:9", "9:16", "4:3", "3:4"),
        description="Aspect ratios offered to users ('W:H'); the first is the default.",
    )
    base_size: int = Field(1024, ge=256, le=4096, description="Long side in pixels.")
    count: int = Field(1, ge=1, le=5, description="Images per request.")
    quality: Literal["standard", "premium"] = Field(
        "standard", description="Titan/Nova Canvas quality tier (premium costs more)."
    )
    cfg_scale: float | None = Field(
        None, ge=1.1, le=10.0, description="Prompt adherence; None = the model's default."
    )
    negative_prompt: str | None = Field(None, description="What the image should not show.")
    output_format: Literal["png", "jpeg"] = Field("png", description="Image file format.")


class VideoDefaults(StrictModel):
    """Defaults for video bots (asynchronous generation to S3)."""

    family: VideoFamily = Field(description="Request-body family the model speaks.")
    output_s3_uri: str = Field(
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        description="Where Bedrock writes results (s3://bucket/prefix).",
    )
    duration_seconds: int = Field(6, ge=1, le=120, description="Video length in seconds.")
    fps: int = Field(24, ge=1, le=60, description="Frames per second (Nova Reel).")
    dimension: str = Field(
        "1280x720", pattern=r"^\d{2,5}x\d{2,5}$", description="'WxH' (Nova Reel)."
    )
    aspect_ratio: str = Field("16:9", pattern=r"^\d{1,2}:\d{1,2}$", description="'W:H' (Luma Ray).")
    resolution: str = Field("720p", description="Output resolution (Luma Ray: 540p, 720p).")
    poll_interval_seconds: float = Field(
        2.0, gt=0, le=60, description="How often to ask Bedrock whether the video is ready."
    )
    timeout_seconds: float = Field(900.0, gt=0, description="Give up waiting after this long.")


class AttachmentLimits(StrictModel):
    """Caps on what the gateway downloads for one request."""

    max_file_bytes: int = Field(10 * 1024 * 1024, ge=1024, description="Largest single file.")
    max_total_bytes: int = Field(
        30 * 1024 * 1024, ge=1024, description="All files of one request together."
    )
    max_files: int = Field(20, ge=1, description="Files used from one message.")
    #: Characters of expanded text attachments placed into the conversation, all files together.
    text_budget_chars: int = Field(
        200_000, ge=1000, description="Characters of expanded text attachments, all together."
    )
    max_image_pixels: int = Field(
        8000 * 8000, ge=64 * 64, description="Largest image (width x height) accepted."
    )
    download_timeout_seconds: float = Field(20.0, gt=0, description="Per attachment download.")


class FallbackTarget(StrictModel):
    """Another model (or the same model elsewhere) that may answer when the bot's own cannot.

    List other regions or cross-region inference profiles of the same model first, then other
    models. A fallback receives the very request the bot's model would have received, so it
    must accept the bot's capabilities (images, documents, reasoning) as configured.
    """

    model_id: BedrockModelId = Field(
        min_length=1, description="Bedrock model id, inference-profile id or ARN to call."
    )
    aws_region: str | None = Field(
        None, pattern=AWS_REGION_PATTERN, description="Region to call; None = the bot's region."
    )
    label: str | None = Field(
        None,
        min_length=1,
        max_length=80,
        description="Name users are shown when this fallback answers; None = the model id.",
    )


class BotConfig(StrictModel):
    """One bot: a Bedrock model deployed behind the gateway's fronts."""

    bot_name: str = Field(pattern=BOT_NAME_PATTERN, description="Served at POST /bot/<bot_name>.")
    model_id: BedrockModelId = Field(
        min_length=1,
        description="Bedrock model id, inference-profile id (us./eu./apac./global.) or ARN.",
    )
    kind: BotKind = Field("chat", description="chat | image | video: picks the bot class.")
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

    # Conversation handling
    supports_system_messages: bool = Field(
        True, description="Send the system prompt as Converse `system`; else fold into user turn."
    )
    system_prompt: str | None = Field(None, description="Operator's system prompt, always sent.")
    allow_attachments: bool = Field(True, description="Let users attach files on Poe.")
    expand_text_attachments: bool = Field(
        True, description="Fetch text attachments and place them in the conversation."
    )
    enable_image_comprehension: bool = Field(
        False, description="Ask Poe to describe images (for models without vision)."
    )
    supports_images: bool = Field(False, description="Model takes Converse image blocks.")
    supports_documents: bool = Field(False, description="Model takes Converse document blocks.")
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
    additional_model_request_fields: dict[str, object] = Field(
        default_factory=dict,
        description="Extra Converse additionalModelRequestFields (model-specific knobs).",
    )
    user_controls: bool = Field(True, description="Offer temperature/max-tokens controls on Poe.")

    # Output kinds
    image: ImageDefaults | None = Field(None, description="Required for image bots.")
    video: VideoDefaults | None = Field(None, description="Required for video bots.")

    pricing: Pricing = Field(Pricing(), description="What Poe users are charged (milli-cents).")

    # Resilience
    fallbacks: tuple[FallbackTarget, ...] = Field(
        (),
        description="Chat bots: where to send the request, in order, when the model is "
        "throttled, unavailable, not ready or too slow before answering.",
    )
    announce_fallback: bool = Field(
        True, description="Tell the user which fallback answered, and why."
    )

    @model_validator(mode="after")
    def _fallbacks_are_distinct(self) -> Self:
        if self.fallbacks and self.kind != "chat":
            raise FieldConflict("fallbacks", "fallbacks are supported for chat bots only")
        seen = {(self.model_id, self.aws_region)}
        for target in self.fallbacks:
            place = (target.model_id, target.aws_region or self.aws_region)
            if place in seen:
                raise FieldConflict(
                    "fallbacks",
                    f"fallback {target.model_id} in {place[1]} repeats the bot's model or an "
                    "earlier fallback",
                )
            seen.add(place)
        return self

    @model_validator(mode="after")
    def _kind_needs_its_section(self) -> Self:
        if self.kind == "image" and self.image is None:
            raise FieldConflict(
                "image", "an image bot needs an `image` section (with its `family`)"
            )
        if self.kind == "video" and self.video is None:
            raise FieldConflict("video", "a video bot needs a `video` section (with its `family`)")
        if self.kind == "chat" and (self.image is not None or self.video is not None):
            section = "image" if self.image is not None else "video"
            raise FieldConflict(section, "a chat bot takes no `image`/`video` section")
        if self.kind == "image" and self.video is not None:
            raise FieldConflict("video", "an image bot takes no `video` section")
        if self.kind == "video" and self.image is not None:
            raise FieldConflict("image", "a video bot takes no `image` section")
        if self.max_tokens > self.max_tokens_limit:
            raise FieldConflict("max_tokens", "max_tokens is larger than max_tokens_limit")
        if self.enable_reasoning and self.reasoning_budget >= self.max_tokens_limit:
            raise FieldConflict(
                "reasoning_budget", "reasoning_budget must be below max_tokens_limit"
            )
        return self


class PoeSettings(StrictModel):
    """How the gateway talks to Poe's own APIs (cost, file upload)."""

    api_base_url: str = Field("https://api.poe.com/", description="Cost API base URL.")
    upload_base_url: str = Field(
        "https://www.quora.com/poe_api/", description="File-upload API base URL."
    )
    attachment_hosts: tuple[str, ...] = Field(
        ("pfst.cf2.poecdn.net", "qph.cf2.poecdn.net", "psc2.cf2.poecdn.net"),
        description="Hosts attachments may be downloaded from (exact host names).",
    )
    allow_without_key: bool = Field(
        False, description="DEV ONLY: serve bots that have no access key."
    )
    settings_base_url: str = Field(
        "https://api.poe.com/bot/",
        description="Where `fmgate poe sync` sends bot settings (fastapi_poe's sync endpoint).",
    )


class EmulatorSettings(StrictModel):
    """The embedded Bedrock emulator used when no AWS credentials are configured."""

    enabled: Literal["auto", "always", "never"] = Field(
        "auto", description="auto: only when no AWS credentials or endpoint are configured."
    )
    profile: Literal["fast", "realistic"] = Field(
        "realistic", description="Token pacing: realistic latency, or as fast as possible."
    )


class RequestLimits(StrictModel):
    """Caps on what one caller may send and how often (hostile or runaway clients).

    Size caps answer 413, shape caps 400, and the per-user limits (keyed by the caller's user
    id and the bot) answer with a retryable error event. Defaults are generous: no real Poe
    conversation comes near them.
    """

    max_request_bytes: int = Field(
        4 * 1024 * 1024, ge=1024, description="Largest request body (413 above it)."
    )
    body_timeout_seconds: float = Field(
        30.0, gt=0, description="Time to receive a whole request body (408 after it)."
    )
    max_messages: int = Field(
        2000, ge=1, description="Messages in one query, the whole conversation (413 above it)."
    )
    max_message_chars: int = Field(
        1_000_000, ge=1000, description="Characters in one message (413 above it)."
    )
    max_attachments: int = Field(
        200, ge=0, description="Attachments across all messages of one query (413 above it)."
    )
    max_parameter_depth: int = Field(
        8, ge=1, description="Nesting depth of a message's `parameters` (400 above it)."
    )
    max_concurrent_per_user: int = Field(
        8, ge=1, description="Requests one user may have running on one bot at once."
    )
    requests_per_minute_per_user: float = Field(
        120.0, gt=0, description="Sustained requests per minute per user and bot."
    )
    burst_per_user: int = Field(
        30, ge=1, description="Requests a user may send at once before the per-minute rate applies."
    )


class ApiKeyRef(StrictModel):
    """One caller's virtual API key for the OpenAI- and Anthropic-compatible fronts."""

    caller: str = Field(
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$",
        description="Who uses this key; recorded as the user in the usage ledger.",
    )
    key: SecretRef = Field(description="Reference to the key (never a literal).")


class BreakerSettings(StrictModel):
    """Circuit breaking per (model, region): stop calling a target that keeps failing."""

    failure_threshold: int = Field(
        5,
        ge=1,
        description="Consecutive failed calls (throttled, 5xx, not ready, timed out) that open "
        "the circuit.",
    )
    cooldown_seconds: float = Field(
        30.0, gt=0, description="How long an open circuit skips the target before one probe."
    )


class TimeoutSettings(StrictModel):
    """How long the gateway waits for a model before giving up on it."""

    first_token_seconds: float = Field(
        60.0, gt=0, description="ConverseStream: from the call to the first output."
    )
    idle_seconds: float = Field(
        60.0, gt=0, description="ConverseStream: longest silence between two events."
    )
    chat_request_seconds: float = Field(
        120.0,
        gt=0,
        description="A chat bot's whole answer: every try and fallback (Poe allows 120 s).",
    )
    image_request_seconds: float = Field(
        110.0,
        gt=0,
        description="An image bot's whole answer: generation, every try and the upload.",
    )


class ConcurrencySettings(StrictModel):
    """Adaptive concurrency per (model, region): how many calls the gateway lets run at once.

    The limit grows by one after each call that succeeds and halves when the model throttles
    (AIMD), between ``min_limit`` and ``max_limit``. Calls over the limit wait in a queue; one
    that waits longer than ``queue_timeout_seconds`` ends with a clear, retryable "busy" message
    (or goes to the bot's next fallback).
    """

    enabled: bool = Field(True, description="Limit calls per model and region at all.")
    initial_limit: int = Field(64, ge=1, description="Calls at once before any feedback.")
    min_limit: int = Field(1, ge=1, description="Never fewer calls at once than this.")
    max_limit: int = Field(512, ge=1, description="Never more calls at once than this.")
    queue_timeout_seconds: float = Field(
        10.0, gt=0, description="Longest wait for a free slot before answering 'busy'."
    )

    @model_validator(mode="after")
    def _ordered(self) -> ConcurrencySettings:
        if not self.min_limit <= self.initial_limit <= self.max_limit:
            raise ValueError("need min_limit <= initial_limit <= max_limit")
        return self


class SharedStateSettings(StrictModel):
    """State shared by several gateway replicas (circuit breakers, per-user limits).

    Without ``redis_url`` every replica keeps its own state in memory.
    """

    redis_url: SecretRef | None = Field(
        None,
        description="Reference to a Redis URL (redis://[:password@]host:port/db); it may "
        "hold a password, so a reference (env:, file:, aws-secretsmanager:), never a literal.",
    )
    key_prefix: str = Field(
        "fmgate:", pattern=r"^[A-Za-z0-9:_.-]{1,32}$", description="Prefix of every Redis key."
    )
    breaker_cache_seconds: float = Field(
        0.5,
        ge=0,
        le=10,
        description="How long a replica trusts a 'circuit closed, no failures' reading before "
        "asking Redis again (0: every call asks; a circuit opened elsewhere is seen this late).",
    )


class LedgerSettings(StrictModel):
    """Where usage records go: a local SQLite file (default) or PostgreSQL (shared by replicas)."""

    kind: Literal["sqlite", "postgres"] = Field(
        "sqlite", description="sqlite: one file per gateway; postgres: one database for all."
    )
    postgres_dsn: SecretRef | None = Field(
        None,
        description="Reference to a libpq connection string (it holds a password); required "
        "for kind postgres.",
    )
    pool_size: int = Field(4, ge=1, le=64, description="PostgreSQL connections per gateway.")

    @model_validator(mode="after")
    def _dsn_for_postgres(self) -> LedgerSettings:
        if self.kind == "postgres" and self.postgres_dsn is None:
            raise ValueError("ledger kind postgres needs postgres_dsn (a reference)")
        return self


class JwtSettings(StrictModel):
    """JWT bearer tokens accepted on the /v1 fronts besides virtual API keys (``gateway.jwt``)."""

    issuer: str = Field(min_length=1, description="Required `iss` claim.")
    audience: str = Field(min_length=1, description="Required `aud` claim.")
    algorithms: tuple[str, ...] = Field(
        ("RS256",),
        min_length=1,
        description="Allowed algorithms (never `none`; HMAC and public-key ones not mixed).",
    )
    keys: dict[str, SecretRef] = Field(
        min_length=1,
        description="Key id (`kid`) -> reference to an HMAC secret or a PEM public key.",
    )
    leeway_seconds: float = Field(30.0, ge=0, le=300, description="Clock skew allowed.")


class GatewaySettings(StrictModel):
    """Gateway-wide settings (the catalog's ``gateway`` section)."""

    bedrock_endpoint_url: str | None = Field(
        None, description="Bedrock Runtime endpoint override (emulator, VPC endpoint)."
    )
    connect_timeout_seconds: float = Field(30.0, gt=0, description="Connecting to Bedrock.")
    read_timeout_seconds: float = Field(
        300.0, gt=0, description="Waiting for Bedrock's next bytes."
    )
    max_pool_connections: int = Field(
        256, ge=1, description="HTTP connections per Bedrock client (one client per region)."
    )
    max_attempts: int = Field(3, ge=1, le=10, description="Tries per request before giving up.")
    retry_base_delay_seconds: float = Field(
        0.25, ge=0, description="First retry delay; doubles per attempt, with jitter."
    )
    retry_max_delay_seconds: float = Field(8.0, ge=0, description="Longest retry delay.")
    poe: PoeSettings = Field(PoeSettings(), description="Poe's own APIs (see below).")
    emulator: EmulatorSettings = Field(
        EmulatorSettings(), description="The embedded Bedrock emulator (see below)."
    )
    api_keys: tuple[ApiKeyRef, ...] = Field(
        (),
        description="Virtual API keys for /v1/* (OpenAI and Anthropic shapes); separate from "
        "Poe access keys.",
    )
    limits: RequestLimits = Field(
        RequestLimits(), description="Request size, shape and per-user rate limits (see below)."
    )
    breaker: BreakerSettings = Field(
        BreakerSettings(), description="Circuit breaking per model and region (see below)."
    )
    timeouts: TimeoutSettings = Field(
        TimeoutSettings(), description="First-token, idle and whole-request timeouts (see below)."
    )
    jwt: JwtSettings | None = Field(
        None, description="Also accept JWT bearer tokens on the /v1 fronts (see below)."
    )
    concurrency: ConcurrencySettings = Field(
        ConcurrencySettings(), description="Adaptive calls-at-once per model (see below)."
    )
    shared_state: SharedStateSettings = Field(
        SharedStateSettings(), description="Redis for breaker and limit state (see below)."
    )
    ledger: LedgerSettings = Field(
        LedgerSettings(), description="Usage ledger store: SQLite or PostgreSQL (see below)."
    )
    shutdown_grace_seconds: float = Field(
        30.0,
        ge=0,
        description="On SIGTERM: how long in-flight streams may run on before being cut.",
    )


class Catalog(StrictModel):
    """A validated catalog: settings plus every bot, merged and checked."""

    gateway: GatewaySettings = GatewaySettings()
    bots: tuple[BotConfig, ...]

    @model_validator(mode="after")
    def _bot_names_are_unique(self) -> Self:
        seen: set[str] = set()
        for bot in self.bots:
            if bot.bot_name in seen:
                raise FieldConflict("bots", f"bot_name {bot.bot_name!r} is used more than once")
            seen.add(bot.bot_name)
        return self

    def bot(self, name: str) -> BotConfig:
        for bot in self.bots:
            if bot.bot_name == name:
                return bot
        raise KeyError(name)


def split_ratio(ratio: str) -> tuple[int, int]:
    """'16:9' -> (16, 9)."""
    match = re.fullmatch(r"(\d+):(\d+)", ratio)
    if match is None:
        raise ValueError(f"not an aspect ratio: {ratio!r}")
    return int(match.group(1)), int(match.group(2))
