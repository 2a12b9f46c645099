"""The default usage ledger: one SQLite file, durable, written by one thread of its own.

Every operation runs on a dedicated worker thread that owns the only connection, so the event
loop never blocks on disk. Records queued while a commit is in progress are written together in
the next transaction (group commit): one fsync serves many requests under load. ``record``
returns only after its transaction committed with ``synchronous=FULL`` in WAL mode, so a record
that was acknowledged survives ``kill -9`` and power loss.

Several processes may write one file (``fmgate serve --workers N``: one ledger per worker, on
one machine): WAL mode lets readers run beside the one writer, and a writer that finds the file
locked by another process's transaction waits up to :data:`BUSY_TIMEOUT_SECONDS` (SQLite's
busy timeout) rather than fail with "database is locked". Their group commits take turns.
:func:`create_ledger_file` makes the file, its WAL mode and its schema once, before the workers
open it. Not over a network file system: WAL needs shared memory on one host.

The table is :mod:`fmgate.accounting.ledger_schema`'s, shared with the Postgres ledger; only the
UTC-day expression and the placeholders are SQLite's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import astuple, dataclass
from pathlib import Path
from typing import Any, Final, TypeVar

from fmgate.accounting.ledger import UsageRecord, UsageTotals
from fmgate.accounting.ledger_schema import (
    COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    LedgerClosed,
    migrations_from,
)

T = TypeVar("T")

#: Most records committed in one transaction.
MAX_BATCH: Final = 512
#: Longest a write waits for another process's transaction on the same file.
BUSY_TIMEOUT_SECONDS: Final = 30.0

INSERT_SQL: Final = """
    INSERT INTO usage (
        request_id, bot, model_id, user_id, conversation_id, started_at,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated,
        cost_milli_cents, latency_ms, ttft_ms, outcome, front, cache_write_1h_tokens,
        cache_saving_milli_cents, service_tier, system_tokens, input_tokens_excl_system
    ) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (request_id) DO NOTHING
"""
SELECT_ONE_SQL: Final = """
    SELECT request_id, bot, model_id, user_id, conversation_id, started_at,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated,
        cost_milli_cents, latency_ms, ttft_ms, outcome, front, cache_write_1h_tokens,
        cache_saving_milli_cents, service_tier, system_tokens, input_tokens_excl_system
    FROM usage WHERE request_id = ?
"""
#: Errors are the outcomes other than ``NON_ERROR_OUTCOMES`` ("ok", "cancelled", "guardrail");
#: a saving that is NULL is not known (a row of schema 2 or older that read or wrote the cache).
TOTALS_SQL: Final = """
    SELECT date(started_at, 'unixepoch') AS day, bot, COUNT(*),
        SUM(CASE WHEN outcome IN ('ok', 'cancelled', 'guardrail') THEN 0 ELSE 1 END),
        SUM(input_tokens), SUM(output_tokens), SUM(cost_milli_cents),
        SUM(cache_read_tokens), SUM(cache_write_tokens),
        COALESCE(SUM(cache_saving_milli_cents), 0.0),
        SUM(CASE WHEN cache_saving_milli_cents IS NULL THEN 1 ELSE 0 END)
    FROM usage WHERE started_at >= ?
    GROUP BY day, bot ORDER BY day, bot
"""


@dataclass(slots=True)
class _Job:
    """Work for the writer thread, and where to deliver its result."""

    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Any]
    record: UsageRecord | None = None
    #: A read to run on the connection; None for a record to write.
    call: Callable[[sqlite3.Connection], Any] | None = None


class SqliteLedger:
    """A :class:`fmgate.accounting.ledger.UsageLedger` in one SQLite file (created if missing)."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(
            target=self._run, name=f"fmgate-ledger:{path.name}", daemon=True
        )
        self._thread.start()

    # -- the interface ------------------------------------------------------------------------

    async def record(self, rec: UsageRecord) -> None:
        await self._submit(record=rec)

    async def totals_by_bot_day(self, since: float | None = None) -> list[UsageTotals]:
        def query(db: sqlite3.Connection) -> list[UsageTotals]:
            rows = db.execute(TOTALS_SQL, (since if since is not None else float("-inf"),))
            return [UsageTotals(*row) for row in rows]

        result: list[UsageTotals] = await self._submit(call=query)
        return result

    async def get(self, request_id: str) -> UsageRecord | None:
        def query(db: sqlite3.Connection) -> UsageRecord | None:
            row = db.execute(SELECT_ONE_SQL, (request_id,)).fetchone()
            return None if row is None else _record_from_row(row)

        result: UsageRecord | None = await self._submit(call=query)
        return result

    async def run(self, call: Callable[[sqlite3.Connection], T]) -> T:
        """``call`` on the ledger's connection, on its thread, between record batches: how the
        file's other tables (the caller documents) are read and written. A ``call`` that writes
        puts its statements in one :class:`immediate_transaction`. Raises ``LedgerClosed`` after
        ``aclose``, and what ``call`` raises."""
        result: T = await self._submit(call=call)
        return result

    async def aclose(self) -> None:
        """Write what is queued, close the file and stop the thread (idempotent)."""
        if self._closed:
            return
        self._closed = True
        self._jobs.put(None)
        await asyncio.to_thread(self._thread.join)

    # -- the event-loop side ------------------------------------------------------------------

    async def _submit(
        self,
        *,
        record: UsageRecord | None = None,
        call: Callable[[sqlite3.Connection], Any] | None = None,
    ) -> Any:
        if self._closed:
            raise LedgerClosed("the usage ledger is closed")
        loop = asyncio.get_running_loop()
        job = _Job(loop=loop, future=loop.create_future(), record=record, call=call)
        job.future.add_done_callback(_retrieve_outcome)
        self._jobs.put(job)
        # Shielded: a cancelled caller must not hide whether its record was written.
        return await asyncio.shield(job.future)

    # -- the writer thread --------------------------------------------------------------------

    def _run(self) -> None:
        try:
            db = _open(self._path)
        except Exception as error:
            self._fail_all_until_closed(error)
            return
        try:
            job: _Job | None = self._jobs.get()
            while job is not None:
                if job.record is None:
                    self._run_call(db, job)
                    job = self._jobs.get()
                    continue
                batch, taken, following = self._collect_batch(job)
                self._write(db, batch)
                job = following if taken else self._jobs.get()
        finally:
            db.close()

    def _collect_batch(self, first: _Job) -> tuple[list[_Job], bool, _Job | None]:
        """``first`` plus the records queued right behind it (without waiting for more).

        Returns the batch, whether a following non-record job was taken off the queue, and that
        job (``None`` for the close signal).
        """
        batch = [first]
        while len(batch) < MAX_BATCH:
            try:
                following = self._jobs.get_nowait()
            except queue.Empty:
                break
            if following is None or following.record is None:
                return batch, True, following
            batch.append(following)
        return batch, False, None

    def _write(self, db: sqlite3.Connection, batch: list[_Job]) -> None:
        try:
            with immediate_transaction(db):
                db.executemany(INSERT_SQL, [_row(job.record) for job in batch if job.record])
        except Exception as error:
            for job in batch:
                _deliver(job, error=error)
            return
        for job in batch:
            _deliver(job, result=None)

    def _run_call(self, db: sqlite3.Connection, job: _Job) -> None:
        assert job.call is not None
        try:
            result = job.call(db)
        except Exception as error:
            _deliver(job, error=error)
            return
        _deliver(job, result=result)

    def _fail_all_until_closed(self, error: BaseException) -> None:
        while True:
            job = self._jobs.get()
            if job is None:
                return
            _deliver(job, error=error)


class immediate_transaction:
    """BEGIN IMMEDIATE ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")


def create_ledger_file(path: Path) -> None:
    """Create the ledger file (WAL mode, the schema) if needed, and check its schema version;
    for a process that starts several writers of it. Blocking. Raises ``LedgerSchemaError``."""
    _open(path).close()


def _open(path: Path) -> sqlite3.Connection:
    """Open (creating if needed) the ledger file with durable settings and the current schema."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, timeout=BUSY_TIMEOUT_SECONDS)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=FULL")
        with immediate_transaction(db):
            for statement in SCHEMA:
                db.execute(statement)
            row = db.execute("SELECT version FROM schema_version").fetchone()
            if row is None:
                db.execute("INSERT INTO schema_version (version) VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] != SCHEMA_VERSION:
                for statement in migrations_from(row[0], str(path)):
                    db.execute(statement)
                db.execute("UPDATE schema_version SET version = ?", (SCHEMA_VERSION,))
    except BaseException:
        db.close()
        raise
    return db


def _row(rec: UsageRecord | None) -> tuple[object, ...]:
    assert rec is not None
    return astuple(rec)


def _record_from_row(row: tuple[Any, ...]) -> UsageRecord:
    values = dict(zip(COLUMNS, row, strict=True))
    values["estimated"] = bool(values["estimated"])
    return UsageRecord(**values)


def _retrieve_outcome(future: asyncio.Future[Any]) -> None:
    """Mark the outcome as seen: a caller that was cancelled no longer awaits it."""
    if not future.cancelled():
        future.exception()


def _deliver(job: _Job, *, result: object = None, error: BaseException | None = None) -> None:
    """Hand a result to the waiting coroutine, from the writer thread."""

    def settle() -> None:
        if job.future.done():
            return
        if error is not None:
            job.future.set_exception(error)
        else:
            job.future.set_result(result)

    with contextlib.suppress(RuntimeError):  # the caller's loop is gone: nobody waits any more
        job.loop.call_soon_threadsafe(settle)
