"""Per-request bookkeeping shared by every front: timing, what was delivered, the outcome.

A :class:`RequestTracker` watches a bot's event stream as a front forwards it. When the request
ends (success, failure, or the caller going away) the front hands the tracker to
:class:`fmgate.accounting.finisher.RequestFinisher`, which prices, records and reports it off the
request's path.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from fmgate.config.bot_config import BotConfig
from fmgate.core.errors import GatewayError
from fmgate.core.events import OUTPUT_EVENTS, Event, Summary, fold
from fmgate.observability.overhead import RequestClock

#: The outcome of a request a guardrail stopped (``stopReason: guardrail_intervened``): it was
#: answered, with the guardrail's blocked message.
GUARDRAIL_OUTCOME = "guardrail"


@dataclass(slots=True)
class RequestTracker:
    request_id: str
    bot: BotConfig
    front: str
    user_id: str = ""
    conversation_id: str = ""
    started_at: float = field(default_factory=time.time)
    _started: float = field(default_factory=time.perf_counter)
    first_output_at: float | None = None
    ended_at: float | None = None
    summary: Summary = field(default_factory=Summary)
    outcome: str = "ok"
    error: GatewayError | None = None
    images_in: int = 0
    #: The gateway's own time against Bedrock's (``fmgate_gateway_overhead_*``).
    clock: RequestClock = field(default_factory=RequestClock)

    def observe(self, event: Event) -> None:
        if self.first_output_at is None and isinstance(event, OUTPUT_EVENTS):
            self.first_output_at = time.perf_counter()
        fold(self.summary, event)

    @property
    def delivered(self) -> bool:
        """Whether any output reached the caller."""
        return self.first_output_at is not None

    def succeeded(self) -> None:
        """The answer ended as the model ended it: ``ok``, or ``guardrail`` when a guardrail
        intervened."""
        intervened = self.summary.stop_reason == "guardrail_intervened"
        self._end(GUARDRAIL_OUTCOME if intervened else "ok", None)

    def failed(self, error: GatewayError) -> None:
        self._end(error.code, error)

    def cancelled(self) -> None:
        self._end("cancelled", None)

    def _end(self, outcome: str, error: GatewayError | None) -> None:
        if self.ended_at is None:
            self.ended_at = time.perf_counter()
            self.outcome = outcome
            self.error = error

    @property
    def ttft_ms(self) -> float | None:
        if self.first_output_at is None:
            return None
        return (self.first_output_at - self._started) * 1000

    @property
    def overhead(self) -> tuple[float, float] | None:
        """The gateway's seconds before the first Bedrock call and in all (to the request's
        end), or None when it made no Bedrock call."""
        before = self.clock.before_upstream_seconds
        if before is None:
            return None
        end = self.ended_at if self.ended_at is not None else time.perf_counter()
        return before, self.clock.own_seconds(end)

    @property
    def latency_ms(self) -> float:
        end = self.ended_at if self.ended_at is not None else time.perf_counter()
        return (end - self._started) * 1000
