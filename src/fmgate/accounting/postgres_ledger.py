"""The PostgreSQL usage ledger: one database shared by every gateway replica.

:class:`PostgresLedger` implements :class:`fmgate.accounting.ledger.UsageLedger` on psycopg 3
(async) through one :class:`psycopg_pool.AsyncConnectionPool` per gateway. It keeps the SQLite
ledger's schema (:data:`fmgate.accounting.ledger_schema.SCHEMA`) and semantics:

- :meth:`PostgresLedger.open` creates the tables if absent (under an advisory lock, so replicas
  starting together do not race) and refuses a database whose schema version it does not know.
- ``record`` is one ``INSERT ... ON CONFLICT (request_id) DO NOTHING`` on an autocommit
  connection, so it returns only after the server committed it, and a request id already stored
  is ignored: retrying a record, or two replicas recording the same request, stores it once.
- A caller cancelled mid-write does not cancel the write; ``aclose`` waits for every write.
- ``totals_by_bot_day`` groups by UTC day and orders by byte order (``COLLATE "C"``), exactly
  like SQLite.

When PostgreSQL is briefly unreachable (a restart, a fail-over), every operation is retried with
a bounded exponential backoff (:class:`PostgresRetry`), then fails with
:class:`LedgerUnavailable`. The DSN's password is registered with the log redactor and never
appears in a message of this module.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import astuple, dataclass
from typing import Any, Final, TypeVar

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolClosed

from fmgate.accounting.ledger import UsageRecord, UsageTotals
from fmgate.accounting.ledger_schema import (
    COLUMNS,
    SCHEMA,
    SCHEMA_VERSION,
    LedgerClosed,
    migrations_from,
)
from fmgate.observability.logging import register_secret

__all__ = [
    "LedgerConfigError",
    "LedgerUnavailable",
    "PostgresLedger",
    "PostgresRetry",
]

logger = logging.getLogger("fmgate.accounting.postgres_ledger")

Connection = psycopg.AsyncConnection[TupleRow]
T = TypeVar("T")

#: Key of the transaction-level advisory lock held while the schema is created or checked.
SCHEMA_LOCK_KEY: Final = 0x666D_6761_7465  # "fmgate"

#: Connection parameters added when the DSN does not set them.
CONNECTION_DEFAULTS: Final = {"application_name": "fmgate-ledger", "connect_timeout": "10"}

INSERT_SQL: Final = """
    INSERT INTO usage (
        request_id, bot, model_id, user_id, conversation_id, started_at,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated,
        cost_milli_cents, latency_ms, ttft_ms, outcome, front, cache_write_1h_tokens,
        cache_saving_milli_cents, service_tier, system_tokens, input_tokens_excl_system
    ) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
    ON CONFLICT (request_id) DO NOTHING
"""
#: Columns in :data:`COLUMNS` order (the order of :class:`UsageRecord`'s fields).
SELECT_ONE_SQL: Final = """
    SELECT request_id, bot, model_id, user_id, conversation_id, started_at,
        input_tokens, output_tokens, cache_read_tokens, cache_write_tokens, estimated,
        cost_milli_cents, latency_ms, ttft_ms, outcome, front, cache_write_1h_tokens,
        cache_saving_milli_cents, service_tier, system_tokens, input_tokens_excl_system
    FROM usage WHERE request_id = %s
"""
#: Errors are the outcomes other than ``NON_ERROR_OUTCOMES`` ("ok", "cancelled", "guardrail").
#: PostgreSQL's SUM of a BIGINT is NUMERIC, hence the casts (the totals stay ints, as SQLite
#: gives them). A saving that is NULL is not known (a row of schema 2 or older that read or
#: wrote the cache).
TOTALS_SQL: Final = """
    SELECT to_char(to_timestamp(started_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
        bot, COUNT(*),
        SUM(CASE WHEN outcome IN ('ok', 'cancelled', 'guardrail') THEN 0 ELSE 1 END)::bigint,
        SUM(input_tokens)::bigint, SUM(output_tokens)::bigint, SUM(cost_milli_cents)::bigint,
        SUM(cache_read_tokens)::bigint, SUM(cache_write_tokens)::bigint,
        COALESCE(SUM(cache_saving_milli_cents), 0)::double precision,
        SUM(CASE WHEN cache_saving_milli_cents IS NULL THEN 1 ELSE 0 END)::bigint
    FROM usage WHERE started_at >= %s
    GROUP BY day, bot ORDER BY day, bot COLLATE "C"
"""


class LedgerUnavailable(RuntimeError):
    """PostgreSQL could not be reached (or kept failing) for every attempt of an operation."""


class LedgerConfigError(ValueError):
    """The ledger's DSN is not a valid libpq connection string (its text is never shown)."""


@dataclass(frozen=True, slots=True)
class PostgresRetry:
    """How long an operation keeps trying while PostgreSQL is unreachable.

    Attempt ``n`` (from 1) that fails waits ``min(max_delay, first_delay * 2**(n-1))``, scaled by
    a random factor in [0.5, 1] so replicas do not retry in step, before attempt ``n + 1``. Each
    attempt waits at most ``acquire_timeout_seconds`` for a pooled connection.
    """

    attempts: int = 5
    first_delay_seconds: float = 0.2
    max_delay_seconds: float = 2.0
    acquire_timeout_seconds: float = 5.0

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
        ceiling = min(self.max_delay_seconds, self.first_delay_seconds * 2.0 ** (attempt - 1))
        return ceiling * random.uniform(0.5, 1.0)


def is_transient(error: BaseException) -> bool:
    """Whether trying again may succeed: the connection failed or broke, or the pool timed out.

    psycopg raises :class:`psycopg.OperationalError` (``PoolTimeout`` and ``AdminShutdown`` are
    subclasses) for these; anything else (a schema or data error) will fail the same way again,
    and so will a pool that was closed.
    """
    return isinstance(error, psycopg.OperationalError) and not isinstance(error, PoolClosed)


@dataclass(frozen=True, slots=True)
class LedgerTarget:
    """Where the ledger lives, as it may be named in messages (no user, no password)."""

    host: str
    port: str
    dbname: str

    def __str__(self) -> str:
        return f"database {self.dbname!r} on {self.host}:{self.port}"


def prepare_conninfo(dsn: str) -> tuple[str, LedgerTarget]:
    """The DSN with fmgate's connection defaults, and where it points.

    Registers the password with the log redactor first. A malformed DSN raises
    :class:`LedgerConfigError` without its text (libpq's parse error may quote the password).
    """
    try:
        params = conninfo_to_dict(dsn)
    except psycopg.ProgrammingError:
        raise LedgerConfigError(
            "the usage ledger's postgres_dsn is not a valid libpq connection string"
        ) from None
    password = params.get("password")
    if password:
        register_secret(str(password))
    missing = {key: value for key, value in CONNECTION_DEFAULTS.items() if key not in params}
    target = LedgerTarget(
        host=str(params.get("host") or params.get("hostaddr") or "localhost"),
        port=str(params.get("port") or "5432"),
        dbname=str(params.get("dbname") or params.get("user") or "postgres"),
    )
    return make_conninfo(dsn, **missing), target


class PostgresLedger:
    """A :class:`fmgate.accounting.ledger.UsageLedger` in a PostgreSQL database.

    Create it with :meth:`open`; close it with :meth:`aclose`.
    """

    def __init__(
        self,
        pool: AsyncConnectionPool[Connection],
        target: LedgerTarget,
        retry: PostgresRetry,
    ) -> None:
        self._pool = pool
        self._target = target
        self._retry = retry
        self._pending: set[asyncio.Task[None]] = set()
        self._closed = False

    @classmethod
    async def open(
        cls, dsn: str, *, pool_size: int = 4, retry: PostgresRetry | None = None
    ) -> PostgresLedger:
        """Connect, create the schema if absent, and check its version.

        Raises :class:`LedgerConfigError` for a malformed DSN, :class:`LedgerUnavailable` when
        PostgreSQL cannot be reached within ``retry``, :class:`LedgerSchemaError` for a database
        written by an incompatible fmgate.
        """
        retry = retry or PostgresRetry()
        conninfo, target = prepare_conninfo(dsn)
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            conninfo,
            kwargs={"autocommit": True},
            min_size=1,
            max_size=pool_size,
            open=False,
            check=AsyncConnectionPool.check_connection,
            timeout=retry.acquire_timeout_seconds,
            name="fmgate-ledger",
        )
        ledger = cls(pool, target, retry)
        await pool.open()
        try:
            await ledger._with_connection("open", ledger._prepare_schema)
        except BaseException:
            await pool.close()
            raise
        logger.info("usage ledger: PostgreSQL %s", target)
        return ledger

    # -- the interface ------------------------------------------------------------------------

    async def record(self, rec: UsageRecord) -> None:
        self._refuse_if_closed()
        params = astuple(rec)

        async def insert(conn: Connection) -> None:
            await conn.execute(INSERT_SQL, params)

        write = asyncio.create_task(self._with_connection("record", insert))
        self._pending.add(write)
        write.add_done_callback(self._pending.discard)
        try:
            # Shielded: a cancelled caller must not cancel (or hide the outcome of) its write.
            await asyncio.shield(write)
        except asyncio.CancelledError:
            write.add_done_callback(_report_orphaned_write)
            raise

    async def totals_by_bot_day(self, since: float | None = None) -> list[UsageTotals]:
        self._refuse_if_closed()
        lower_bound = since if since is not None else float("-inf")

        async def query(conn: Connection) -> list[UsageTotals]:
            cursor = await conn.execute(TOTALS_SQL, (lower_bound,))
            return [UsageTotals(*row) for row in await cursor.fetchall()]

        return await self._with_connection("totals", query)

    async def get(self, request_id: str) -> UsageRecord | None:
        self._refuse_if_closed()

        async def query(conn: Connection) -> UsageRecord | None:
            cursor = await conn.execute(SELECT_ONE_SQL, (request_id,))
            row = await cursor.fetchone()
            return None if row is None else UsageRecord(**dict(zip(COLUMNS, row, strict=True)))

        return await self._with_connection("get", query)

    async def run(self, operation: str, call: Callable[[Connection], Awaitable[T]]) -> T:
        """``call`` on a pooled connection (autocommit), retried like every ledger operation
        while PostgreSQL is unreachable: how the database's other tables (the caller documents)
        are read and written. ``operation`` names it in messages. Raises ``LedgerClosed`` after
        ``aclose``, :class:`LedgerUnavailable`, and what ``call`` raises."""
        self._refuse_if_closed()
        return await self._with_connection(operation, call)

    async def aclose(self) -> None:
        """Wait for the writes in progress, then close the pool (idempotent)."""
        if self._closed:
            return
        self._closed = True
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._pool.close()

    # -- internals ----------------------------------------------------------------------------

    def _refuse_if_closed(self) -> None:
        if self._closed:
            raise LedgerClosed("the usage ledger is closed")

    async def _with_connection(
        self, operation: str, run: Callable[[Connection], Awaitable[T]]
    ) -> T:
        """``run`` on a pooled connection, retried per :class:`PostgresRetry` while transient."""
        attempts = self._retry.attempts
        for attempt in range(1, attempts + 1):
            try:
                async with self._pool.connection() as conn:
                    return await run(conn)
            except psycopg.Error as error:
                if not is_transient(error):
                    raise
                logger.warning(
                    "usage ledger %s: PostgreSQL unavailable (attempt %d of %d): %s",
                    operation,
                    attempt,
                    attempts,
                    describe_error(error),
                )
                if attempt == attempts:
                    raise LedgerUnavailable(
                        f"usage ledger {operation} failed: PostgreSQL {self._target} was "
                        f"unavailable for {attempts} attempts ({describe_error(error)})"
                    ) from error
                await asyncio.sleep(self._retry.delay(attempt))
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _prepare_schema(self, conn: Connection) -> None:
        async with conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK_KEY,))
            for statement in SCHEMA:
                await conn.execute(statement)
            cursor = await conn.execute("SELECT version FROM schema_version")
            row = await cursor.fetchone()
            if row is None:
                await conn.execute(
                    "INSERT INTO schema_version (version) VALUES (%s)", (SCHEMA_VERSION,)
                )
            elif row[0] != SCHEMA_VERSION:
                for statement in migrations_from(row[0], str(self._target)):
                    await conn.execute(statement)
                await conn.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))


def describe_error(error: BaseException) -> str:
    """An error's type and first line, e.g. ``PoolTimeout: couldn't get a connection...``.

    libpq's messages name host, port, user and database, never the password.
    """
    first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return f"{type(error).__name__}: {first_line}" if first_line else type(error).__name__


def _report_orphaned_write(write: asyncio.Task[Any]) -> None:
    """Log the failure of a write whose caller was cancelled (nobody else will see it)."""
    if write.cancelled():
        logger.error("usage ledger: a record was lost (its write was cancelled)")
        return
    error = write.exception()
    if error is not None:
        logger.error("usage ledger: a record was lost: %s", describe_error(error))
