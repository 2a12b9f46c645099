"""SqliteLedger: durable, exactly-once rows, totals per bot and day, off the event loop."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
from dataclasses import fields
from pathlib import Path

import pytest

from fmgate.accounting.ledger import UsageLedger, UsageRecord, UsageTotals
from fmgate.accounting.sqlite_ledger import (
    SCHEMA_VERSION,
    LedgerClosed,
    LedgerSchemaError,
    SqliteLedger,
)
from tests.accounting.records import DAY_ONE, DAY_SECONDS, usage_record

REPO = Path(__file__).resolve().parents[2]


async def test_record_then_read_back_after_reopen(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    record = usage_record("r1", estimated=True, ttft_ms=None, outcome="stream_failed")
    ledger: UsageLedger = SqliteLedger(path)
    await ledger.record(record)
    assert await ledger.get("r1") == record
    await ledger.aclose()

    reopened = SqliteLedger(path)
    try:
        assert await reopened.get("r1") == record
        assert await reopened.get("missing") is None
    finally:
        await reopened.aclose()


async def test_second_record_with_the_same_id_is_ignored(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "usage.db")
    try:
        first = usage_record("r1", cost_milli_cents=600)
        await ledger.record(first)
        await ledger.record(usage_record("r1", cost_milli_cents=999_999))
        await asyncio.gather(
            *(ledger.record(usage_record("r1", output_tokens=n)) for n in range(5))
        )
        assert await ledger.get("r1") == first
        [totals] = await ledger.totals_by_bot_day()
        assert totals.requests == 1
    finally:
        await ledger.aclose()


async def test_concurrent_records_all_land(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "usage.db")
    try:
        await asyncio.gather(
            *(ledger.record(usage_record(f"r{n}", input_tokens=n)) for n in range(300))
        )
        [totals] = await ledger.totals_by_bot_day()
        assert totals.requests == 300
        assert totals.input_tokens == sum(range(300))
    finally:
        await ledger.aclose()


async def test_totals_by_bot_and_day(tmp_path: Path) -> None:
    day_two = DAY_ONE + DAY_SECONDS
    records = [
        usage_record("a1", bot="claude", cost_milli_cents=100),
        usage_record("a2", bot="claude", outcome="throttled", output_tokens=0, cost_milli_cents=0),
        usage_record("a3", bot="claude", outcome="cancelled", output_tokens=50, cost_milli_cents=5),
        usage_record("b1", bot="nova", input_tokens=10, output_tokens=20, cost_milli_cents=7),
        usage_record("a4", bot="claude", started_at=day_two, cost_milli_cents=1),
    ]
    ledger = SqliteLedger(tmp_path / "usage.db")
    try:
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
    finally:
        await ledger.aclose()


async def test_file_is_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "usage.db"
    ledger = SqliteLedger(path)
    await ledger.record(usage_record("r1"))
    await ledger.aclose()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
        columns = [row[1] for row in db.execute("PRAGMA table_info(usage)")]
    assert columns == [f.name for f in fields(UsageRecord)]


async def test_other_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    ledger = SqliteLedger(path)
    await ledger.record(usage_record("r1"))
    await ledger.aclose()
    with sqlite3.connect(path) as db:
        db.execute("UPDATE schema_version SET version = 99")
    newer = SqliteLedger(path)
    try:
        with pytest.raises(LedgerSchemaError):
            await newer.get("r1")
        with pytest.raises(LedgerSchemaError):
            await newer.record(usage_record("r2"))
    finally:
        await newer.aclose()


async def test_closed_ledger_refuses_work_and_closes_once(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "usage.db")
    await ledger.aclose()
    await ledger.aclose()
    with pytest.raises(LedgerClosed):
        await ledger.record(usage_record("r1"))


async def test_cancelled_caller_still_gets_its_row_written(tmp_path: Path) -> None:
    ledger = SqliteLedger(tmp_path / "usage.db")
    try:
        task = asyncio.create_task(ledger.record(usage_record("r1")))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The write was queued before the cancel; the next operation runs after it.
        assert await ledger.get("r1") == usage_record("r1")
    finally:
        await ledger.aclose()


def test_acknowledged_records_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.accounting.ledger_writer", str(path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "src")])},
    )
    acknowledged: list[str] = []
    try:
        assert child.stdout is not None
        while len(acknowledged) < 200:
            line = child.stdout.readline()
            assert line, "the writer stopped early"
            acknowledged.append(line.split()[1])
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    with sqlite3.connect(path) as db:
        stored = {row[0] for row in db.execute("SELECT request_id FROM usage")}
    assert set(acknowledged) <= stored
