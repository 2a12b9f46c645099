"""The overload guard on its own: when the process counts as saturated, what a refusal records,
what the event-loop monitor measures, and what reaches the log (never a line per request)."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from pathlib import Path

import pytest
import yaml

from fmgate.config.gateway_settings import OverloadSettings
from fmgate.resilience.overload import (
    LOG_EVERY_SECONDS,
    OverloadGuard,
    Reason,
    Saturation,
    SaturationLog,
)

DOC = Path(__file__).parents[2] / "docs" / "resilience.md"

#: Seconds before a wait fails the test instead of stalling CI (a bound, not a timing assertion).
BOUND = 20.0


def test_saturated_from_the_cap_on_and_free_again_below_it() -> None:
    guard = OverloadGuard(OverloadSettings(max_streams=2, max_loop_lag_seconds=None))
    guard.stream_opened()
    assert guard.saturation() is None
    guard.stream_opened()
    assert guard.saturation() == Saturation("streams", 2, 0.0)
    guard.stream_closed()
    assert guard.saturation() is None


def test_saturated_while_the_smoothed_lag_is_over_the_limit() -> None:
    guard = OverloadGuard(OverloadSettings(max_streams=None, max_loop_lag_seconds=0.2))
    guard.sample(0.1)  # smoothed: a quarter of the sample
    assert guard.saturation() is None
    for _ in range(10):
        guard.sample(1.0)
    saturation = guard.saturation()
    assert saturation is not None
    assert saturation.reason == "loop_lag"
    assert 0.2 < saturation.loop_lag_seconds < 1.0
    for _ in range(20):
        guard.sample(0.0)
    assert guard.saturation() is None


def test_no_limits_never_saturate() -> None:
    guard = OverloadGuard(OverloadSettings(max_streams=None, max_loop_lag_seconds=None))
    for _ in range(100):
        guard.stream_opened()
        guard.sample(5.0)
    assert guard.saturation() is None


def test_check_reports_each_refusal_with_its_reason_and_front() -> None:
    refused: list[tuple[Reason, str]] = []
    samples: list[float] = []
    guard = OverloadGuard(
        OverloadSettings(max_streams=1),
        on_refused=lambda reason, front: refused.append((reason, front)),
        on_lag_sample=samples.append,
    )
    assert guard.check("poe") is None
    guard.stream_opened()
    assert guard.check("openai") is not None
    assert guard.check("anthropic") is not None
    assert guard.saturation() is not None  # asking (readiness) is not a refusal
    assert refused == [("streams", "openai"), ("streams", "anthropic")]
    guard.sample(0.003)
    assert samples == [0.003]


async def test_the_monitor_sees_a_blocked_loop_and_stops_with_its_context() -> None:
    guard = OverloadGuard(OverloadSettings(max_loop_lag_seconds=0.05))
    tasks_before = len(asyncio.all_tasks())
    async with guard.monitoring():
        assert len(asyncio.all_tasks()) == tasks_before + 1
        async with asyncio.timeout(BOUND):
            while guard.saturation() is None:
                busy_until = time.perf_counter() + 0.3
                while time.perf_counter() < busy_until:  # the loop runs nothing else meanwhile
                    pass
                await asyncio.sleep(0)
        saturation = guard.saturation()
        assert saturation is not None
        assert saturation.reason == "loop_lag"
        async with asyncio.timeout(BOUND):
            while guard.saturation() is not None:  # noqa: ASYNC110 - the monitor moves it
                await asyncio.sleep(0.05)
    assert len(asyncio.all_tasks()) == tasks_before


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


STREAMS = Saturation("streams", 10, 0.001)


def test_the_log_says_when_saturation_begins_lasts_and_ends(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = FakeClock()
    log = SaturationLog(clock)
    caplog.set_level(logging.INFO, logger="fmgate.overload")
    log.update(None, 0)
    assert caplog.messages == []
    log.update(STREAMS, 1)
    for refused in range(2, 50):  # many ticks, many refusals: no new line
        clock.now += 0.1
        log.update(STREAMS, refused)
    assert len(caplog.messages) == 1
    assert "saturated (streams: 10 open streams" in caplog.messages[0]
    clock.now += LOG_EVERY_SECONDS
    log.update(STREAMS, 80)
    assert len(caplog.messages) == 2
    assert "still saturated" in caplog.messages[1]
    assert "79 new requests refused" in caplog.messages[1]
    clock.now += 0.1
    log.update(None, 85)
    assert caplog.messages[2] == "no longer saturated; 5 new requests were refused since"
    assert [record.levelname for record in caplog.records] == ["WARNING", "WARNING", "INFO"]


def test_the_documented_example_is_valid_overload_settings() -> None:
    examples = re.findall(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    [example] = [text for text in examples if "overload:" in text]
    settings = OverloadSettings.model_validate(yaml.safe_load(example)["gateway"]["overload"])
    assert settings == OverloadSettings(
        max_streams=2000, max_loop_lag_seconds=0.25, retry_after_seconds=2
    )
