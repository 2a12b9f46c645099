"""Gateway-wide settings: the catalog's ``gateway`` section and its sub-sections.

How the gateway reaches Bedrock and Poe, who may call the /v1 fronts, request limits, circuit
breaking, timeouts, adaptive concurrency, process overload, shared state between replicas and
the usage ledger.
Every field has a default, so ``gateway: {}`` (or no section at all) is a working gateway.
"""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import Field, PositiveInt, model_validator

from fmgate.config.fields import BOT_NAME_PATTERN, FieldConflict, SecretRef, StrictModel

#: Who uses a virtual API key (``gateway.api_keys[].caller``).
CALLER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$"
#: A bot's handle on Poe (checked as fmgate checks bot names; Poe may be stricter).
PoeHandle = Annotated[str, Field(pattern=BOT_NAME_PATTERN)]


class PoeApiBotSettings(StrictModel):
    """Poe API bots (``fmgate poe api-bots sync``): Poe calls the gateway's
    ``/v1/chat/completions`` itself, with a virtual API key, and bills its users from the usage
    the gateway reports. See docs/poe-api-bots.md."""

    endpoint_url: str = Field(
        pattern=r"^https?://[^\s/]+(/\S*)?$",
        description="The base URL Poe calls: this gateway's public URL and /v1 "
        "(https://fmgate.example.com/v1); Poe adds /chat/completions.",
    )
    caller: str = Field(
        pattern=CALLER_PATTERN,
        description="The gateway.api_keys caller whose key Poe presents (stream_usage: always).",
    )
    poe_api_key: SecretRef = Field(
        description="Reference to the Poe API key (poe.com/api/keys) whose account owns the bots."
    )
    bots_api_url: str = Field(
        "https://api.poe.com/",
        pattern=r"^https?://\S+$",
        description="Poe's Bots REST API (GET/POST /bots, GET/PATCH /bots/{handle}).",
    )
    bots: tuple[str, ...] = Field(
        (), description="The chat bots offered as API bots; empty: every chat bot."
    )
    handle_prefix: str = Field(
        "",
        pattern=r"^[A-Za-z0-9_.-]{0,30}$",
        description="Put before a bot_name to make its Poe handle (handles are unique on Poe).",
    )
    handles: dict[str, PoeHandle] = Field(
        default_factory=dict,
        description="bot_name -> Poe handle, for a bot whose handle is not prefix + bot_name.",
    )
    private: bool = Field(True, description="Whether the bots are private on Poe.")
    parameter_controls: bool = Field(
        True,
        description="Send the bots' parameter controls (temperature, output tokens, reasoning "
        "effort); false leaves them to what is set on Poe.",
    )
    timeout_seconds: float = Field(30.0, gt=0, description="Per call to the Bots REST API.")

    def handle(self, bot_name: str) -> str:
        """The bot's handle on Poe."""
        return self.handles.get(bot_name) or f"{self.handle_prefix}{bot_name}"


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
    api_bots: PoeApiBotSettings | None = Field(
        None, description="Poe API bots calling /v1/chat/completions (see below); None: none."
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
        pattern=CALLER_PATTERN,
        description="Who uses this key; recorded as the user in the usage ledger.",
    )
    key: SecretRef = Field(description="Reference to the key (never a literal).")
    stream_usage: Literal["when_asked", "always"] = Field(
        "when_asked",
        description="Streamed chat completions end with a usage chunk: when the caller asks "
        "(stream_options.include_usage, as OpenAI does), or always (Poe API bots: Poe bills "
        "from it).",
    )


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
    """Concurrency per (model, region), learned from Bedrock's refusals.

    While Bedrock has not refused a target's calls (ThrottlingException, ModelNotReadyException,
    ServiceUnavailableException) for ``recent_throttle_seconds``, its calls never wait. A
    refusal limits the target to what Bedrock was serving for this gateway when it said no
    (times ``backoff_ratio``); the limit grows back as Bedrock accepts calls, and goes away once
    the refusals stop. Calls over a limit wait in a queue; one that waits longer than
    ``queue_timeout_seconds`` ends with a clear, retryable "busy" message (or goes to the bot's
    next fallback). ``static_caps`` hold models to a fixed number of calls at once whatever
    Bedrock says (your Bedrock quota). State is per gateway process.
    """

    enabled: bool = Field(
        True, description="Limit calls per model and region at all (false: no queue, no busy)."
    )
    recent_throttle_seconds: float = Field(
        60.0,
        gt=0,
        description="How long a refusal by Bedrock keeps a target's learned limit; with no "
        "refusal that recent, its calls never wait (a static cap aside).",
    )
    backoff_ratio: float = Field(
        0.9,
        gt=0,
        le=1,
        description="On a refusal the limit becomes the calls Bedrock was serving for this "
        "gateway, times this.",
    )
    min_limit: int = Field(1, ge=1, description="A learned limit never goes below this.")
    static_caps: dict[str, PositiveInt] = Field(
        {},
        description="Calls at once per model id (in each region), whatever Bedrock says: e.g. "
        "your Bedrock quota. Always enforced, with queueing; a learned limit applies below it.",
    )
    queue_timeout_seconds: float = Field(
        10.0, gt=0, description="Longest wait for a free slot before answering 'busy'."
    )

    @model_validator(mode="before")
    @classmethod
    def _no_fixed_starting_limit(cls, data: object) -> object:
        if isinstance(data, dict) and data.keys() & {"initial_limit", "max_limit"}:
            raise ValueError(
                "initial_limit and max_limit are gone: calls are not limited until Bedrock "
                "refuses some, and the limit is learned from that; use static_caps for a "
                "fixed number of calls at once per model"
            )
        return data


class OverloadSettings(StrictModel):
    """When this process is too busy to take more work (``gateway.overload``), per process.

    Over either limit, new requests are refused at once with a retryable answer in their
    front's shape (Poe: an ``error`` event with ``allow_retry``; OpenAI: 503; Anthropic: 529;
    both with ``Retry-After``) and ``/readyz`` answers 503, so callers and the load balancer go
    elsewhere. Requests already running are left alone. Each worker process counts its own.
    """

    max_streams: int | None = Field(
        10_000,
        ge=1,
        description="Requests one process answers at once (every front, streamed or whole); "
        "the next is refused. null: no cap.",
    )
    max_loop_lag_seconds: float | None = Field(
        2.0,
        gt=0,
        description="Refuse new requests while the event loop runs timers this late (sampled "
        "ten times a second, smoothed over about half a second). A burst of thousands of new "
        "streams on one core lags the loop 1-2 s while it reads them, and the process carries "
        "them; 2 s late leaves Poe's 5 s first-byte budget at risk. null: never refuse for "
        "lag (it is still measured).",
    )
    retry_after_seconds: int = Field(
        1, ge=1, le=60, description="`Retry-After` of an overload refusal (OpenAI, Anthropic)."
    )


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


class StoredResponsesSettings(StrictModel):
    """Responses the Responses API keeps (``store: true``) for ``previous_response_id`` and
    ``GET /v1/responses/{id}``: in the usage ledger's database (in memory without a ledger),
    each readable only by the caller that created it."""

    retention_days: float = Field(
        30.0, gt=0, le=3650, description="How long a stored response can be read or continued."
    )
    max_response_bytes: int = Field(
        8 * 1024 * 1024,
        ge=1024,
        description="Largest conversation one stored response may hold (its input items and "
        "what it continues), checked before the model runs: 400 above it with `store: true`.",
    )
    max_total_bytes: int = Field(
        1024**3,
        ge=1024 * 1024,
        description="All stored responses together; above it the oldest are deleted first.",
    )


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
        4096,
        ge=1,
        description="HTTP connections per Bedrock client (one client per region): each stream "
        "holds one while it runs, so at least the streams you expect per process and region.",
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
        ConcurrencySettings(), description="Calls at once per model, learned (see below)."
    )
    overload: OverloadSettings = Field(
        OverloadSettings(),
        description="Refuse new requests fast while this process is saturated (see below).",
    )
    shared_state: SharedStateSettings = Field(
        SharedStateSettings(), description="Redis for breaker and limit state (see below)."
    )
    ledger: LedgerSettings = Field(
        LedgerSettings(), description="Usage ledger store: SQLite or PostgreSQL (see below)."
    )
    stored_responses: StoredResponsesSettings = Field(
        StoredResponsesSettings(),
        description="Responses kept for `previous_response_id` (see below).",
    )
    shutdown_grace_seconds: float = Field(
        30.0,
        ge=0,
        description="On SIGTERM: how long in-flight streams may run on before being cut.",
    )

    @model_validator(mode="after")
    def _api_bots_call_with_a_key_that_reports_usage(self) -> Self:
        api_bots = self.poe.api_bots
        if api_bots is None:
            return self
        keys = {ref.caller: ref for ref in self.api_keys}
        key = keys.get(api_bots.caller)
        if key is None:
            raise FieldConflict(
                "poe", f"poe.api_bots.caller {api_bots.caller!r} is not a caller in api_keys"
            )
        if key.stream_usage != "always":
            raise FieldConflict(
                "api_keys",
                f"the key of {api_bots.caller!r} (poe.api_bots.caller) needs stream_usage: "
                "always: Poe bills API bots from the usage their streams report",
            )
        return self
