"""The end-of-request summary line and the request timer."""

from __future__ import annotations

from fmgate.core.events import Usage
from fmgate.observability.request_metrics import RequestTimer, request_summary_line


def test_summary_line_with_system_prompt_split() -> None:
    line = request_summary_line(
        bot="claude",
        model="us.anthropic.claude-sonnet-4-20250514-v1:0",
        ttft_ms=412.4,
        usage=Usage(input_tokens=1200, output_tokens=350),
        latency_ms=3810.6,
        latency_optimized=True,
        outcome="ok",
        system_tokens=200,
        excl_system=1000,
    )
    assert line == (
        "bot=claude model=us.anthropic.claude-sonnet-4-20250514-v1:0 ttft_ms=412 "
        "input_tokens=1200 (system=200 excl_system=1000) output_tokens=350 "
        "latency_ms=3811 latency_optimized=on outcome=ok"
    )


def test_summary_line_shows_the_prompt_cache_the_split_covers() -> None:
    line = request_summary_line(
        bot="claude",
        model="anthropic.claude-sonnet-4-20250514-v1:0",
        ttft_ms=40,
        usage=Usage(input_tokens=12, output_tokens=30, cache_read_tokens=2000),
        latency_ms=90,
        latency_optimized=False,
        outcome="ok",
        system_tokens=1900,
        excl_system=112,
    )
    assert "input_tokens=12 cache_read_tokens=2000 (system=1900 excl_system=112) " in line


def test_summary_line_when_little_is_known() -> None:
    line = request_summary_line(
        bot="nova",
        model="amazon.nova-micro-v1:0",
        ttft_ms=None,
        usage=None,
        latency_ms=12.0,
        latency_optimized=False,
        outcome="throttled",
    )
    assert line == (
        "bot=nova model=amazon.nova-micro-v1:0 ttft_ms=n/a input_tokens=n/a output_tokens=n/a "
        "latency_ms=12 latency_optimized=off outcome=throttled"
    )


def test_estimated_usage_is_marked() -> None:
    line = request_summary_line(
        bot="b",
        model="m.m-v1:0",
        ttft_ms=5,
        usage=Usage(input_tokens=10, output_tokens=3, estimated=True),
        latency_ms=9,
        latency_optimized=False,
        outcome="stream_failed",
    )
    assert "input_tokens=10 (system=n/a excl_system=n/a) output_tokens=3 estimated=yes" in line


def test_timer_keeps_the_first_token_time() -> None:
    timer = RequestTimer()
    before = timer.ttft_ms
    timer.mark_first_token()
    first = timer.ttft_ms
    timer.mark_first_token()
    assert first is not None
    assert timer.ttft_ms == first
    assert timer.elapsed_ms >= first >= 0
    assert before is None
