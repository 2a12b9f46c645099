"""What bots use to do their work, shared by every bot of a gateway."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from fmgate.accounting.system_prompt_counts import SystemPromptCounts
from fmgate.attachments.content import AttachmentFetcher
from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.in_flight import InFlightCalls
from fmgate.config.gateway_settings import TimeoutSettings
from fmgate.core.errors import GatewayError
from fmgate.resilience.breaker import BreakerRegistry, Breakers
from fmgate.resilience.concurrency import ConcurrencyLimits
from fmgate.resilience.retry import RetryPolicy

#: Called before each retry: (bot name, the error, attempt number, delay in seconds).
RetryListener = Callable[[str, GatewayError, int, float], None]

#: Called when a fallback answers a bot's request: (bot name, the fallback's model id).
FallbackListener = Callable[[str, str], None]


def ignore_retry(bot: str, error: GatewayError, attempt: int, delay: float) -> None:
    """The default retry listener."""


def ignore_fallback(bot: str, model_id: str) -> None:
    """The default fallback listener."""


@dataclass(frozen=True, slots=True)
class BotDependencies:
    bedrock: BedrockClients
    attachments: AttachmentFetcher
    retry: RetryPolicy
    on_retry: RetryListener = ignore_retry
    #: Circuit breakers per (model, region), shared by every bot (and kept across reloads).
    breakers: Breakers = field(default_factory=BreakerRegistry)
    #: Adaptive calls-at-once per (model, region), shared by every bot (kept across reloads).
    limits: ConcurrencyLimits = field(default_factory=ConcurrencyLimits)
    #: First-token, idle and whole-request limits (``gateway.timeouts``).
    timeouts: TimeoutSettings = field(default_factory=TimeoutSettings)
    on_fallback: FallbackListener = ignore_fallback
    #: Bedrock calls running now (the upstream connections in use).
    upstream: InFlightCalls = field(default_factory=InFlightCalls)
    #: System prompts' token counts (the billing split), shared with the finisher.
    system_prompts: SystemPromptCounts = field(default_factory=SystemPromptCounts)
