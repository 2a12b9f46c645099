"""``fmgate usage``: usage and cost totals per bot and day, from the catalog's ledger."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from fmgate.cli.options import add_config_option, load_or_exit

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers
    from fmgate.config.gateway_settings import LedgerSettings


def register(subparsers: Subparsers) -> None:
    usage = subparsers.add_parser(
        "usage", help="usage and cost totals per bot and day, from the catalog's ledger"
    )
    usage.add_argument(
        "--ledger",
        type=Path,
        default=Path("var/usage.sqlite3"),
        help="the SQLite ledger file (when the catalog's gateway.ledger.kind is sqlite)",
    )
    usage.add_argument("--days", type=float, help="only the last N days")
    add_config_option(usage)
    usage.set_defaults(run=run_usage)


def run_usage(args: argparse.Namespace) -> int:
    """Print the totals of the ledger ``gateway.ledger`` configures (SQLite: ``--ledger``)."""
    from fmgate.accounting.ledger_schema import LedgerSchemaError
    from fmgate.accounting.postgres_ledger import LedgerConfigError, LedgerUnavailable
    from fmgate.config.errors import SecretError
    from fmgate.config.gateway_settings import LedgerSettings

    settings = load_or_exit(args.config).gateway.ledger if args.config else LedgerSettings()
    if settings.kind == "sqlite" and not args.ledger.exists():
        print(f"fmgate: no usage ledger at {args.ledger}", file=sys.stderr)
        return 1
    since = time.time() - args.days * 86400 if args.days else None
    try:
        print(asyncio.run(usage_table(settings, args.ledger, since)))
    except (SecretError, LedgerConfigError, LedgerUnavailable, LedgerSchemaError) as exc:
        print(f"fmgate: {exc}", file=sys.stderr)
        return 1
    return 0


async def usage_table(settings: LedgerSettings, sqlite_path: Path, since: float | None) -> str:
    """The ledger's totals per bot and day since ``since`` (None: all), as a text table."""
    from fmgate.accounting.ledger import format_usage_table
    from fmgate.accounting.ledger_store import open_ledger
    from fmgate.config.secrets import SecretResolver

    secrets = SecretResolver()
    try:
        ledger = await open_ledger(settings, sqlite_path, secrets)
        if ledger is None:
            return "no usage ledger"
        try:
            return format_usage_table(await ledger.totals_by_bot_day(since))
        finally:
            await ledger.aclose()
    finally:
        await secrets.aclose()
