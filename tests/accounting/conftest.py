"""Every ledger store in turn for the shared contract suite (Postgres: ``postgres_dsn``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from fmgate.accounting.ledger import UsageLedger
from fmgate.accounting.postgres_ledger import PostgresLedger
from fmgate.accounting.sqlite_ledger import SqliteLedger
from tests.accounting.ledger_stores import LEDGER_STORES, LedgerOpener


@pytest.fixture(params=LEDGER_STORES)
async def open_ledger_store(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[LedgerOpener]:
    """Each store in turn (a fresh one per test); every ledger opened is closed afterwards."""
    opened: list[UsageLedger] = []
    if request.param == "postgres":
        dsn: str = request.getfixturevalue("postgres_dsn")

        async def open_store() -> UsageLedger:
            ledger: UsageLedger = await PostgresLedger.open(dsn, pool_size=4)
            opened.append(ledger)
            return ledger
    else:
        path = tmp_path / "usage.db"

        async def open_store() -> UsageLedger:
            ledger: UsageLedger = SqliteLedger(path)
            opened.append(ledger)
            return ledger

    yield open_store
    for ledger in opened:
        await ledger.aclose()
