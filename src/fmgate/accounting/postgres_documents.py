"""Caller documents in the PostgreSQL ledger's database, on the ledger's pooled connections.

The table is :data:`fmgate.accounting.ledger_schema.DOCUMENTS_SCHEMA`; every replica sharing the
ledger shares the documents, so a response stored by one replica is continued on another. Each
operation is retried like a ledger operation while PostgreSQL is unreachable.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

import psycopg

from fmgate.accounting.caller_documents import (
    DocumentLimits,
    DocumentStoreUnavailable,
    SweepSchedule,
)
from fmgate.accounting.ledger_schema import LedgerClosed
from fmgate.accounting.postgres_ledger import (
    Connection,
    LedgerUnavailable,
    PostgresLedger,
    describe_error,
)

T = TypeVar("T")

PUT_SQL: Final = """
    INSERT INTO caller_documents (caller, document_id, created_at, size_bytes, body)
    VALUES (%s, %s, %s, %s, %s)
    ON CONFLICT (caller, document_id) DO UPDATE SET
        created_at = excluded.created_at, size_bytes = excluded.size_bytes, body = excluded.body
"""
GET_SQL: Final = """
    SELECT body FROM caller_documents WHERE caller = %s AND document_id = %s AND created_at > %s
"""
DELETE_SQL: Final = """
    DELETE FROM caller_documents WHERE caller = %s AND document_id = %s AND created_at > %s
"""
DELETE_EXPIRED_SQL: Final = "DELETE FROM caller_documents WHERE created_at <= %s"
#: Keeps the newest documents that fit in the cap together; deletes the older rest.
TRIM_SQL: Final = """
    DELETE FROM caller_documents WHERE (caller, document_id) IN (
        SELECT caller, document_id FROM (
            SELECT caller, document_id, SUM(size_bytes) OVER (
                ORDER BY created_at DESC, caller COLLATE "C", document_id COLLATE "C"
            ) AS newer_bytes FROM caller_documents
        ) AS ranked WHERE newer_bytes > %s
    )
"""


class PostgresDocuments:
    """A :class:`~fmgate.accounting.caller_documents.CallerDocuments` in a PostgreSQL ledger."""

    def __init__(
        self,
        ledger: PostgresLedger,
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

        async def write(conn: Connection) -> None:
            async with conn.transaction():
                await conn.execute(PUT_SQL, row)
                if sweep:
                    await conn.execute(DELETE_EXPIRED_SQL, (now - limits.retention_seconds,))
                    await conn.execute(TRIM_SQL, (limits.max_total_bytes,))

        await self._run("document put", write)

    async def get(self, caller: str, document_id: str) -> str | None:
        oldest = self._clock() - self._limits.retention_seconds

        async def read(conn: Connection) -> str | None:
            cursor = await conn.execute(GET_SQL, (caller, document_id, oldest))
            found = await cursor.fetchone()
            return None if found is None else str(found[0])

        return await self._run("document get", read)

    async def delete(self, caller: str, document_id: str) -> bool:
        oldest = self._clock() - self._limits.retention_seconds

        async def remove(conn: Connection) -> bool:
            cursor = await conn.execute(DELETE_SQL, (caller, document_id, oldest))
            return cursor.rowcount > 0

        return await self._run("document delete", remove)

    async def _run(self, operation: str, call: Callable[[Connection], Awaitable[T]]) -> T:
        try:
            return await self._ledger.run(operation, call)
        except (psycopg.Error, LedgerUnavailable, LedgerClosed) as error:
            raise DocumentStoreUnavailable(f"caller documents: {describe_error(error)}") from error
