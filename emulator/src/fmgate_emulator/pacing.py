"""Timing of generated output: time to first token, token rate, and injected delays."""

from __future__ import annotations

import asyncio

from fmgate_emulator.config import Timing
from fmgate_emulator.faults import Fault, FaultKind


class Pacer:
    """Sleeps so that output appears at the configured pace (no sleeping when unlimited)."""

    def __init__(
        self, timing: Timing, fault: Fault | None = None, uncached_input_tokens: int = 0
    ) -> None:
        self.timing = timing
        self.extra_first_delay = (
            fault.delay_seconds if fault and fault.kind is FaultKind.SLOW_FIRST_TOKEN else 0.0
        )
        rate = timing.uncached_tokens_per_second
        #: Reading the prompt: the input tokens not read from the prompt cache, at ``rate``.
        self.prompt_delay = uncached_input_tokens / rate if rate else 0.0

    async def first_token(self) -> None:
        """Wait for the time to first token: the configured TTFT, the time to read the uncached
        part of the prompt, plus an injected slow-first-token delay."""
        delay = self.timing.ttft_ms / 1000 + self.prompt_delay + self.extra_first_delay
        if delay > 0:
            await asyncio.sleep(delay)

    async def next_token(self) -> None:
        """Wait one token's time at the configured rate."""
        if self.timing.tokens_per_second:
            await asyncio.sleep(1 / self.timing.tokens_per_second)

    async def whole_answer(self, tokens: int) -> None:
        """Wait as long as generating ``tokens`` tokens takes (for non-streaming answers)."""
        await self.first_token()
        if self.timing.tokens_per_second and tokens > 1:
            await asyncio.sleep((tokens - 1) / self.timing.tokens_per_second)
