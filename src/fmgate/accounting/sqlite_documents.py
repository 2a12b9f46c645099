"""Caller documents in the SQLite ledger's file, on the ledger's own thread and connection.

The table is :data:`fmgate.accounting.ledger_schema.DOCUMENTS_SCHEMA`; a write commits like a
ledger record (WAL, ``synchronous=FULL``), so a stored document survives a crash once ``put``
returned. Workers of one gateway share the file, and so share the documents.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from typing import Final, TypeVar

from fmgate.accounting.caller_documents import (
    DocumentLimits,
    DocumentStoreUnavailable,
    SweepSchedule,
)
from fmgate.accounting.ledger_schema import LedgerClosed
from fmgate.accounting.sqlite_ledger import SqliteLedger, immediate_transaction

T = TypeVar("T")

PUT_SQL: Final = """
    INSERT INTO caller_documents (caller, document_id, created_at, size_bytes, body)
    VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (caller, document_id) DO UPDATE SET
        created_at = excluded.created_at, size_bytes = excluded.size_bytes, body = excluded.body
"""
GET_SQL: Final = """
    SELECT body FROM caller_documents WHERE caller = ? AND document_id = ? AND created_at > ?
"""
DELETE_SQL: Final = """
    DELETE FROM caller_documents WHERE caller = ? AND document_id = ? AND created_at > ?
"""
DELETE_EXPIRED_SQL: Final = "DELETE FROM caller_documents WHERE created_at <= ?"
#: Keeps the newest documents that fit in the cap together; deletes the older rest.
TRIM_SQL: Final = """
    DELETE FROM caller_documents WHERE (caller, document_id) IN (
        SELECT caller, document_id FROM (
            SELECT caller, document_id, SUM(size_bytes) OVER (
                ORDER BY created_at DESC, caller, document_id
            ) AS newer_bytes FROM caller_documents
        ) WHERE newer_bytes > ?
    )
"""


class SqliteDocuments:
    """A :class:`~fmgate.accounting.caller_documents.CallerDocuments` in a SQLite ledger."""

    def __init__(
        self,
        ledger: SqliteLedger,
        limits: DocumentLimits,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._ledger = ledger
        self._limits = limits
        self._clock = clock
        self._sweeps = SweepSchedule(limits.sweep_interval_seconds)

    @property
    def limits(self) -> DocumentLimits:
        return self._limits

    async def put(self, caller: str, document_id: str, body: str) -> None:
        now = self._clock()
        row = (caller, document_id, now, len(body.encode()), body)
        sweep = self._sweeps.due(now)
        limits = self._limits

        def write(db: sqlite3.Connection) -> None:
            with immediate_transaction(db):
                db.execute(PUT_SQL, row)
                if sweep:
                    db.execute(DELETE_EXPIRED_SQL, (now - limits.retention_seconds,))
                    db.execute(TRIM_SQL, (limits.max_total_bytes,))

        await self._run(write)

    async def get(self, caller: str, document_id: str) -> str | None:
        oldest = self._clock() - self._limits.retention_seconds

        def read(db: sqlite3.Connection) -> str | None:
            found = db.execute(GET_SQL, (caller, document_id, oldest)).fetchone()
            return None if found is None else str(found[0])

        return await self._run(read)

    async def delete(self, caller: str, document_id: str) -> bool:
        oldest = self._clock() - self._limits.retention_seconds

        def remove(db: sqlite3.Connection) -> bool:
            with immediate_transaction(db):
                return db.execute(DELETE_SQL, (caller, document_id, oldest)).rowcount > 0

        return await self._run(remove)

    async def _run(self, call: Callable[[sqlite3.Connection], T]) -> T:
        try:
            return await self._ledger.run(call)
        except (sqlite3.Error, LedgerClosed) as error:
            raise DocumentStoreUnavailable(f"caller documents: {error}") from error
