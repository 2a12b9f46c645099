"""open_ledger picks the store the catalog configures; ``fmgate usage`` reads that store."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from fmgate.accounting.ledger_store import open_ledger
from fmgate.accounting.postgres_ledger import PostgresLedger
from fmgate.accounting.sqlite_ledger import SqliteLedger
from fmgate.cli import main
from fmgate.config.errors import SecretError
from fmgate.config.gateway_settings import LedgerSettings
from fmgate.config.secrets import SecretResolver
from tests.accounting.records import usage_record
from tests.harness.postgres_server import TEST_POSTGRES_PASSWORD

DSN_VARIABLE = "FMGATE_LEDGER_DSN"
POSTGRES_SETTINGS = LedgerSettings(kind="postgres", postgres_dsn=f"env:{DSN_VARIABLE}")

CATALOG_WITH_POSTGRES_LEDGER = f"""\
version: 1
gateway:
  ledger:
    kind: postgres
    postgres_dsn: env:{DSN_VARIABLE}
    pool_size: 2
bots:
  - bot_name: nova-pro
    model_id: amazon.nova-pro-v1:0
"""


async def test_sqlite_settings_open_the_file_or_no_ledger(tmp_path: Path) -> None:
    secrets = SecretResolver(environ={})
    ledger = await open_ledger(LedgerSettings(), tmp_path / "usage.db", secrets)
    assert isinstance(ledger, SqliteLedger)
    await ledger.record(usage_record("r1"))
    await ledger.aclose()
    assert await open_ledger(LedgerSettings(), None, secrets) is None


async def test_postgres_settings_resolve_the_dsn_reference(postgres_dsn: str) -> None:
    secrets = SecretResolver(environ={DSN_VARIABLE: postgres_dsn})
    ledger = await open_ledger(POSTGRES_SETTINGS, None, secrets)
    assert isinstance(ledger, PostgresLedger)
    try:
        await ledger.record(usage_record("r1"))
        assert await ledger.get("r1") == usage_record("r1")
    finally:
        await ledger.aclose()


async def test_unresolvable_dsn_reference_names_the_reference() -> None:
    with pytest.raises(SecretError) as unresolved:
        await open_ledger(POSTGRES_SETTINGS, None, SecretResolver(environ={}))
    assert DSN_VARIABLE in str(unresolved.value)


def test_usage_command_reads_the_postgres_ledger_of_the_catalog(
    postgres_dsn: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def seed() -> None:
        ledger = await PostgresLedger.open(postgres_dsn)
        try:
            for n, outcome in enumerate(["ok", "ok", "throttled"]):
                record = usage_record(
                    f"r{n}",
                    bot="nova-pro",
                    started_at=time.time(),
                    input_tokens=100,
                    output_tokens=50,
                    cost_milli_cents=25_000,
                    outcome=outcome,
                    cache_read_tokens=1000,
                    cache_write_tokens=100,
                    cache_saving_milli_cents=262.25,
                )
                await ledger.record(record)
        finally:
            await ledger.aclose()

    asyncio.run(seed())
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG_WITH_POSTGRES_LEDGER)
    monkeypatch.setenv(DSN_VARIABLE, postgres_dsn)
    # --ledger names a file that does not exist: the catalog's Postgres ledger is read instead.
    arguments = ["usage", "--config", str(catalog), "--ledger", str(tmp_path / "none.db")]
    assert main([*arguments, "--days", "1"]) == 0
    captured = capsys.readouterr()
    [row] = [line for line in captured.out.splitlines() if "nova-pro" in line]
    assert row.split()[2:6] == ["3", "1", "300", "150"]  # requests, errors, tokens in, out
    # cache read, cache write, hit ratio (3,000 of 3,600 prompt tokens), cost, saving
    assert row.split()[6:] == ["3,000", "300", "83.3%", "$0.75000", "$0.00787"]
    assert TEST_POSTGRES_PASSWORD not in captured.out + captured.err


def test_usage_command_names_an_unset_dsn_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text(CATALOG_WITH_POSTGRES_LEDGER)
    monkeypatch.delenv(DSN_VARIABLE, raising=False)
    assert main(["usage", "--config", str(catalog)]) == 1
    assert f"environment variable {DSN_VARIABLE} is not set" in capsys.readouterr().err
