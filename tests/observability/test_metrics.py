"""GatewayMetrics: its own registry, parseable exposition, values that move with requests."""

from __future__ import annotations

from fmgate.observability.metrics import GatewayMetrics
from tests.harness.scrape import samples, value


def test_fresh_metrics_parse_and_stay_out_of_the_global_registry() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()  # no "Duplicated timeseries" error
    names = {s.name for s in samples(first)}
    assert "fmgate_upstream_pool_connections" in names
    first.retry("claude")
    assert value(second, "fmgate_retries_total", bot="claude") is None


def test_a_finished_request_moves_counters_histograms_and_tokens() -> None:
    metrics = GatewayMetrics()
    metrics.request_started("claude")
    assert value(metrics, "fmgate_inflight_streams", bot="claude") == 1
    metrics.request_finished("claude", "poe", "ok", 0.25, 1.5, 1000, 200, 606)
    metrics.request_ended("claude")
    metrics.request_finished("claude", "poe", "throttled", None, 0.01, 0, 0, 0)
    metrics.error("claude", "throttled")
    metrics.retry("claude")
    metrics.retry("claude")
    metrics.fallback("claude")

    assert value(metrics, "fmgate_inflight_streams", bot="claude") == 0
    assert value(metrics, "fmgate_requests_total", bot="claude", front="poe", outcome="ok") == 1
    assert (
        value(metrics, "fmgate_requests_total", bot="claude", front="poe", outcome="throttled") == 1
    )
    assert value(metrics, "fmgate_errors_total", bot="claude", code="throttled") == 1
    assert value(metrics, "fmgate_retries_total", bot="claude") == 2
    assert value(metrics, "fmgate_fallbacks_total", bot="claude") == 1
    assert value(metrics, "fmgate_tokens_total", bot="claude", direction="input") == 1000
    assert value(metrics, "fmgate_tokens_total", bot="claude", direction="output") == 200
    assert value(metrics, "fmgate_cost_milli_cents_total", bot="claude") == 606
    # TTFT is observed only when something was delivered; latency always.
    assert value(metrics, "fmgate_ttft_seconds_count", bot="claude") == 1
    assert value(metrics, "fmgate_ttft_seconds_sum", bot="claude") == 0.25
    assert value(metrics, "fmgate_request_latency_seconds_count", bot="claude") == 2
    assert value(metrics, "fmgate_request_latency_seconds_bucket", bot="claude", le="0.01") == 1
    assert value(metrics, "fmgate_request_latency_seconds_bucket", bot="claude", le="2.5") == 2


def test_prompt_cache_reads_and_writes_are_token_directions_of_their_own() -> None:
    metrics = GatewayMetrics()
    metrics.request_finished(
        "claude", "poe", "ok", 0.2, 1.0, 2, 40, 99, cache_read_tokens=1322, cache_write_tokens=30
    )
    metrics.request_finished("claude", "openai", "ok", 0.2, 1.0, 5, 8, 9, cache_write_tokens=1400)
    metrics.request_finished("llama", "poe", "ok", 0.2, 1.0, 700, 8, 9)

    def tokens(bot: str, direction: str) -> float | None:
        return value(metrics, "fmgate_tokens_total", bot=bot, direction=direction)

    assert [tokens("claude", d) for d in ("input", "output", "cache_read", "cache_write")] == [
        7,
        48,
        1322,
        1430,
    ]
    # A bot that never used the cache exposes no cache series.
    assert (tokens("llama", "cache_read"), tokens("llama", "cache_write")) == (None, None)


def test_histogram_buckets_span_a_millisecond_to_two_minutes() -> None:
    metrics = GatewayMetrics()
    metrics.request_finished("b", "poe", "ok", 0.0005, 119.0, 1, 1, 1)
    bounds = [
        float(s.labels["le"])
        for s in samples(metrics)
        if s.name == "fmgate_request_latency_seconds_bucket"
    ]
    assert bounds[0] <= 0.001
    assert 120.0 in bounds
    assert value(metrics, "fmgate_ttft_seconds_bucket", bot="b", le="0.001") == 1
    assert value(metrics, "fmgate_request_latency_seconds_bucket", bot="b", le="60.0") == 0
    assert value(metrics, "fmgate_request_latency_seconds_bucket", bot="b", le="120.0") == 1


def test_upstream_pool_gauge_is_read_at_scrape_time() -> None:
    in_use = [3]
    metrics = GatewayMetrics(upstream_pool=lambda: in_use[0])
    assert value(metrics, "fmgate_upstream_pool_connections") == 3
    in_use[0] = 7
    assert value(metrics, "fmgate_upstream_pool_connections") == 7
    metrics.watch_upstream_pool(lambda: 11)
    assert value(metrics, "fmgate_upstream_pool_connections") == 11


def test_overload_and_overhead_metrics_move_with_their_calls() -> None:
    metrics = GatewayMetrics()
    lag = 0.0
    metrics.watch_event_loop(lambda: lag)
    assert value(metrics, "fmgate_event_loop_lag_seconds") == 0
    lag = 0.42
    assert value(metrics, "fmgate_event_loop_lag_seconds") == 0.42  # read at scrape time
    metrics.loop_lag_sampled(0.0002)
    metrics.loop_lag_sampled(0.3)
    assert value(metrics, "fmgate_event_loop_delay_seconds_count") == 2
    assert value(metrics, "fmgate_event_loop_delay_seconds_bucket", le="0.001") == 1

    metrics.overload_refused("streams", "openai")
    metrics.overload_refused("streams", "openai")
    metrics.overload_refused("loop_lag", "poe")
    refusals = "fmgate_overload_refusals_total"
    assert value(metrics, refusals, reason="streams", front="openai") == 2
    assert value(metrics, refusals, reason="loop_lag", front="poe") == 1

    metrics.gateway_overhead("poe", 0.0003, 0.0008)
    own = "fmgate_gateway_overhead_seconds"
    before = "fmgate_gateway_overhead_before_upstream_seconds"
    assert value(metrics, f"{own}_count", front="poe") == 1
    assert value(metrics, f"{own}_sum", front="poe") == 0.0008
    assert value(metrics, f"{before}_sum", front="poe") == 0.0003
    # Sub-millisecond buckets: a gateway that adds a fraction of a millisecond shows it.
    assert value(metrics, f"{before}_bucket", front="poe", le="0.0005") == 1
    assert value(metrics, f"{own}_bucket", front="poe", le="0.0005") == 0
