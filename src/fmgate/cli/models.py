"""``fmgate models``: the catalog's bots and their status; ``models add``; ``models refresh``."""

from __future__ import annotations

import argparse
import asyncio
import datetime
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from fmgate.cli.options import add_config_option, add_table_option, load_or_exit

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers
    from fmgate.model_table.bot_status import BotStatus
    from fmgate.model_table.refresh import RefreshResult


def register(subparsers: Subparsers) -> None:
    models = subparsers.add_parser("models", help="list the catalog's bots; `models add` adds one")
    add_config_option(models)
    add_table_option(models)
    models.add_argument(
        "--available",
        action="store_true",
        help="list the model table's models (what `models add` can add) instead of the bots",
    )
    models.add_argument(
        "--url",
        help="a running gateway (e.g. http://127.0.0.1:8080): add its live numbers per bot",
    )
    models.set_defaults(run=run_models)
    models_sub = models.add_subparsers(title="models commands")
    register_add(models_sub)
    register_refresh(models_sub)


def register_add(subparsers: Subparsers) -> None:
    add = subparsers.add_parser(
        "add",
        help="add a bot for a Bedrock model to a catalog file (capabilities and prices from "
        "fmgate's model table)",
    )
    add.add_argument("model_id", help="Bedrock model id, e.g. amazon.nova-pro-v1:0")
    add.add_argument("--kind", choices=["chat", "image", "video"], help="check the model's kind")
    add.add_argument("--name", help="bot name (default: the table's suggested name)")
    add.add_argument("--region", help="AWS region (default: where the table prices the model)")
    add.add_argument("--output-s3-uri", help="video models: s3://bucket/prefix for the results")
    add_config_option(add)
    add_table_option(add)
    add.set_defaults(run=run_models_add)


def register_refresh(subparsers: Subparsers) -> None:
    refresh = subparsers.add_parser(
        "refresh",
        help="refresh the model table from Bedrock's ListFoundationModels and "
        "ListInferenceProfiles (needs AWS credentials)",
    )
    refresh.add_argument(
        "--region",
        action="append",
        dest="regions",
        help="region to list (repeat for several; default: us-east-1)",
    )
    refresh.add_argument(
        "--out",
        type=Path,
        default=Path("var/model_table.yaml"),
        help="where to write the refreshed table (default: var/model_table.yaml)",
    )
    refresh.add_argument(
        "--table", type=Path, help="the table to refresh (default: the bundled table)"
    )
    refresh.add_argument("--endpoint-url", help="Bedrock endpoint (e.g. an fmgate emulator)")
    refresh.set_defaults(run=run_models_refresh)


def run_models(args: argparse.Namespace) -> int:
    """``fmgate models``: every bot with its model, prices and status (``--url``: live too)."""
    from fmgate.cli.listing import bots_table, print_table
    from fmgate.config.secrets import SecretResolver
    from fmgate.model_table.bot_status import bot_statuses
    from fmgate.model_table.table import ModelTableError, load_table

    if args.available:
        return run_models_available(args.table)
    catalog = load_or_exit(args.config)
    try:
        table = load_table(args.table)
    except ModelTableError as exc:
        print(f"fmgate: {exc}", file=sys.stderr)
        return 1
    live = read_live_status(args.url) if args.url else None

    async def statuses() -> list[BotStatus]:
        secrets = SecretResolver()
        try:
            return await bot_statuses(catalog.bots, table, secrets, live)
        finally:
            await secrets.aclose()

    print_table(bots_table(catalog.bots, asyncio.run(statuses())))
    return 0


def read_live_status(url: str) -> dict[str, object] | None:
    """A running gateway's ``/status.json``, or None (said on stderr) when it cannot be read."""
    import httpx

    status_url = url.rstrip("/") + "/status.json"
    try:
        response = httpx.get(status_url, timeout=5.0)
        response.raise_for_status()
        body = response.json()
    except (httpx.HTTPError, ValueError):
        print(f"fmgate: could not read {status_url}; showing offline checks only", file=sys.stderr)
        return None
    return body if isinstance(body, dict) else None


def run_models_available(table_file: Path | None, today: datetime.date | None = None) -> int:
    """``fmgate models --available``: the model table in use, what is unpriced, and whose
    prices are stale on ``today`` (default: the local date)."""
    from fmgate.model_table.table import (
        STALE_AFTER_DAYS,
        ModelTableError,
        load_table,
        table_listing,
        table_path,
    )

    today = today or datetime.date.today()
    try:
        table = load_table(table_file)
    except ModelTableError as exc:
        print(f"fmgate: {exc}", file=sys.stderr)
        return 1
    source = table_path(table_file) or "the bundled table"
    print(f"fmgate: model table of {table.as_of} ({source})")
    print(table_listing(table, today))
    stale = sum(facts.prices_stale(today) for facts in table.models)
    if stale:
        print(
            f"fmgate: {stale} models' prices are over {STALE_AFTER_DAYS} days old (STALE): "
            "check them against the Amazon Bedrock pricing page"
        )
    return 0


def run_models_add(args: argparse.Namespace) -> int:
    from fmgate.model_table.add_model import AddModelError, add_model
    from fmgate.model_table.table import ModelTableError, UnknownModel, load_table

    if args.config is None:
        print(
            "fmgate: name the catalog file to add to with --config FILE (or FMGATE_CONFIG)",
            file=sys.stderr,
        )
        return 2
    try:
        added = add_model(
            args.config,
            args.model_id,
            kind=args.kind,
            name=args.name,
            region=args.region,
            output_s3_uri=args.output_s3_uri,
            table=load_table(args.table),
        )
    except (AddModelError, UnknownModel, ModelTableError) as exc:
        print(f"fmgate: {exc}", file=sys.stderr)
        return 1
    print(f"fmgate: added to {args.config}:\n{added.entry_text}", end="")
    print(
        f"fmgate: bot {added.config.bot_name} is live within seconds on a gateway serving "
        f"--config {args.config} (or send it SIGHUP); no restart needed"
    )
    return 0


def run_models_refresh(args: argparse.Namespace) -> int:
    """``fmgate models refresh``: Bedrock's listings merged into the model table, written out."""
    from fmgate.model_table.refresh import (
        DEFAULT_REGIONS,
        RefreshError,
        credentials_available,
        no_credentials_message,
        refresh_model_table,
    )
    from fmgate.model_table.table import ModelTableError, load_table

    if not credentials_available():
        print(f"fmgate: {no_credentials_message()}", file=sys.stderr)
        return 1
    regions = tuple(dict.fromkeys(args.regions or DEFAULT_REGIONS))
    try:
        base = load_table(args.table) if args.table else None
        result = asyncio.run(
            refresh_model_table(regions, out=args.out, endpoint_url=args.endpoint_url, base=base)
        )
    except (RefreshError, ModelTableError) as exc:
        print(f"fmgate: {exc}", file=sys.stderr)
        return 1
    print_refresh(result, regions, args.out)
    return 0


def print_refresh(result: RefreshResult, regions: tuple[str, ...], out: Path) -> None:
    """What ``models refresh`` wrote: counts, then the models that need a person's attention."""
    table = result.table
    print(
        f"fmgate: wrote the model table of {table.as_of} to {out} "
        f"({len(table.models)} models; regions: {', '.join(regions)})"
    )
    print(f"  refreshed from Bedrock's listings: {len(result.refreshed)}")
    if result.added:
        print(
            f"  NEW, NOT PRICED ({len(result.added)}): {', '.join(result.added)}\n"
            f"    `fmgate models add` refuses these until you write their prices into {out}"
        )
    if result.not_listed:
        print(f"  not listed in these regions (kept as they were): {', '.join(result.not_listed)}")
    if result.skipped:
        print(f"  skipped (no on-demand use, or no bot kind): {', '.join(result.skipped)}")
    if result.legacy:
        print(f"  LEGACY (Bedrock will retire them): {', '.join(result.legacy)}")
