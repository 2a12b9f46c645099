"""Switch the running emulator's timing (TTFT, token rate) between phases, over loopback.

Uses the emulator's control API (``PUT /_emulator/timing``); a rate of 0 means unlimited. The
rate at which the emulator reads a prompt's uncached input tokens (which adds to the TTFT) is 0
(instant) unless a phase asks for one: the prompt-caching phase does.
"""

from __future__ import annotations

import aiohttp


class EmulatorControl:
    """The emulator's control endpoint, as :class:`bench.measure.EmulatorTiming`."""

    def __init__(self, url: str) -> None:
        self.url = url

    async def set_timing(
        self, ttft_ms: float, tokens_per_second: float, uncached_tokens_per_second: float = 0.0
    ) -> None:
        body = {
            "ttft_ms": ttft_ms,
            "tokens_per_second": tokens_per_second or None,
            "uncached_tokens_per_second": uncached_tokens_per_second or None,
        }
        timeout = aiohttp.ClientTimeout(total=10.0)
        async with (
            aiohttp.ClientSession(timeout=timeout) as session,
            session.put(f"{self.url}/_emulator/timing", json=body) as response,
        ):
            response.raise_for_status()
