"""Open the usage ledger a catalog configures (``gateway.ledger``): SQLite or PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from fmgate.accounting.ledger import UsageLedger
from fmgate.accounting.postgres_ledger import PostgresLedger
from fmgate.accounting.sqlite_ledger import SqliteLedger
from fmgate.config.gateway_settings import LedgerSettings
from fmgate.config.secrets import SecretResolver


async def open_ledger(
    settings: LedgerSettings, sqlite_path: Path | None, secrets: SecretResolver
) -> UsageLedger | None:
    """The ledger ``settings`` choose, opened and ready; the caller closes it with ``aclose``.

    ``sqlite``: a :class:`SqliteLedger` at ``sqlite_path``, or None (no ledger) when that is
    None. ``postgres``: the DSN reference is resolved through ``secrets`` and a
    :class:`PostgresLedger` with ``settings.pool_size`` connections is opened (schema created
    if absent). Raises :class:`fmgate.config.errors.SecretError` when the reference cannot be
    resolved, and the errors of :meth:`PostgresLedger.open`.
    """
    if settings.kind == "sqlite":
        return None if sqlite_path is None else SqliteLedger(sqlite_path)
    if settings.postgres_dsn is None:  # the schema refuses this; kept for the type checker
        raise ValueError("ledger kind postgres needs postgres_dsn (a reference)")
    dsn = await secrets.resolve(settings.postgres_dsn)
    return await PostgresLedger.open(dsn, pool_size=settings.pool_size)
