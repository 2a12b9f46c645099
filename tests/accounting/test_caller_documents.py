"""The caller-document contract, run against every store: SQLite and PostgreSQL (the ledger's
own database and connections) and memory (a gateway without a ledger)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fmgate.accounting.caller_documents import (
    CallerDocuments,
    DocumentLimits,
    DocumentStoreUnavailable,
)
from fmgate.accounting.document_store import caller_documents
from fmgate.accounting.ledger import UsageLedger
from fmgate.accounting.memory_documents import MemoryDocuments
from fmgate.accounting.postgres_documents import PostgresDocuments
from fmgate.accounting.postgres_ledger import PostgresLedger
from fmgate.accounting.sqlite_documents import SqliteDocuments
from fmgate.accounting.sqlite_ledger import SqliteLedger
from tests.accounting.records import usage_record

DAY = 86_400.0
LIMITS = DocumentLimits(retention_seconds=30 * DAY, max_total_bytes=1000, sweep_interval_seconds=0)


class Clock:
    """A settable clock (unix seconds) the stores read."""

    def __init__(self) -> None:
        self.now = 1_750_000_000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Store:
    documents: CallerDocuments
    clock: Clock
    ledger: UsageLedger | None


@pytest.fixture(params=["sqlite", "postgres", "memory"])
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    clock = Clock()
    ledger: UsageLedger | None
    documents: CallerDocuments
    if request.param == "sqlite":
        ledger = SqliteLedger(tmp_path / "usage.db")
        documents = SqliteDocuments(ledger, LIMITS, clock)
    elif request.param == "postgres":
        dsn: str = request.getfixturevalue("postgres_dsn")
        ledger = await PostgresLedger.open(dsn, pool_size=2)
        documents = PostgresDocuments(ledger, LIMITS, clock)
    else:
        ledger = None
        documents = MemoryDocuments(LIMITS, clock)
    yield Store(documents, clock, ledger)
    if ledger is not None:
        await ledger.aclose()


async def test_put_then_get_for_the_same_caller(store: Store) -> None:
    docs = store.documents
    await docs.put("alice", "resp_1", '{"n": 1}')
    assert await docs.get("alice", "resp_1") == '{"n": 1}'
    await docs.put("alice", "resp_1", '{"n": 2}')
    assert await docs.get("alice", "resp_1") == '{"n": 2}'
    assert await docs.get("alice", "resp_2") is None


async def test_another_caller_can_neither_read_nor_delete(store: Store) -> None:
    docs = store.documents
    await docs.put("alice", "resp_1", '"secret"')
    assert await docs.get("bob", "resp_1") is None
    assert await docs.delete("bob", "resp_1") is False
    assert await docs.get("alice", "resp_1") == '"secret"'
    await docs.put("bob", "resp_1", '"bob\'s"')  # the same id is another document for bob
    assert await docs.get("alice", "resp_1") == '"secret"'
    assert await docs.get("bob", "resp_1") == '"bob\'s"'


async def test_delete_once(store: Store) -> None:
    docs = store.documents
    await docs.put("alice", "resp_1", "{}")
    assert await docs.delete("alice", "resp_1") is True
    assert await docs.get("alice", "resp_1") is None
    assert await docs.delete("alice", "resp_1") is False


async def test_documents_expire_after_the_retention(store: Store) -> None:
    docs = store.documents
    await docs.put("alice", "old", "{}")
    store.clock.now += 29 * DAY
    await docs.put("alice", "newer", "{}")
    assert await docs.get("alice", "old") == "{}"
    store.clock.now += 1 * DAY
    assert await docs.get("alice", "old") is None
    assert await docs.delete("alice", "old") is False
    assert await docs.get("alice", "newer") == "{}"


async def test_a_sweep_keeps_the_newest_documents_within_the_total(store: Store) -> None:
    docs = store.documents
    body = "x" * 300
    for n in range(5):  # 1500 bytes against a cap of 1000: the two oldest go
        store.clock.now += 1
        await docs.put("alice" if n % 2 else "bob", f"d{n}", body)
    found = [await docs.get("alice" if n % 2 else "bob", f"d{n}") for n in range(5)]
    assert found == [None, None, body, body, body]


async def test_concurrent_puts_all_land(store: Store) -> None:
    docs = store.documents
    await asyncio.gather(*(docs.put("alice", f"d{n}", f'"{n}"') for n in range(20)))
    assert [await docs.get("alice", f"d{n}") for n in range(17, 20)] == ['"17"', '"18"', '"19"']


async def test_a_closed_ledger_makes_the_store_unavailable(store: Store) -> None:
    if store.ledger is None:
        pytest.skip("the memory store has no database to close")
    await store.ledger.aclose()
    with pytest.raises(DocumentStoreUnavailable):
        await store.documents.get("alice", "resp_1")
    with pytest.raises(DocumentStoreUnavailable):
        await store.documents.put("alice", "resp_1", "{}")


async def test_documents_and_usage_rows_share_the_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "usage.db"
    ledger = SqliteLedger(path)
    docs = caller_documents(ledger, LIMITS)
    assert isinstance(docs, SqliteDocuments)
    await ledger.record(usage_record("r1"))
    await docs.put("alice", "resp_1", '{"kept": true}')
    await ledger.aclose()

    reopened = SqliteLedger(path)
    try:
        assert await caller_documents(reopened, LIMITS).get("alice", "resp_1") == '{"kept": true}'
        assert await reopened.get("r1") == usage_record("r1")
    finally:
        await reopened.aclose()
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT caller, document_id FROM caller_documents").fetchall() == [
            ("alice", "resp_1")
        ]


def test_without_a_ledger_documents_stay_in_memory() -> None:
    assert isinstance(caller_documents(None, LIMITS), MemoryDocuments)
