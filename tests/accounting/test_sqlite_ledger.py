"""SqliteLedger's own behaviour: a WAL file with a version, durable across kill -9, one queue.

The behaviour every store shares (exactly-once rows, totals, closing, cancellation) is tested
for SQLite and PostgreSQL alike in test_ledger_contract.py.
"""

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

from fmgate.accounting.ledger import UsageRecord, UsageTotals
from fmgate.accounting.ledger_schema import SCHEMA_VERSION, LedgerSchemaError
from fmgate.accounting.sqlite_ledger import SqliteLedger
from tests.accounting.records import (
    DAY_ONE,
    VERSION_1_TABLE,
    VERSION_2_TABLE,
    VERSION_4_TABLE,
    VERSION_5_TABLE,
    usage_record,
)

REPO = Path(__file__).resolve().parents[2]


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


async def test_a_version_1_ledger_is_migrated_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version (version) VALUES (1)")
        db.execute(VERSION_1_TABLE)
        db.execute(
            "INSERT INTO usage VALUES ('old', 'claude', 'm', 'u', 'c', 1.0, 10, 2, 3, 4, 0, 7, "
            "5.0, NULL, 'ok', 'poe')"
        )
    ledger = SqliteLedger(path)
    try:
        old = await ledger.get("old")
        assert old is not None
        assert (old.cache_write_tokens, old.cache_write_1h_tokens) == (4, 0)
        assert old.cache_saving_milli_cents is None  # it used the cache: its saving is unknown
        await ledger.record(usage_record("new", cache_write_tokens=9, cache_write_1h_tokens=5))
        assert await ledger.get("new") == usage_record(
            "new", cache_write_tokens=9, cache_write_1h_tokens=5
        )
    finally:
        await ledger.aclose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


async def test_a_version_2_ledger_keeps_the_saving_of_its_cached_rows_unknown(
    tmp_path: Path,
) -> None:
    path = tmp_path / "usage.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version (version) VALUES (2)")
        db.execute(VERSION_2_TABLE)
        db.executemany(
            "INSERT INTO usage VALUES (?, 'claude', 'm', 'u', 'c', ?, 10, 2, ?, ?, 0, 7, 5.0, "
            "NULL, 'ok', 'poe', 0)",
            [("cached", DAY_ONE, 300, 40), ("plain", DAY_ONE, 0, 0)],
        )
    ledger = SqliteLedger(path)
    try:
        cached, plain = await ledger.get("cached"), await ledger.get("plain")
        assert cached is not None
        assert plain is not None
        assert cached.cache_saving_milli_cents is None  # priced at prices that may have changed
        assert plain.cache_saving_milli_cents == 0  # no cache tokens: nothing saved
        await ledger.record(
            usage_record("new", cache_read_tokens=50, cache_saving_milli_cents=13.5)
        )
        assert await ledger.totals_by_bot_day() == [
            UsageTotals("2025-03-01", "claude", 3, 0, 1020, 204, 614, 350, 40, 13.5, 1)
        ]
    finally:
        await ledger.aclose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


async def test_a_version_4_ledger_gets_the_service_tier_column(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version (version) VALUES (4)")
        db.execute(VERSION_4_TABLE)
        db.execute(
            "INSERT INTO usage VALUES ('old', 'claude', 'm', 'u', 'c', 1.0, 10, 2, 0, 0, 0, 7, "
            "5.0, NULL, 'ok', 'poe', 0, 0.0)"
        )
    ledger = SqliteLedger(path)
    try:
        old = await ledger.get("old")
        assert old is not None
        assert old.service_tier is None
        await ledger.record(usage_record("new", service_tier="priority"))
        assert await ledger.get("new") == usage_record("new", service_tier="priority")
    finally:
        await ledger.aclose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


async def test_a_version_5_ledger_gets_the_billing_split_columns(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        db.execute("INSERT INTO schema_version (version) VALUES (5)")
        db.execute(VERSION_5_TABLE)
        db.execute(
            "INSERT INTO usage VALUES ('old', 'claude', 'm', 'u', 'c', 1.0, 10, 2, 0, 0, 0, 7, "
            "5.0, NULL, 'ok', 'poe', 0, 0.0, NULL)"
        )
    split = usage_record("new", system_tokens=4, input_tokens_excl_system=6)
    ledger = SqliteLedger(path)
    try:
        old = await ledger.get("old")
        assert old is not None
        assert (old.system_tokens, old.input_tokens_excl_system) == (None, None)
        await ledger.record(split)
        assert await ledger.get("new") == split
    finally:
        await ledger.aclose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]


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


async def test_operation_after_a_cancelled_record_sees_its_row(tmp_path: Path) -> None:
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
