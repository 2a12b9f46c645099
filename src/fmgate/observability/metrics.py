"""Prometheus metrics for the gateway, in a registry of its own (never the global default).

The lead's request path calls a handful of methods (``request_started``, ``request_ended``,
``request_finished``, ``error``, ``retry``, ``fallback``); each resolves its labelled child once
and keeps it in a dict, so a call costs a dict lookup and an add. ``render`` produces the text
exposition served at ``/metrics``.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Protocol, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

#: Seconds; spans a cached 1 ms answer to the 120 s Poe limit (and a little beyond).
LATENCY_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    20.0,
    30.0,
    60.0,
    120.0,
    300.0,
)

#: Seconds; the gateway's own time per request, from a tenth of a millisecond up to a long
#: queue for a concurrency slot.
OVERHEAD_BUCKETS: tuple[float, ...] = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
    30.0,
)

#: Seconds; how late the event loop ran the overload monitor's timer.
LOOP_LAG_BUCKETS: tuple[float, ...] = (
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
    2.5,
    5.0,
)

Child = TypeVar("Child")


class TargetConcurrency(Protocol):
    """One (model, region)'s adaptive concurrency, as the metrics read it
    (``fmgate.resilience.concurrency.LimitStatus`` is one)."""

    @property
    def model_id(self) -> str: ...
    @property
    def aws_region(self) -> str: ...
    @property
    def limit(self) -> float: ...
    @property
    def running(self) -> int: ...
    @property
    def waiting(self) -> int: ...
    @property
    def queued(self) -> int: ...


class ConcurrencyCollector(Collector):
    """Concurrency limits per (model, region), read from ``source`` at every scrape."""

    def __init__(self) -> None:
        self.source: Callable[[], Sequence[TargetConcurrency]] = list

    def collect(self) -> Iterator[GaugeMetricFamily | CounterMetricFamily]:
        labels = ("model", "region")
        limit = GaugeMetricFamily(
            "fmgate_concurrency_limit",
            "Calls at once allowed per model and region: learned from Bedrock's refusals, or a "
            "static cap; +Inf when nothing limits them.",
            labels=labels,
        )
        running = GaugeMetricFamily(
            "fmgate_concurrency_running", "Calls running per model and region.", labels=labels
        )
        waiting = GaugeMetricFamily(
            "fmgate_concurrency_waiting",
            "Calls queued for a slot per model and region.",
            labels=labels,
        )
        queued = CounterMetricFamily(
            "fmgate_concurrency_queued",
            "Calls that had to wait for a slot per model and region (busy ones included).",
            labels=labels,
        )
        for target in self.source():
            key = [target.model_id, target.aws_region]
            limit.add_metric(key, target.limit)
            running.add_metric(key, target.running)
            waiting.add_metric(key, target.waiting)
            queued.add_metric(key, target.queued)
        yield from (limit, running, waiting, queued)


class _Children(dict[Hashable, Child]):
    """Labelled children of one metric, created on first use and then reused."""

    def __init__(self, make: Callable[..., Child]) -> None:
        super().__init__()
        self._make = make

    def __missing__(self, key: Hashable) -> Child:
        labels = key if isinstance(key, tuple) else (key,)
        child = self[key] = self._make(*labels)
        return child


class GatewayMetrics:
    """All of the gateway's metrics; one instance per running gateway."""

    def __init__(self, *, upstream_pool: Callable[[], float] | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._requests = Counter(
            "fmgate_requests",
            "Requests finished, by bot, front and outcome (ok, cancelled, guardrail: a "
            "guardrail intervened, or an error code).",
            ("bot", "front", "outcome"),
            registry=r,
        )
        self._errors = Counter(
            "fmgate_errors", "Requests that failed, by error code.", ("bot", "code"), registry=r
        )
        self._retries = Counter(
            "fmgate_retries", "Upstream calls retried after an error.", ("bot",), registry=r
        )
        self._fallbacks = Counter(
            "fmgate_fallbacks", "Requests answered by a fallback model.", ("bot",), registry=r
        )
        self._circuits_opened = Counter(
            "fmgate_circuits_opened",
            "Times a circuit breaker opened (a model in a region is skipped for a cool-down).",
            ("model", "region"),
            registry=r,
        )
        self._ttft = Histogram(
            "fmgate_ttft_seconds",
            "Time from request arrival to the first output sent to the caller.",
            ("bot",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._latency = Histogram(
            "fmgate_request_latency_seconds",
            "Time from request arrival to its end (success, failure or cancellation).",
            ("bot",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._tokens = Counter(
            "fmgate_tokens",
            "Tokens used, by direction: input (prompt tokens billed at the input price), output, "
            "cache_read and cache_write (prompt tokens read from and written to the prompt "
            "cache); the four add up to Bedrock's total tokens.",
            ("bot", "direction"),
            registry=r,
        )
        self._system_tokens = Counter(
            "fmgate_system_prompt_tokens",
            "Prompt tokens that were the system prompt (counted with CountTokens), in the "
            "requests whose billing split is known.",
            ("bot",),
            registry=r,
        )
        self._cost = Counter(
            "fmgate_cost_milli_cents",
            "Cost charged to callers, in US milli-cents.",
            ("bot",),
            registry=r,
        )
        self._inflight = Gauge(
            "fmgate_inflight_streams",
            "Requests being answered right now (streamed or whole), from the bot's start to its "
            "end; their sum is what gateway.overload.max_streams caps.",
            ("bot",),
            registry=r,
        )
        self._overhead = Histogram(
            "fmgate_gateway_overhead_seconds",
            "Gateway time per request that called Bedrock: arrival to the request's end minus "
            "the time a Bedrock call was open.",
            ("front",),
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )
        self._before_upstream = Histogram(
            "fmgate_gateway_overhead_before_upstream_seconds",
            "Gateway time before the first Bedrock call of a request: arrival to the call "
            "handed to the AWS SDK (what the gateway adds to the time to first token).",
            ("front",),
            buckets=OVERHEAD_BUCKETS,
            registry=r,
        )
        self._overload_refusals = Counter(
            "fmgate_overload_refusals",
            "Requests refused because this process was saturated, by reason (streams, "
            "loop_lag) and front.",
            ("reason", "front"),
            registry=r,
        )
        self._loop_lag = Gauge(
            "fmgate_event_loop_lag_seconds",
            "How late the event loop runs a timer, smoothed (what gateway.overload."
            "max_loop_lag_seconds is compared with).",
            registry=r,
        )
        self._loop_delay = Histogram(
            "fmgate_event_loop_delay_seconds",
            "Every lag sample (ten a second): how late the event loop ran the monitor's timer.",
            buckets=LOOP_LAG_BUCKETS,
            registry=r,
        )
        self._pool = Gauge(
            "fmgate_upstream_pool_connections",
            "Upstream (Bedrock) connections in use: calls running, read at scrape time.",
            registry=r,
        )
        self._ledger_records = Counter(
            "fmgate_ledger_records",
            "Usage records committed to the ledger (each one durable once counted).",
            registry=r,
        )
        self._concurrency = ConcurrencyCollector()
        r.register(self._concurrency)
        self._pool_source: Callable[[], float] = lambda: 0.0
        self._pool.set_function(lambda: self._pool_source())
        self._loop_lag_source: Callable[[], float] = lambda: 0.0
        self._loop_lag.set_function(lambda: self._loop_lag_source())
        if upstream_pool is not None:
            self.watch_upstream_pool(upstream_pool)

        self._request_children = _Children(self._requests.labels)
        self._error_children = _Children(self._errors.labels)
        self._retry_children = _Children(self._retries.labels)
        self._fallback_children = _Children(self._fallbacks.labels)
        self._circuit_children = _Children(self._circuits_opened.labels)
        self._ttft_children = _Children(self._ttft.labels)
        self._latency_children = _Children(self._latency.labels)
        self._token_children = _Children(self._tokens.labels)
        self._system_token_children = _Children(self._system_tokens.labels)
        self._cost_children = _Children(self._cost.labels)
        self._inflight_children = _Children(self._inflight.labels)
        self._overhead_children = _Children(self._overhead.labels)
        self._before_upstream_children = _Children(self._before_upstream.labels)
        self._overload_children = _Children(self._overload_refusals.labels)

    def watch_upstream_pool(self, source: Callable[[], float]) -> None:
        """Read the upstream pool's connection count from ``source`` at every scrape."""
        self._pool_source = source

    def watch_concurrency(self, source: Callable[[], Sequence[TargetConcurrency]]) -> None:
        """Read every target's adaptive concurrency from ``source`` at every scrape."""
        self._concurrency.source = source

    def watch_event_loop(self, lag: Callable[[], float]) -> None:
        """Read the smoothed event-loop lag from ``lag`` at every scrape."""
        self._loop_lag_source = lag

    def request_started(self, bot: str) -> None:
        """A request's answer began (in-flight +1); pair with :meth:`request_ended`."""
        self._inflight_children[bot].inc()

    def request_ended(self, bot: str) -> None:
        """A request's answer ended, however it ended (in-flight -1)."""
        self._inflight_children[bot].dec()

    def gateway_overhead(self, front: str, before_upstream_s: float, own_s: float) -> None:
        """A request that called Bedrock: the gateway's time before its first call, and in all."""
        self._before_upstream_children[front].observe(before_upstream_s)
        self._overhead_children[front].observe(own_s)

    def overload_refused(self, reason: str, front: str) -> None:
        """A request refused because the process was saturated."""
        self._overload_children[reason, front].inc()

    def loop_lag_sampled(self, seconds: float) -> None:
        """One event-loop lag sample."""
        self._loop_delay.observe(seconds)

    def request_finished(
        self,
        bot: str,
        front: str,
        outcome: str,
        ttft_s: float | None,
        latency_s: float,
        input_tokens: int,
        output_tokens: int,
        cost_milli_cents: int,
        *,
        cache_read_tokens: int = 0,
        cache_write_tokens: int = 0,
    ) -> None:
        """Count a finished request: outcome, timings, tokens (prompt-cache reads and writes
        apart from the uncached input) and cost."""
        self._request_children[bot, front, outcome].inc()
        if ttft_s is not None:
            self._ttft_children[bot].observe(ttft_s)
        self._latency_children[bot].observe(latency_s)
        if input_tokens:
            self._token_children[bot, "input"].inc(input_tokens)
        if output_tokens:
            self._token_children[bot, "output"].inc(output_tokens)
        if cache_read_tokens:
            self._token_children[bot, "cache_read"].inc(cache_read_tokens)
        if cache_write_tokens:
            self._token_children[bot, "cache_write"].inc(cache_write_tokens)
        if cost_milli_cents:
            self._cost_children[bot].inc(cost_milli_cents)

    def system_prompt_tokens(self, bot: str, tokens: int) -> None:
        """A request's billing split is known: ``tokens`` of its prompt were the system
        prompt."""
        if tokens:
            self._system_token_children[bot].inc(tokens)

    def ledger_recorded(self) -> None:
        """A usage record was committed to the ledger."""
        self._ledger_records.inc()

    def error(self, bot: str, code: str) -> None:
        self._error_children[bot, code].inc()

    def retry(self, bot: str) -> None:
        self._retry_children[bot].inc()

    def fallback(self, bot: str) -> None:
        self._fallback_children[bot].inc()

    def circuit_opened(self, model_id: str, region: str) -> None:
        self._circuit_children[model_id, region].inc()

    def render(self) -> tuple[bytes, str]:
        """The text exposition and its content type, for ``GET /metrics``."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
