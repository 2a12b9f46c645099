"""PostgresLedger's own behaviour, against a real PostgreSQL: schema and its version, several
replicas on one database, outages and restarts, and a password that never shows.

The behaviour it shares with SQLite is tested in test_ledger_contract.py.
"""

from __future__ import annotations

import asyncio
import logging
import traceback
from dataclasses import fields

import psycopg
import pytest
from psycopg.conninfo import make_conninfo

from fmgate.accounting.ledger import UsageRecord, UsageTotals
from fmgate.accounting.ledger_schema import SCHEMA_VERSION, LedgerSchemaError
from fmgate.accounting.postgres_ledger import (
    LedgerConfigError,
    LedgerUnavailable,
    PostgresLedger,
    PostgresRetry,
)
from fmgate.observability.logging import redact
from tests.accounting.records import (
    DAY_ONE,
    VERSION_1_TABLE,
    VERSION_2_TABLE,
    VERSION_4_TABLE,
    VERSION_5_TABLE,
    usage_record,
)
from tests.harness.postgres_server import TEST_POSTGRES_PASSWORD, PostgresServer
from tests.harness.servers import free_port

#: Gives up fast: for tests where PostgreSQL is meant to stay unreachable.
QUICK_GIVE_UP = PostgresRetry(attempts=2, first_delay_seconds=0.01, acquire_timeout_seconds=0.5)


def full_text(error: BaseException) -> str:
    """An exception as a log line with its traceback would show it (causes included)."""
    return "".join(traceback.format_exception(error))


async def test_open_creates_the_schema_once_with_its_version(postgres_dsn: str) -> None:
    ledger = await PostgresLedger.open(postgres_dsn)
    await ledger.aclose()
    reopened = await PostgresLedger.open(postgres_dsn)
    await reopened.aclose()
    async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
        cursor = await conn.execute("SELECT version FROM schema_version")
        assert await cursor.fetchall() == [(SCHEMA_VERSION,)]
        cursor = await conn.execute(
            "SELECT column_name FROM information_schema.columns "
            "WHERE table_name = 'usage' ORDER BY ordinal_position"
        )
        columns = [row[0] for row in await cursor.fetchall()]
    assert columns == [f.name for f in fields(UsageRecord)]


async def test_a_version_1_ledger_is_migrated_and_keeps_its_rows(postgres_dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        await conn.execute("INSERT INTO schema_version (version) VALUES (1)")
        await conn.execute(VERSION_1_TABLE)
        await conn.execute(
            "INSERT INTO usage VALUES ('old', 'claude', 'm', 'u', 'c', 1.0, 10, 2, 3, 4, false, "
            "7, 5.0, NULL, 'ok', 'poe')"
        )
    ledger = await PostgresLedger.open(postgres_dsn)
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
    async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
        cursor = await conn.execute("SELECT version FROM schema_version")
        assert await cursor.fetchall() == [(SCHEMA_VERSION,)]


async def test_a_version_4_ledger_gets_the_service_tier_column(postgres_dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        await conn.execute("INSERT INTO schema_version (version) VALUES (4)")
        await conn.execute(VERSION_4_TABLE)
        await conn.execute(
            "INSERT INTO usage VALUES ('old', 'claude', 'm', 'u', 'c', 1.0, 10, 2, 0, 0, false, "
            "7, 5.0, NULL, 'ok', 'poe', 0, 0.0)"
        )
    ledger = await PostgresLedger.open(postgres_dsn)
    try:
        old = await ledger.get("old")
        assert old is not None
        assert old.service_tier is None
        await ledger.record(usage_record("new", service_tier="priority"))
        assert await ledger.get("new") == usage_record("new", service_tier="priority")
    finally:
        await ledger.aclose()
    async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
        cursor = await conn.execute("SELECT version FROM schema_version")
        assert await cursor.fetchall() == [(SCHEMA_VERSION,)]


async def test_a_version_5_ledger_gets_the_billing_split_columns(postgres_dsn: str) -> None:
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        await conn.execute("INSERT INTO schema_version (version) VALUES (5)")
        await conn.execute(VERSION_5_TABLE)
        await conn.execute(
            "INSERT INTO usage VALUES ('old', 'claude', 'm', 'u', 'c', 1.0, 10, 2, 0, 0, false, "
            "7, 5.0, NULL, 'ok', 'poe', 0, 0.0, NULL)"
        )
    split = usage_record("new", system_tokens=4, input_tokens_excl_system=6)
    ledger = await PostgresLedger.open(postgres_dsn)
    try:
        old = await ledger.get("old")
        assert old is not None
        assert (old.system_tokens, old.input_tokens_excl_system) == (None, None)
        await ledger.record(split)
        assert await ledger.get("new") == split
    finally:
        await ledger.aclose()
    async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
        cursor = await conn.execute("SELECT version FROM schema_version")
        assert await cursor.fetchall() == [(SCHEMA_VERSION,)]


async def test_a_version_2_ledger_keeps_the_saving_of_its_cached_rows_unknown(
    postgres_dsn: str,
) -> None:
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
        await conn.execute("INSERT INTO schema_version (version) VALUES (2)")
        await conn.execute(VERSION_2_TABLE)
        for request_id, read, written in (("cached", 300, 40), ("plain", 0, 0)):
            await conn.execute(
                "INSERT INTO usage VALUES (%s, 'claude', 'm', 'u', 'c', %s, 10, 2, %s, %s, false, "
                "7, 5.0, NULL, 'ok', 'poe', 0)",
                (request_id, DAY_ONE, read, written),
            )
    ledger = await PostgresLedger.open(postgres_dsn)
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
    async with await psycopg.AsyncConnection.connect(postgres_dsn) as conn:
        cursor = await conn.execute("SELECT version FROM schema_version")
        assert await cursor.fetchall() == [(SCHEMA_VERSION,)]


async def test_other_schema_version_is_refused(postgres_dsn: str) -> None:
    ledger = await PostgresLedger.open(postgres_dsn)
    await ledger.record(usage_record("r1"))
    await ledger.aclose()
    async with await psycopg.AsyncConnection.connect(postgres_dsn, autocommit=True) as conn:
        await conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(LedgerSchemaError) as refused:
        await PostgresLedger.open(postgres_dsn)
    assert "schema version 99" in str(refused.value)
    assert TEST_POSTGRES_PASSWORD not in full_text(refused.value)


async def test_replicas_share_one_ledger_and_store_each_request_once(postgres_dsn: str) -> None:
    # Replicas starting together create the schema under a lock: none of them fails.
    replicas = await asyncio.gather(
        *(PostgresLedger.open(postgres_dsn, pool_size=2) for _ in range(3))
    )
    try:
        await asyncio.gather(
            *(
                replica.record(usage_record(f"r{n % 10}", output_tokens=n))
                for n in range(30)
                for replica in replicas
            )
        )
        for replica in replicas:
            [totals] = await replica.totals_by_bot_day()
            assert totals.requests == 10
        await replicas[0].record(usage_record("only-on-zero"))
        assert await replicas[2].get("only-on-zero") == usage_record("only-on-zero")
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_records_land_across_a_server_restart(
    postgres: PostgresServer, postgres_dsn: str
) -> None:
    ledger = await PostgresLedger.open(postgres_dsn, pool_size=2)
    try:
        await ledger.record(usage_record("before"))
        await asyncio.to_thread(postgres.restart)  # every pooled connection is now broken
        await ledger.record(usage_record("after"))
        assert await ledger.get("before") == usage_record("before")
        assert await ledger.get("after") == usage_record("after")
    finally:
        await ledger.aclose()


async def test_record_made_while_the_server_is_down_lands_when_it_is_back(
    postgres: PostgresServer, postgres_dsn: str
) -> None:
    ledger = await PostgresLedger.open(postgres_dsn)
    try:
        await ledger.record(usage_record("before"))
        await asyncio.to_thread(postgres.stop)
        try:
            pending = asyncio.create_task(ledger.record(usage_record("during")))
            await asyncio.sleep(0.2)  # a while (a negative: no event to poll for)
            assert not pending.done()  # still retrying, not failed
        finally:
            await asyncio.to_thread(postgres.start)
        await pending
        assert await ledger.get("during") == usage_record("during")
    finally:
        await ledger.aclose()


async def test_record_gives_up_with_a_clear_error_when_the_server_stays_down(
    postgres: PostgresServer, postgres_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ledger = await PostgresLedger.open(postgres_dsn, retry=QUICK_GIVE_UP)
    try:
        await asyncio.to_thread(postgres.stop)
        try:
            with pytest.raises(LedgerUnavailable) as unavailable:
                await ledger.record(usage_record("lost"))
        finally:
            await asyncio.to_thread(postgres.start)
    finally:
        await ledger.aclose()
    message = str(unavailable.value)
    assert "unavailable for 2 attempts" in message
    assert "127.0.0.1" in message
    assert TEST_POSTGRES_PASSWORD not in full_text(unavailable.value)
    assert "attempt 1 of 2" in caplog.text
    assert TEST_POSTGRES_PASSWORD not in caplog.text


async def test_open_gives_up_when_nothing_listens(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    dsn = make_conninfo(
        host="127.0.0.1", port=free_port(), user="fmgate", password=TEST_POSTGRES_PASSWORD
    )
    with pytest.raises(LedgerUnavailable) as unavailable:
        await PostgresLedger.open(dsn, retry=QUICK_GIVE_UP)
    assert "open failed" in str(unavailable.value)
    assert TEST_POSTGRES_PASSWORD not in full_text(unavailable.value)
    assert TEST_POSTGRES_PASSWORD not in caplog.text


async def test_password_is_registered_and_never_logged(
    postgres_dsn: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    ledger = await PostgresLedger.open(postgres_dsn)
    try:
        await ledger.record(usage_record("r1"))
        await ledger.totals_by_bot_day()
    finally:
        await ledger.aclose()
    assert TEST_POSTGRES_PASSWORD in postgres_dsn
    assert TEST_POSTGRES_PASSWORD not in redact(postgres_dsn)  # the log redactor masks it
    assert "fmgate.accounting.postgres_ledger" in caplog.text  # it did log (where, not how)
    assert TEST_POSTGRES_PASSWORD not in caplog.text


async def test_malformed_dsn_is_refused_without_showing_it() -> None:
    dsn = f"host=127.0.0.1 password={TEST_POSTGRES_PASSWORD} port"
    with pytest.raises(LedgerConfigError) as refused:
        await PostgresLedger.open(dsn)
    assert TEST_POSTGRES_PASSWORD not in full_text(refused.value)
