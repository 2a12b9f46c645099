"""The usage-ledger contract, run against every store (SQLite and a real PostgreSQL).

Each test receives ``open_ledger_store`` (see conftest): calling it opens the test's store, a
fresh one per test, and calling it again reopens the same store.
"""

from __future__ import annotations

import asyncio

import pytest

from fmgate.accounting.ledger import UsageTotals
from fmgate.accounting.ledger_schema import LedgerClosed
from tests.accounting.ledger_stores import LedgerOpener
from tests.accounting.records import DAY_ONE, DAY_SECONDS, usage_record

#: 2025-03-02 00:00:00 UTC (DAY_ONE is noon the day before).
MIDNIGHT = DAY_ONE + DAY_SECONDS / 2


async def test_record_then_read_back_after_reopen(open_ledger_store: LedgerOpener) -> None:
    records = [
        usage_record("r1", estimated=True, ttft_ms=None, outcome="stream_failed"),
        # Floats that are not short decimals must come back bit for bit.
        usage_record("r2", started_at=DAY_ONE + 0.1 + 0.2, latency_ms=1 / 3, ttft_ms=2 / 7),
        usage_record("r3", front="openai", input_tokens=2**40, cache_read_tokens=7),
    ]
    ledger = await open_ledger_store()
    for record in records:
        await ledger.record(record)
    assert await ledger.get("r1") == records[0]
    await ledger.aclose()

    reopened = await open_ledger_store()
    assert [await reopened.get(record.request_id) for record in records] == records
    assert await reopened.get("missing") is None


async def test_the_service_tier_is_kept(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    flex = usage_record("r1", service_tier="flex")
    await ledger.record(flex)
    await ledger.record(usage_record("r2"))
    assert await ledger.get("r1") == flex
    untiered = await ledger.get("r2")
    assert untiered is not None
    assert untiered.service_tier is None


async def test_the_billing_split_is_kept(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    split = usage_record("r1", system_tokens=300, input_tokens_excl_system=700)
    await ledger.record(split)
    await ledger.record(usage_record("r2"))
    assert await ledger.get("r1") == split
    unknown = await ledger.get("r2")
    assert unknown is not None
    assert (unknown.system_tokens, unknown.input_tokens_excl_system) == (None, None)


async def test_a_guardrail_intervention_is_not_an_error(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    await ledger.record(usage_record("r1", outcome="guardrail"))
    await ledger.record(usage_record("r2", outcome="throttled"))
    [totals] = await ledger.totals_by_bot_day()
    assert (totals.requests, totals.errors) == (2, 1)


async def test_empty_ledger_has_no_totals(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    assert await ledger.totals_by_bot_day() == []
    assert await ledger.get("r1") is None


async def test_second_record_with_the_same_id_is_ignored(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    first = usage_record("r1", cost_milli_cents=600)
    await ledger.record(first)
    await ledger.record(usage_record("r1", cost_milli_cents=999_999))
    await asyncio.gather(*(ledger.record(usage_record("r1", output_tokens=n)) for n in range(20)))
    assert await ledger.get("r1") == first
    [totals] = await ledger.totals_by_bot_day()
    assert totals.requests == 1


async def test_concurrent_duplicates_of_a_new_id_store_exactly_one(
    open_ledger_store: LedgerOpener,
) -> None:
    ledger = await open_ledger_store()
    candidates = [usage_record("r1", output_tokens=n) for n in range(20)]
    await asyncio.gather(*(ledger.record(candidate) for candidate in candidates))
    stored = await ledger.get("r1")
    assert stored in candidates
    [totals] = await ledger.totals_by_bot_day()
    assert (totals.requests, totals.output_tokens) == (1, stored.output_tokens if stored else -1)


async def test_concurrent_records_all_land(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    await asyncio.gather(
        *(ledger.record(usage_record(f"r{n}", input_tokens=n)) for n in range(300))
    )
    [totals] = await ledger.totals_by_bot_day()
    assert totals.requests == 300
    assert totals.input_tokens == sum(range(300))


async def test_totals_by_bot_and_day(open_ledger_store: LedgerOpener) -> None:
    day_two = DAY_ONE + DAY_SECONDS
    records = [
        usage_record("a1", bot="claude", cost_milli_cents=100),
        usage_record("a2", bot="claude", outcome="throttled", output_tokens=0, cost_milli_cents=0),
        usage_record("a3", bot="claude", outcome="cancelled", output_tokens=50, cost_milli_cents=5),
        usage_record("b1", bot="nova", input_tokens=10, output_tokens=20, cost_milli_cents=7),
        usage_record("a4", bot="claude", started_at=day_two, cost_milli_cents=1),
    ]
    ledger = await open_ledger_store()
    for record in records:
        await ledger.record(record)
    assert await ledger.totals_by_bot_day() == [
        UsageTotals("2025-03-01", "claude", 3, 1, 3000, 250, 105),
        UsageTotals("2025-03-01", "nova", 1, 0, 10, 20, 7),
        UsageTotals("2025-03-02", "claude", 1, 0, 1000, 200, 1),
    ]
    assert await ledger.totals_by_bot_day(since=day_two) == [
        UsageTotals("2025-03-02", "claude", 1, 0, 1000, 200, 1)
    ]


async def test_totals_sum_cache_tokens_and_signed_savings(open_ledger_store: LedgerOpener) -> None:
    records = [
        usage_record("w", input_tokens=2, cache_write_tokens=1322, cache_saving_milli_cents=-99.25),
        usage_record("r", input_tokens=3, cache_read_tokens=1322, cache_saving_milli_cents=356.75),
        usage_record("old", input_tokens=5, cache_read_tokens=10, cache_saving_milli_cents=None),
        usage_record("n", bot="nova", input_tokens=9, cache_write_tokens=11),
    ]
    ledger = await open_ledger_store()
    for record in records:
        await ledger.record(record)
    assert await ledger.get("old") == records[2]
    claude, nova = await ledger.totals_by_bot_day()
    assert claude == UsageTotals("2025-03-01", "claude", 3, 0, 10, 600, 1800, 1332, 1322, 257.5, 1)
    assert claude.prompt_tokens == 10 + 1332 + 1322
    assert claude.cache_hit_ratio == 1332 / 2664
    assert nova == UsageTotals("2025-03-01", "nova", 1, 0, 9, 200, 600, 0, 11, 0.0, 0)
    assert nova.cache_hit_ratio == 0.0


async def test_days_split_at_utc_midnight_and_bots_sort_by_bytes(
    open_ledger_store: LedgerOpener,
) -> None:
    records = [
        usage_record("late", bot="nova", started_at=MIDNIGHT - 0.5, cost_milli_cents=1),
        usage_record("early", bot="nova", started_at=MIDNIGHT + 0.5, cost_milli_cents=2),
        usage_record("first", bot="nova", started_at=MIDNIGHT, cost_milli_cents=4),
        # Byte order, as SQLite sorts: upper case before lower case, "_" between them.
        usage_record("upper", bot="Zeta", started_at=MIDNIGHT),
        usage_record("under", bot="a_bot", started_at=MIDNIGHT),
        usage_record("lower", bot="ab", started_at=MIDNIGHT),
    ]
    ledger = await open_ledger_store()
    await asyncio.gather(*(ledger.record(record) for record in records))
    totals = await ledger.totals_by_bot_day()
    assert [(row.day, row.bot, row.cost_milli_cents) for row in totals] == [
        ("2025-03-01", "nova", 1),
        ("2025-03-02", "Zeta", 600),
        ("2025-03-02", "a_bot", 600),
        ("2025-03-02", "ab", 600),
        ("2025-03-02", "nova", 6),
    ]
    since_midnight = await ledger.totals_by_bot_day(since=MIDNIGHT)
    assert [row.day for row in since_midnight] == ["2025-03-02"] * 4


async def test_closed_ledger_refuses_work_and_closes_once(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    await ledger.record(usage_record("r1"))
    await ledger.aclose()
    await ledger.aclose()
    with pytest.raises(LedgerClosed):
        await ledger.record(usage_record("r2"))
    with pytest.raises(LedgerClosed):
        await ledger.get("r1")
    with pytest.raises(LedgerClosed):
        await ledger.totals_by_bot_day()


async def test_cancelled_caller_still_gets_its_row_written(open_ledger_store: LedgerOpener) -> None:
    ledger = await open_ledger_store()
    task = asyncio.create_task(ledger.record(usage_record("r1")))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Closing waits for the write the cancelled caller started.
    await ledger.aclose()
    reopened = await open_ledger_store()
    assert await reopened.get("r1") == usage_record("r1")
