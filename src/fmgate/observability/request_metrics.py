"""Per-request timing and the end-of-request summary line written to the log.

The line (one per request, at INFO) is what operators grep first::

    bot=claude model=us.anthropic... ttft_ms=412 input_tokens=1200 (system=200 excl_system=1000)
    output_tokens=350 latency_ms=3810 latency_optimized=off outcome=ok
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fmgate.core.events import Usage

UNKNOWN = "n/a"


@dataclass(slots=True)
class RequestTimer:
    """Monotonic timing of one request: start, first token, elapsed."""

    started: float = field(default_factory=time.perf_counter)
    first_token: float | None = None

    def mark_first_token(self) -> None:
        """Record the first output (later calls keep the first time)."""
        if self.first_token is None:
            self.first_token = time.perf_counter()

    @property
    def ttft_ms(self) -> float | None:
        if self.first_token is None:
            return None
        return (self.first_token - self.started) * 1000

    @property
    def elapsed_ms(self) -> float:
        return (time.perf_counter() - self.started) * 1000


def _ms(value: float | None) -> str:
    return UNKNOWN if value is None else str(round(value))


def request_summary_line(
    *,
    bot: str,
    model: str,
    ttft_ms: float | None,
    usage: Usage | None,
    latency_ms: float,
    latency_optimized: bool,
    outcome: str,
    system_tokens: int | None = None,
) -> str:
    """The end-of-request log line.

    ``input_tokens`` is Bedrock's count, which includes the system prompt; ``system_tokens``
    (when the caller counted it) splits it into ``system=`` and ``excl_system=``. Estimated
    usage (the stream ended before Bedrock reported it) is marked ``estimated=yes``.
    """
    if usage is None:
        tokens = f"input_tokens={UNKNOWN} output_tokens={UNKNOWN}"
    else:
        if system_tokens is None:
            split = f"system={UNKNOWN} excl_system={UNKNOWN}"
        else:
            excluded = max(0, usage.input_tokens - system_tokens)
            split = f"system={system_tokens} excl_system={excluded}"
        tokens = f"input_tokens={usage.input_tokens} ({split}) output_tokens={usage.output_tokens}"
        if usage.estimated:
            tokens += " estimated=yes"
    return (
        f"bot={bot} model={model} ttft_ms={_ms(ttft_ms)} {tokens} latency_ms={_ms(latency_ms)} "
        f"latency_optimized={'on' if latency_optimized else 'off'} outcome={outcome}"
    )
