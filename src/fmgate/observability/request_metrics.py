"""Per-request timing and the end-of-request summary line written to the log.

The line (one per request, at INFO) is what operators grep first::

    bot=claude model=us.anthropic... ttft_ms=412 input_tokens=1200 (system=200 excl_system=1000)
    output_tokens=350 latency_ms=3810 latency_optimized=off outcome=ok

With the prompt cache, the prompt's reads and writes follow ``input_tokens``
(``cache_read_tokens=``, ``cache_write_tokens=``, when not 0), and the split in parentheses is of
the whole prompt: ``system + excl_system = input + cache reads + cache writes``.
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
    excl_system: int | None = None,
) -> str:
    """The end-of-request log line.

    ``input_tokens`` is Bedrock's count of the uncached input, which includes the system
    prompt; ``system_tokens`` and ``excl_system`` (when the system prompt was counted) split
    the prompt into the system prompt's tokens and the rest, as ``system=`` and
    ``excl_system=`` (``n/a``: not known). Estimated usage (the stream ended before Bedrock
    reported it) is marked ``estimated=yes``.
    """
    if usage is None:
        tokens = f"input_tokens={UNKNOWN} output_tokens={UNKNOWN}"
    else:
        system = UNKNOWN if system_tokens is None else str(system_tokens)
        rest = UNKNOWN if excl_system is None else str(excl_system)
        cache = "".join(
            f" {name}={count}"
            for name, count in (
                ("cache_read_tokens", usage.cache_read_tokens),
                ("cache_write_tokens", usage.cache_write_tokens),
            )
            if count
        )
        tokens = (
            f"input_tokens={usage.input_tokens}{cache} (system={system} excl_system={rest}) "
            f"output_tokens={usage.output_tokens}"
        )
        if usage.estimated:
            tokens += " estimated=yes"
    return (
        f"bot={bot} model={model} ttft_ms={_ms(ttft_ms)} {tokens} latency_ms={_ms(latency_ms)} "
        f"latency_optimized={'on' if latency_optimized else 'off'} outcome={outcome}"
    )
