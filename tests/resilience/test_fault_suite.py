"""Fault injection under concurrent load: the emulator's faults, the real Poe front and ledger.

Every scenario sends tens of concurrent requests through fastapi_poe's wire format and checks
every one: a well-formed Poe stream (meta first, done last, at most one error), exactly one
ledger row with the right outcome and answering model, and nothing left hanging (each scenario
is bounded by ``SCENARIO_LIMIT_SECONDS``).
"""

from __future__ import annotations

import tracemalloc

import pytest

from fmgate_emulator import AsyncEmulatorClient
from tests.harness.load import (
    ask,
    assert_well_formed,
    finished_requests,
    ledger_rows,
    load,
    metric,
    models_of,
    outcomes_of,
)
from tests.resilience.catalog import (
    LONELY,
    PRIMARY,
    QUIET_PRIMARY,
    QUIET_WEST,
    WEST,
    OpenServed,
)

#: Faults hit the answer only (CountTokens, used for usage estimates, stays healthy).
STREAM = "ConverseStream"
FALLBACK_NOTICE = f"_Answered by Nova Pro in us-west-2 because {PRIMARY} is busy._"


async def model_calls(emu: AsyncEmulatorClient, model_id: str) -> int:
    """ConverseStream calls the emulator saw for exactly this model id."""
    counters = await emu.counters()
    return int(counters["by_model"].get(model_id, 0))


async def test_throttle_burst_is_absorbed_by_retries_and_fallbacks(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", model_id=PRIMARY, count=40)
    async with served() as s:
        outcomes = await load(s, "resilient", 60)
        rows = await ledger_rows(s, outcomes)
        fallbacks = metric(s.gateway, "fmgate_fallbacks_total", bot="resilient")
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.error is None
    assert outcomes_of(rows) == {"ok": 60}
    by_model = models_of(rows)
    assert set(by_model) <= {PRIMARY, WEST}
    assert by_model[WEST] > 0
    assert fallbacks == by_model[WEST]
    for outcome, row in zip(outcomes, rows, strict=True):
        announced = outcome.text.startswith(FALLBACK_NOTICE)
        assert announced == (row.model_id == WEST)


async def test_regional_outage_is_served_by_the_fallback_and_opens_the_circuit(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("unavailable", model_id=PRIMARY, count=-1)
    async with served() as s:
        first_wave = await load(s, "resilient", 50)
        primary_calls = await model_calls(emu, PRIMARY)
        second_wave = await load(s, "resilient", 50, first=50)
        rows = await ledger_rows(s, first_wave + second_wave)
        opened = metric(s.gateway, "fmgate_circuits_opened_total", model=PRIMARY)
        fallbacks = metric(s.gateway, "fmgate_fallbacks_total", bot="resilient")
    for outcome in first_wave + second_wave:
        assert_well_formed(outcome)
        assert outcome.error is None
        assert outcome.text.startswith(FALLBACK_NOTICE)
    assert models_of(rows) == {WEST: 100}
    assert outcomes_of(rows) == {"ok": 100}
    assert fallbacks == 100
    assert opened == 1
    # Up to two tries per request of the first wave; none at all once the circuit was open.
    assert 3 <= primary_calls <= 2 * 50
    assert await model_calls(emu, PRIMARY) == primary_calls
    assert await model_calls(emu, WEST) == 100


async def test_quiet_fallback_is_recorded_but_not_announced(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("model_not_ready", model_id=QUIET_PRIMARY, count=-1)
    async with served() as s:
        outcomes = await load(s, "quiet", 20)
        rows = await ledger_rows(s, outcomes)
        fallbacks = metric(s.gateway, "fmgate_fallbacks_total", bot="quiet")
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.text.startswith("Echo: hello")
    assert models_of(rows) == {QUIET_WEST: 20}
    assert fallbacks == 20


async def test_mid_stream_failures_end_with_one_error_and_never_fall_back(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "mid_stream_exception",
        model_id=PRIMARY,
        count=20,
        after_tokens=3,
        exception="modelStreamErrorException",
    )
    async with served() as s:
        outcomes = await load(s, "resilient", 40)
        rows = await ledger_rows(s, outcomes)
    pending = await emu.faults()
    fired = 20 - (int(pending[0]["count"]) if pending else 0)
    assert fired >= 3
    failed = [o for o in outcomes if o.error is not None]
    assert len(failed) == fired
    for outcome in outcomes:
        assert_well_formed(outcome)
    for outcome in failed:
        assert outcome.error is not None
        assert outcome.error["allow_retry"] is False  # text was already shown
        assert outcome.text.startswith("Echo:")
    outcomes_by_row = outcomes_of(rows)
    assert outcomes_by_row == {"stream_failed": fired, "ok": 40 - fired}
    for row in rows:
        if row.outcome == "stream_failed":
            assert row.model_id == PRIMARY  # the model that answered part-way
            assert row.output_tokens > 0
            assert row.estimated


@pytest.mark.parametrize(
    ("kind", "delay"),
    [("stall", 0.0), ("slow_first_token", 5.0)],
    ids=["stalled", "slow-first-token"],
)
async def test_silent_primary_is_timed_out_and_the_fallback_answers(
    served: OpenServed, emu: AsyncEmulatorClient, kind: str, delay: float
) -> None:
    await emu.inject(kind, model_id=PRIMARY, operation=STREAM, count=-1, delay_seconds=delay)
    async with served(first_token=1.0) as s:
        outcomes = await load(s, "resilient", 30)
        rows = await ledger_rows(s, outcomes)
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.error is None
        assert outcome.text.startswith(FALLBACK_NOTICE)
    assert models_of(rows) == {WEST: 30}


async def test_stall_after_output_is_cut_with_an_error_event(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("stall", model_id=LONELY, operation=STREAM, count=-1, after_tokens=3)
    async with served(idle=1.0, threshold=1000) as s:
        outcomes = await load(s, "lonely", 20)
        rows = await ledger_rows(s, outcomes)
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.error is not None
        assert outcome.error["allow_retry"] is False
        assert "too long" in str(outcome.error["text"])
        assert outcome.text.startswith("Echo:")
    assert outcomes_of(rows) == {"timeout": 20}


async def test_whole_request_deadline_cuts_a_slow_answer(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("stall", model_id=LONELY, operation=STREAM, count=-1, after_tokens=2)
    async with served(idle=30.0, deadline=1.0, threshold=1000) as s:
        outcomes = await load(s, "lonely", 10)
        rows = await ledger_rows(s, outcomes)
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.error is not None
    assert outcomes_of(rows) == {"timeout": 10}


async def test_connection_drops_before_answering_fall_back_and_after_it_fail(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("drop_connection", model_id=PRIMARY, operation=STREAM, count=-1)
    await emu.inject("drop_connection", model_id=LONELY, operation=STREAM, count=-1, after_tokens=3)
    async with served(threshold=1000) as s:
        dropped_early = await load(s, "resilient", 30)
        dropped_late = await load(s, "lonely", 20, first=30)
        rows = await ledger_rows(s, dropped_early + dropped_late)
    for outcome in dropped_early + dropped_late:
        assert_well_formed(outcome)
    assert all(o.error is None for o in dropped_early)
    assert all(o.error is not None and o.text for o in dropped_late)
    assert models_of(rows[:30]) == {WEST: 30}
    assert outcomes_of(rows[30:]) == {"unavailable": 20}


async def test_mixed_faults_under_load_lose_nothing_and_stay_within_memory(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("throttle", model_id=PRIMARY, count=15)
    await emu.inject(
        "mid_stream_exception", model_id=LONELY, count=10, after_tokens=2, exception=None
    )
    await emu.inject("drop_connection", model_id=QUIET_PRIMARY, operation=STREAM, count=10)
    tracemalloc.start()
    try:
        async with served(threshold=1000) as s:
            batches = [
                await load(s, "resilient", 40),
                await load(s, "lonely", 30, first=40),
                await load(s, "quiet", 30, first=70),
            ]
            outcomes = [o for batch in batches for o in batch]
            rows = await ledger_rows(s, outcomes)
            finished = finished_requests(s.gateway)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    for outcome in outcomes:
        assert_well_formed(outcome)
    assert finished == len(outcomes) == 100
    assert len({row.request_id for row in rows}) == 100
    assert outcomes_of(rows[:40]) == {"ok": 40}
    assert outcomes_of(rows[70:]) == {"ok": 30}
    lonely = outcomes_of(rows[40:70])
    assert lonely["throttled"] == 10  # in-stream throttling after text: an error, no retry
    assert lonely["ok"] == 20
    # Generous: the gateway, the emulator's thread and 100 finished requests together.
    assert peak < 200 * 1024 * 1024


async def test_open_circuit_without_fallback_fails_fast_without_calling(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("unavailable", model_id=LONELY, count=-1)
    async with served() as s:
        outcomes = [await ask(s.session, "lonely", f"user-{i}") for i in range(5)]
        rows = await ledger_rows(s, outcomes)
    for outcome in outcomes:
        assert_well_formed(outcome)
        assert outcome.error is not None
        assert outcome.error["allow_retry"] is True
    # Two tries for the first request, one for the second: the third failure opened the circuit.
    assert await model_calls(emu, LONELY) == 3
    assert outcomes_of(rows) == {"unavailable": 5}


async def test_single_request_after_recovery_uses_the_primary_again(
    served: OpenServed, emu: AsyncEmulatorClient
) -> None:
    """A short outage (fewer failures than the threshold) leaves the circuit closed."""
    await emu.inject("server_error", model_id=PRIMARY, count=2)
    async with served() as s:
        first = await ask(s.session, "resilient", "user-a")
        second = await ask(s.session, "resilient", "user-b")
        rows = await ledger_rows(s, [first, second])
    assert first.text.startswith(FALLBACK_NOTICE)
    assert not second.text.startswith("_Answered")
    assert [row.model_id for row in rows] == [WEST, PRIMARY]
