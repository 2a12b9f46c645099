"""Everything one running emulator remembers, owned by its event loop."""

from __future__ import annotations

from dataclasses import dataclass, field

from aiohttp import web

from fmgate_emulator.async_jobs import AsyncInvocations
from fmgate_emulator.config import EmulatorConfig, Timing
from fmgate_emulator.faults import FaultBook
from fmgate_emulator.guardrails import GuardrailBook
from fmgate_emulator.prompt_cache import Clock, PromptCache
from fmgate_emulator.sigv4 import Credentials4
from fmgate_emulator.traffic import Traffic


@dataclass(slots=True)
class EmulatorState:
    """Configuration plus mutable state: timing, faults, traffic, async invocations, the prompt
    cache and the clock its TTLs run on, the guardrails that exist."""

    config: EmulatorConfig
    timing: Timing = field(init=False)
    credentials: Credentials4 = field(init=False)
    faults: FaultBook = field(default_factory=FaultBook)
    traffic: Traffic = field(default_factory=Traffic)
    invocations: AsyncInvocations = field(init=False)
    clock: Clock = field(default_factory=Clock)
    prompt_cache: PromptCache = field(init=False)
    guardrails: GuardrailBook = field(default_factory=GuardrailBook)

    def __post_init__(self) -> None:
        self.timing = self.config.timing()
        self.credentials = Credentials4(
            access_key_id=self.config.access_key_id,
            secret_access_key=self.config.secret_access_key,
            bearer_token=self.config.bearer_token,
        )
        self.invocations = AsyncInvocations(self.config)
        self.prompt_cache = PromptCache(self.clock)

    def reset(self) -> None:
        """Forget faults, counters, recorded requests and cached prompts; restore the configured
        timing and the default guardrails."""
        self.faults.clear()
        self.guardrails.reset()
        self.traffic.reset()
        self.prompt_cache.clear()
        self.timing = self.config.timing()


STATE_KEY = web.AppKey("emulator_state", EmulatorState)
