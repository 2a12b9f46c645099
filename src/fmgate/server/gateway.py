"""The running gateway: every shared service, opened together and closed together.

``Gateway.open(catalog, options)`` is an async context manager. It reads top to bottom as the
services it opens, each by a small builder: secrets, the pooled Bedrock clients, the attachment
downloader, Redis (when replicas share state), the usage ledger and accounting, the caller
documents (stored responses, in the ledger's database), what bots use (retries, breakers,
concurrency limits), the registry of deployed bots, the callers of the compatible APIs, and the
overload guard with its event-loop monitor (running while the gateway is open). The fronts read
it per request (see :class:`fmgate.fronts.context.FrontContext`), so a new registry can be
swapped in while serving. It names no front: what a front keeps of its own (Poe's cost client,
its settings cache) the front opens itself.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from redis.asyncio import Redis

from fmgate.accounting.caller_documents import CallerDocuments, DocumentLimits
from fmgate.accounting.document_store import caller_documents
from fmgate.accounting.finisher import RequestFinisher
from fmgate.accounting.ledger import UsageLedger
from fmgate.accounting.ledger_store import open_ledger
from fmgate.accounting.system_prompt_counts import SystemPromptCounts
from fmgate.attachments.download import AttachmentFetcher
from fmgate.bedrock.access import AwsAccess
from fmgate.bedrock.client import BedrockClients
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.registry import DeployedBot, Registry, build_bot
from fmgate.config.bot_config import VideoBotConfig
from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import (
    GatewaySettings,
    RequestLimits,
    StoredResponsesSettings,
)
from fmgate.config.secrets import SecretError, SecretResolver
from fmgate.core.errors import BotMisconfigured, GatewayError
from fmgate.fronts.callers import ApiKeys, resolve_api_keys, resolve_jwt_verifier
from fmgate.fronts.media_store import LocalMediaStore
from fmgate.observability.logging import register_secret
from fmgate.observability.metrics import GatewayMetrics
from fmgate.resilience.breaker import BreakerKey, BreakerRegistry, Breakers, OpenListener
from fmgate.resilience.concurrency import ConcurrencyLimits
from fmgate.resilience.overload import OverloadGuard
from fmgate.resilience.retry import RetryPolicy
from fmgate.security.rate_limits import Limiter, UserLimiter
from fmgate.shared_state.breakers import RedisBreakers
from fmgate.shared_state.connection import open_redis
from fmgate.shared_state.limits import RedisUserLimiter

logger = logging.getLogger("fmgate")


@dataclass(frozen=True, slots=True)
class GatewayOptions:
    """Runtime choices that are not part of the catalog."""

    aws: AwsAccess = field(default_factory=AwsAccess)
    ledger_path: Path | None = Path("var/usage.sqlite3")
    #: DEV ONLY: use this key for every bot whose key reference cannot be resolved.
    dev_access_key: str | None = None
    allow_without_key: bool = False
    #: Overrides the catalog's ``gateway.limits.max_request_bytes`` when set.
    max_request_bytes: int | None = None
    #: DEV ONLY: serve generated media from this gateway at ``<url>/media/`` instead of
    #: uploading it to Poe (there is no Poe to upload to on the embedded emulator).
    local_media_url: str | None = None


@dataclass
class Gateway:
    catalog: Catalog
    registry: Registry
    #: What bots use: Bedrock clients, attachments, retries, breakers, concurrency limits.
    dependencies: BotDependencies
    metrics: GatewayMetrics
    ledger: UsageLedger | None
    finisher: RequestFinisher
    options: GatewayOptions
    #: Resolves bots' access-key references; kept to build registries for new catalogs.
    secrets: SecretResolver
    #: Per-user concurrency and rate limits (``gateway.limits``), shared by all fronts
    #: (in this process, or through Redis with ``gateway.shared_state``).
    limiter: Limiter
    #: Callers (virtual API keys, JWTs) of the OpenAI- and Anthropic-compatible fronts.
    api_keys: ApiKeys = field(default_factory=ApiKeys)
    local_media: LocalMediaStore | None = None
    #: This process's saturation (``gateway.overload``): fronts refuse new requests over it.
    overload: OverloadGuard = field(default_factory=OverloadGuard)
    #: Caller-scoped documents (stored responses): in the ledger's database, else in memory.
    documents: CallerDocuments = field(
        default_factory=lambda: caller_documents(None, DocumentLimits())
    )
    #: What the fronts open for the gateway's lifetime (Poe's cost client...): closed when the
    #: gateway closes, after pending accounting drained (a cost capture still needs its client).
    resources: AsyncExitStack = field(default_factory=AsyncExitStack)

    @property
    def settings(self) -> GatewaySettings:
        return self.catalog.gateway

    @property
    def limits(self) -> RequestLimits:
        return self.settings.limits

    @property
    def max_request_bytes(self) -> int:
        """Largest request body accepted (the option, else ``gateway.limits``)."""
        if self.options.max_request_bytes is not None:
            return self.options.max_request_bytes
        return self.settings.limits.max_request_bytes

    @classmethod
    @asynccontextmanager
    async def open(cls, catalog: Catalog, options: GatewayOptions) -> AsyncIterator[Gateway]:
        async with AsyncExitStack() as stack:
            settings = catalog.gateway
            register_option_secrets(options)
            secrets = await stack.enter_async_context(open_secrets(options.aws))
            metrics = GatewayMetrics()
            redis = await open_redis(settings.shared_state, secrets)
            if redis is not None:
                stack.push_async_callback(redis.aclose)
            ledger = await open_ledger(settings.ledger, options.ledger_path, secrets)
            if ledger is not None:
                stack.push_async_callback(ledger.aclose)
            resources = await stack.enter_async_context(AsyncExitStack())
            system_prompts = SystemPromptCounts()
            finisher = RequestFinisher(
                metrics=metrics, ledger=ledger, system_prompts=system_prompts
            )
            dependencies = await stack.enter_async_context(
                open_bot_dependencies(catalog, options.aws, redis, metrics, system_prompts)
            )
            # Closed in reverse: pending accounting drains first (it may wait for a system
            # prompt's count), then the counts still under way stop, then the Bedrock clients
            # and the resources close.
            stack.push_async_callback(system_prompts.aclose)
            stack.push_async_callback(finisher.drain)
            overload = await stack.enter_async_context(open_overload_guard(settings, metrics))
            yield cls(
                catalog=catalog,
                registry=await build_registry(catalog, dependencies, secrets, options),
                dependencies=dependencies,
                metrics=metrics,
                ledger=ledger,
                finisher=finisher,
                options=options,
                secrets=secrets,
                limiter=user_limiter(
                    settings, redis, lease_seconds=longest_request_seconds(catalog)
                ),
                api_keys=await api_callers(settings, secrets, options),
                local_media=local_media_store(options),
                overload=overload,
                documents=caller_documents(ledger, document_limits(settings.stored_responses)),
                resources=resources,
            )

    async def swap_catalog(self, catalog: Catalog) -> None:
        """Serve ``catalog``'s bots from now on, without a restart.

        The new registry is built first (access keys resolved, bots constructed); any failure
        raises and leaves the running registry untouched. The swap itself is one assignment:
        requests already streaming hold their ``DeployedBot`` (and what their front bound to
        it, such as Poe's cost capture) and finish on the old bots; new requests get the new
        ones. The gateway-wide services (clients, pools, limits) stay as they are, so
        ``catalog.gateway`` must be the settings already in use (see
        ``fmgate.server.reload``, which reports the ones that need a restart).
        """
        registry = await build_registry(catalog, self.dependencies, self.secrets, self.options)
        self.catalog = catalog
        self.registry = registry


def register_option_secrets(options: GatewayOptions) -> None:
    """Keep the credentials given as options out of every log line."""
    aws = options.aws
    for value in (
        aws.secret_access_key,
        aws.session_token,
        aws.secrets_secret_access_key,
        options.dev_access_key,
    ):
        if value:
            register_secret(value)


@asynccontextmanager
async def open_secrets(aws: AwsAccess) -> AsyncIterator[SecretResolver]:
    secrets = SecretResolver(
        endpoint_url=aws.secrets_endpoint_url,
        access_key_id=aws.secrets_access_key_id,
        secret_access_key=aws.secrets_secret_access_key,
    )
    try:
        yield secrets
    finally:
        await secrets.aclose()


@asynccontextmanager
async def open_bot_dependencies(
    catalog: Catalog,
    aws: AwsAccess,
    redis: Redis | None,
    metrics: GatewayMetrics,
    system_prompts: SystemPromptCounts | None = None,
) -> AsyncIterator[BotDependencies]:
    """What bots use, wired to the metrics; the Bedrock clients and the downloader closed after.
    ``system_prompts``: the system prompts' counts the finisher reads (the billing split)."""
    settings = catalog.gateway
    async with AsyncExitStack() as stack:
        bedrock = open_bedrock(settings, aws)
        stack.push_async_callback(bedrock.aclose)
        fetcher = AttachmentFetcher(allowed_hosts=settings.poe.attachment_hosts)
        stack.push_async_callback(fetcher.aclose)

        def on_retry(bot: str, error: GatewayError, attempt: int, delay: float) -> None:
            metrics.retry(bot)
            logger.info("retrying after %s (attempt %d, in %.2fs)", error.code, attempt, delay)

        def on_fallback(bot: str, model_id: str) -> None:
            metrics.fallback(bot)
            logger.info("answered by fallback %s", model_id)

        def on_circuit_open(key: BreakerKey) -> None:
            metrics.circuit_opened(key.model_id, key.aws_region)

        dependencies = BotDependencies(
            bedrock=bedrock,
            attachments=fetcher,
            retry=RetryPolicy(
                max_attempts=settings.max_attempts,
                base_delay=settings.retry_base_delay_seconds,
                max_delay=settings.retry_max_delay_seconds,
            ),
            on_retry=on_retry,
            breakers=circuit_breakers(catalog, redis, on_circuit_open),
            limits=ConcurrencyLimits(settings.concurrency),
            timeouts=settings.timeouts,
            on_fallback=on_fallback,
            system_prompts=SystemPromptCounts() if system_prompts is None else system_prompts,
        )
        upstream = dependencies.upstream
        metrics.watch_upstream_pool(lambda: float(upstream.count))
        metrics.watch_concurrency(dependencies.limits.statuses)
        yield dependencies


@asynccontextmanager
async def open_overload_guard(
    settings: GatewaySettings, metrics: GatewayMetrics
) -> AsyncIterator[OverloadGuard]:
    """The overload guard, wired to the metrics, with its event-loop monitor running."""
    guard = OverloadGuard(
        settings.overload,
        on_refused=metrics.overload_refused,
        on_lag_sample=metrics.loop_lag_sampled,
    )
    metrics.watch_event_loop(lambda: guard.loop_lag_seconds)
    async with guard.monitoring():
        yield guard


def open_bedrock(settings: GatewaySettings, aws: AwsAccess) -> BedrockClients:
    return BedrockClients(
        endpoint_url=aws.endpoint_url or settings.bedrock_endpoint_url,
        access_key_id=aws.access_key_id,
        secret_access_key=aws.secret_access_key,
        session_token=aws.session_token,
        connect_timeout=settings.connect_timeout_seconds,
        read_timeout=settings.read_timeout_seconds,
        max_pool_connections=settings.max_pool_connections,
        s3_endpoint_url=aws.s3_endpoint_url,
        s3_access_key_id=aws.s3_access_key_id,
        s3_secret_access_key=aws.s3_secret_access_key,
    )


async def api_callers(
    settings: GatewaySettings, secrets: SecretResolver, options: GatewayOptions
) -> ApiKeys:
    keys = await resolve_api_keys(
        settings.api_keys,
        secrets,
        dev_access_key=options.dev_access_key,
        allow_without_key=options.allow_without_key,
    )
    return replace(keys, jwt=await resolve_jwt_verifier(settings.jwt, secrets))


def document_limits(settings: StoredResponsesSettings) -> DocumentLimits:
    return DocumentLimits(
        retention_seconds=settings.retention_days * 86_400.0,
        max_total_bytes=settings.max_total_bytes,
        max_document_bytes=settings.max_response_bytes,
    )


def local_media_store(options: GatewayOptions) -> LocalMediaStore | None:
    if not options.local_media_url:
        return None
    return LocalMediaStore(options.local_media_url.rstrip("/") + "/media/")


def user_limiter(
    settings: GatewaySettings, redis: Redis | None = None, *, lease_seconds: float = 300.0
) -> Limiter:
    """The per-user limiter configured by ``gateway.limits``: in memory, or shared through
    Redis (a lease expires after ``lease_seconds``, so a dead replica cannot hold slots)."""
    limits = settings.limits
    if redis is None:
        return UserLimiter(
            max_concurrent=limits.max_concurrent_per_user,
            per_minute=limits.requests_per_minute_per_user,
            burst=limits.burst_per_user,
        )
    return RedisUserLimiter(
        redis,
        max_concurrent=limits.max_concurrent_per_user,
        per_minute=limits.requests_per_minute_per_user,
        burst=limits.burst_per_user,
        key_prefix=settings.shared_state.key_prefix,
        lease_ttl_seconds=lease_seconds,
    )


def circuit_breakers(catalog: Catalog, redis: Redis | None, on_open: OpenListener) -> Breakers:
    """Breakers per (model, region): in memory, or shared through Redis (a half-open probe not
    settled within the longest request is presumed lost with its replica)."""
    settings = catalog.gateway
    if redis is None:
        return BreakerRegistry(settings.breaker, on_open=on_open)
    return RedisBreakers(
        redis,
        settings.breaker,
        key_prefix=settings.shared_state.key_prefix,
        on_open=on_open,
        probe_ttl_seconds=longest_request_seconds(catalog),
        state_cache_seconds=settings.shared_state.breaker_cache_seconds,
    )


def longest_request_seconds(catalog: Catalog) -> float:
    """The longest one request may run: a chat or image deadline, or a video's wait (+ margin)."""
    timeouts = catalog.gateway.timeouts
    videos = [b.video.timeout_seconds + 60.0 for b in catalog.bots if isinstance(b, VideoBotConfig)]
    return max(300.0, timeouts.chat_request_seconds, timeouts.image_request_seconds, *videos)


async def build_registry(
    catalog: Catalog,
    dependencies: BotDependencies,
    secrets: SecretResolver,
    options: GatewayOptions,
) -> Registry:
    """Resolve every bot's access key and construct its bot; any failure stops start-up."""
    keys = await asyncio.gather(
        *(resolve_key(bot.access_key, bot.bot_name, secrets, options) for bot in catalog.bots)
    )
    deployed = []
    for config, key in zip(catalog.bots, keys, strict=True):
        if key is None:
            logger.warning(
                "DEV MODE: bot %s is served WITHOUT an access key: anyone can call it",
                config.bot_name,
            )
        else:
            register_secret(key)
        deployed.append(DeployedBot(bot=build_bot(config, dependencies), access_key=key))
    return Registry(deployed)


async def resolve_key(
    reference: str | None, bot_name: str, secrets: SecretResolver, options: GatewayOptions
) -> str | None:
    if reference is not None:
        try:
            return await secrets.resolve(reference)
        except SecretError:
            if options.dev_access_key is None:
                raise
            return options.dev_access_key
    if options.dev_access_key is not None:
        return options.dev_access_key
    if options.allow_without_key:
        return None
    raise BotMisconfigured(f"bot {bot_name} has no access_key and keyless serving is off")
