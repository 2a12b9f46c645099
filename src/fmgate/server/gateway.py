"""The running gateway: every shared service, opened together and closed together.

``Gateway.open(catalog, options)`` is an async context manager: it resolves access keys, opens
the pooled Bedrock clients, the attachment downloader, the usage ledger and the metrics, and
builds the registry. Fronts hold a ``Gateway`` and read ``gateway.registry`` per request, so a
new registry can be swapped in while serving.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

from redis.asyncio import Redis

from fmgate.accounting.expected_cost import expected_cost
from fmgate.accounting.finisher import RequestFinisher
from fmgate.accounting.ledger import UsageLedger
from fmgate.accounting.ledger_store import open_ledger
from fmgate.accounting.tracker import RequestTracker
from fmgate.attachments.content import AttachmentFetcher
from fmgate.bedrock.access import AwsAccess
from fmgate.bedrock.client import BedrockClients
from fmgate.bots.dependencies import BotDependencies
from fmgate.bots.registry import DeployedBot, Registry, build_bot
from fmgate.config.bot_config import VideoBotConfig
from fmgate.config.catalog import Catalog
from fmgate.config.gateway_settings import GatewaySettings
from fmgate.config.secrets import SecretError, SecretResolver
from fmgate.core.errors import BotMisconfigured, GatewayError
from fmgate.fronts.callers import ApiKeys, resolve_api_keys, resolve_jwt_verifier
from fmgate.fronts.media_store import LocalMediaStore
from fmgate.fronts.poe.cost import PoeCostClient
from fmgate.fronts.poe.settings import settings_response
from fmgate.observability.logging import bind_request_context, register_secret
from fmgate.observability.metrics import GatewayMetrics
from fmgate.resilience.breaker import BreakerKey, BreakerRegistry, Breakers, OpenListener
from fmgate.resilience.concurrency import ConcurrencyLimits
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
    services: BotDependencies
    metrics: GatewayMetrics
    ledger: UsageLedger | None
    finisher: RequestFinisher
    options: GatewayOptions
    cost: PoeCostClient | None = None
    local_media: LocalMediaStore | None = None
    #: Virtual API keys of the OpenAI- and Anthropic-compatible fronts.
    api_keys: ApiKeys = field(default_factory=ApiKeys)
    _settings_cache: dict[str, bytes] = field(default_factory=dict)
    #: Resolves bots' access-key references; kept to build registries for new catalogs.
    secrets: SecretResolver | None = None
    #: Per-user concurrency and rate limits (``gateway.limits``), shared by all fronts
    #: (in this process, or through Redis with ``gateway.shared_state``).
    limiter: Limiter = field(default_factory=lambda: user_limiter(GatewaySettings()))
    #: The registry before the last swap: streams started on it still finish their accounting.
    _previous_registry: Registry | None = None

    @property
    def settings(self) -> GatewaySettings:
        return self.catalog.gateway

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
            aws = options.aws
            for value in (
                aws.secret_access_key,
                aws.session_token,
                aws.secrets_secret_access_key,
                options.dev_access_key,
            ):
                if value:
                    register_secret(value)
            secrets = SecretResolver(
                endpoint_url=aws.secrets_endpoint_url,
                access_key_id=aws.secrets_access_key_id,
                secret_access_key=aws.secrets_secret_access_key,
            )
            stack.push_async_callback(secrets.aclose)
            bedrock = BedrockClients(
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
            stack.push_async_callback(bedrock.aclose)
            fetcher = AttachmentFetcher(allowed_hosts=settings.poe.attachment_hosts)
            stack.push_async_callback(fetcher.aclose)
            metrics = GatewayMetrics()
            redis = await open_redis(settings.shared_state, secrets)
            if redis is not None:
                stack.push_async_callback(redis.aclose)
            ledger = await open_ledger(settings.ledger, options.ledger_path, secrets)
            if ledger is not None:
                stack.push_async_callback(ledger.aclose)
            cost = PoeCostClient(settings.poe.api_base_url)
            stack.push_async_callback(cost.aclose)
            finisher = RequestFinisher(metrics=metrics, ledger=ledger, cost=cost)
            stack.push_async_callback(finisher.drain)

            def on_retry(bot: str, error: GatewayError, attempt: int, delay: float) -> None:
                metrics.retry(bot)
                logger.info("retrying after %s (attempt %d, in %.2fs)", error.code, attempt, delay)

            def on_fallback(bot: str, model_id: str) -> None:
                metrics.fallback(bot)
                logger.info("answered by fallback %s", model_id)

            def on_circuit_open(key: BreakerKey) -> None:
                metrics.circuit_opened(key.model_id, key.aws_region)

            services = BotDependencies(
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
            )
            upstream = services.upstream
            metrics.watch_upstream_pool(lambda: float(upstream.count))
            metrics.watch_concurrency(services.limits.statuses)
            registry = await build_registry(catalog, services, secrets, options)
            api_keys = await resolve_api_keys(
                settings.api_keys,
                secrets,
                dev_access_key=options.dev_access_key,
                allow_without_key=options.allow_without_key,
            )
            api_keys = replace(api_keys, jwt=await resolve_jwt_verifier(settings.jwt, secrets))
            yield cls(
                catalog=catalog,
                registry=registry,
                api_keys=api_keys,
                services=services,
                metrics=metrics,
                ledger=ledger,
                finisher=finisher,
                limiter=user_limiter(
                    settings, redis, lease_seconds=longest_request_seconds(catalog)
                ),
                options=options,
                cost=cost,
                secrets=secrets,
                local_media=(
                    LocalMediaStore(options.local_media_url.rstrip("/") + "/media/")
                    if options.local_media_url
                    else None
                ),
            )

    async def swap_catalog(self, catalog: Catalog) -> None:
        """Serve ``catalog``'s bots from now on, without a restart.

        The new registry is built first (access keys resolved, bots constructed); any failure
        raises and leaves the running registry untouched. The swap itself is one assignment:
        requests already streaming hold their ``DeployedBot`` and finish on the old bots; new
        requests get the new ones. The gateway-wide services (clients, pools, limits) stay as
        they are, so ``catalog.gateway`` must be the settings already in use (see
        ``fmgate.server.reload``, which reports the ones that need a restart).
        """
        if self.secrets is None:
            raise BotMisconfigured("this gateway was not opened with a secret resolver")
        registry = await build_registry(catalog, self.services, self.secrets, self.options)
        self._previous_registry = self.registry
        self.catalog = catalog
        self.registry = registry
        self._settings_cache = {}

    def settings_json(self, deployed: DeployedBot) -> bytes:
        name = deployed.config.bot_name
        cached = self._settings_cache.get(name)
        if cached is None:
            cached = settings_response(deployed.config).model_dump_json().encode()
            self._settings_cache[name] = cached
        return cached

    def cost_authorization(
        self, deployed: DeployedBot, bot_query_id: str, parameters: Mapping[str, object]
    ) -> Callable[[], Awaitable[None]] | None:
        """Poe cost authorization to run before calling the model, when the bot asks for it."""
        cost = expected_cost(deployed.config, parameters)
        key = deployed.access_key
        if cost is None or cost.total_rounded <= 0 or not bot_query_id or key is None:
            return None
        if self.cost is None:
            return None
        return partial(self.cost.authorize, bot_query_id, key, cost)

    def finish_request(self, tracker: RequestTracker) -> None:
        """Hand a finished request to accounting (runs in the background, off the stream)."""
        name = tracker.bot.bot_name
        deployed = self.registry.get(name)
        if deployed is None and self._previous_registry is not None:
            deployed = self._previous_registry.get(name)  # removed by a swap while streaming
        access_key = deployed.access_key if deployed is not None else None
        self.finisher.finish(tracker, poe_access_key=access_key)

    async def bound_stream(
        self, tracker: RequestTracker, stream: AsyncIterator[bytes]
    ) -> AsyncIterator[bytes]:
        """Run a response stream with the request's ids bound to every log line."""
        bind_request_context(tracker.request_id, tracker.bot.bot_name, tracker.user_id)
        self.metrics.request_started(tracker.bot.bot_name)
        try:
            async for chunk in stream:
                yield chunk
        finally:
            self.metrics.request_ended(tracker.bot.bot_name)


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
    catalog: Catalog, services: BotDependencies, secrets: SecretResolver, options: GatewayOptions
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
        deployed.append(DeployedBot(bot=build_bot(config, services), access_key=key))
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
