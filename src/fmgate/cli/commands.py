"""The ``fmgate`` command line: serve, emulator, chat, models, validate, usage."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fmgate.config.catalog import Catalog
    from fmgate.model_table.bot_status import BotStatus

DEFAULT_PORT = 8080
DEV_KEY_FILE = Path("var/dev-access-key")


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(arguments)
    if args.run is None:  # no sub-command given
        parser.print_help()
        return 2
    try:
        result: int = args.run(args)
    except BrokenPipeError:  # output piped into `head` and the like: stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    return result


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="fmgate", description=__doc__)
    parser.set_defaults(run=None)
    sub = parser.add_subparsers(title="commands")

    serve = sub.add_parser("serve", help="run the gateway")
    add_config_option(serve)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument(
        "--emulator",
        choices=["auto", "always", "never"],
        help="use the embedded Bedrock emulator (default: the catalog's setting, 'auto' = "
        "when no AWS credentials or endpoint are configured)",
    )
    serve.add_argument("--ledger", type=Path, default=Path("var/usage.sqlite3"))
    serve.add_argument("--log-json", action="store_true", help="JSON log lines")
    serve.add_argument("--log-level", default="INFO")
    serve.add_argument(
        "--reload-interval",
        type=float,
        default=2.0,
        help="with --config: seconds between checks of the catalog file for changes "
        "(0: only on SIGHUP)",
    )
    serve.add_argument(
        "--allow-without-key",
        action="store_true",
        help="DEV ONLY: serve bots whose access key cannot be resolved without any key",
    )
    serve.set_defaults(run=run_serve)

    emulator = sub.add_parser("emulator", help="run the Bedrock Runtime emulator")
    emulator.add_argument("--host", default="127.0.0.1")
    emulator.add_argument("--port", type=int, default=8900)
    emulator.add_argument("--profile", choices=["fast", "realistic"], default="realistic")
    emulator.add_argument("--access-key-id", default="AKIDEMULATOR")
    emulator.add_argument(
        "--secret-access-key",
        default=os.environ.get("FMGATE_EMULATOR_SECRET", "emulator-secret"),
        help="secret the emulator verifies SigV4 with (env FMGATE_EMULATOR_SECRET)",
    )
    emulator.add_argument("--s3-endpoint-url", help="S3 endpoint for video results")
    emulator.set_defaults(run=run_emulator)

    chat = sub.add_parser("chat", help="send one message to a bot and stream the reply")
    chat.add_argument("bot")
    chat.add_argument("message")
    chat.add_argument("--url", help="a running gateway (default: in-process, embedded emulator)")
    chat.add_argument("--key", help="the bot's Poe access key (default: env POE_ACCESS_KEY)")
    add_config_option(chat)
    chat.set_defaults(run=run_chat)

    models = sub.add_parser("models", help="list the catalog's bots; `models add` adds one")
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
    add = models_sub.add_parser(
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
    refresh = models_sub.add_parser(
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

    poe = sub.add_parser("poe", help="Poe operations: `poe sync` pushes bot settings to Poe")
    poe.set_defaults(run=None)
    poe_sub = poe.add_subparsers(title="poe commands")
    poe_sync = poe_sub.add_parser(
        "sync",
        help="ask Poe to refetch the settings of every bot (or those named) from the gateway",
    )
    poe_sync.add_argument("bots", nargs="*", metavar="BOT", help="bot names (default: all)")
    add_config_option(poe_sync)
    poe_sync.set_defaults(run=run_poe_sync)

    validate = sub.add_parser("validate", help="check a catalog file without serving")
    validate.add_argument("catalog", type=Path)
    validate.set_defaults(run=run_validate)

    usage = sub.add_parser(
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

    return parser


def add_config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=Path(os.environ["FMGATE_CONFIG"]) if os.environ.get("FMGATE_CONFIG") else None,
        help="catalog YAML (default: env FMGATE_CONFIG, else the bundled catalog)",
    )


def add_table_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--table",
        type=Path,
        help="model table file (default: var/model_table.yaml when `models refresh` wrote "
        "one, else the bundled table)",
    )


def load_or_exit(path: Path | None) -> Catalog:
    from fmgate.config.loader import CatalogError, load_catalog

    try:
        return load_catalog(path)
    except CatalogError as exc:
        print(f"fmgate: invalid catalog:\n{exc}", file=sys.stderr)
        raise SystemExit(2) from None


def dev_access_key() -> str:
    """A per-machine development key for the embedded emulator, kept in var/ (mode 0600)."""
    if DEV_KEY_FILE.exists():
        return DEV_KEY_FILE.read_text().strip()
    DEV_KEY_FILE.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(16)
    fd = os.open(DEV_KEY_FILE, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(key + "\n")
    return key


def run_serve(args: argparse.Namespace) -> int:
    from fmgate.core.shutdown import ShutdownSignal
    from fmgate.observability.logging import configure_logging
    from fmgate.server.app import create_app
    from fmgate.server.bedrock_target import choose_backend
    from fmgate.server.gateway import GatewayOptions
    from fmgate.server.serving import serve

    configure_logging(json=args.log_json, level=args.log_level)
    catalog = load_or_exit(args.config)
    with choose_backend(catalog, args.emulator) as backend:
        dev_key = None
        if backend.embedded and not os.environ.get("POE_ACCESS_KEY"):
            dev_key = dev_access_key()
        print(f"fmgate: {len(catalog.bots)} bots, Bedrock: {backend.description}", flush=True)
        if backend.embedded:
            print(
                "fmgate: no AWS credentials configured -> serving on the EMBEDDED EMULATOR "
                "(synthetic replies). Configure AWS credentials to call real Bedrock.",
                flush=True,
            )
        if dev_key is not None:
            print(
                f"fmgate: POE_ACCESS_KEY not set -> bots accept the development key in "
                f"{DEV_KEY_FILE} (try: fmgate chat nova-micro 'hello' --url "
                f"http://{args.host}:{args.port})",
                flush=True,
            )
        options = GatewayOptions(
            aws=backend.aws,
            ledger_path=args.ledger,
            dev_access_key=dev_key,
            allow_without_key=args.allow_without_key,
            local_media_url=f"http://{args.host}:{args.port}" if backend.embedded else None,
        )
        shutdown = ShutdownSignal()
        app = create_app(
            catalog,
            options,
            catalog_path=args.config,
            reload_interval=args.reload_interval,
            shutdown=shutdown,
        )
        print(f"fmgate: serving Poe bots at http://{args.host}:{args.port}/bot/<name>", flush=True)
        serve(
            app,
            shutdown,
            host=args.host,
            port=args.port,
            log_level=args.log_level,
            grace_seconds=catalog.gateway.shutdown_grace_seconds,
        )
    return 0


def run_emulator(args: argparse.Namespace) -> int:
    from fmgate_emulator import Emulator, EmulatorConfig

    config = EmulatorConfig(
        access_key_id=args.access_key_id,
        secret_access_key=args.secret_access_key,
        profile=args.profile,
        s3_endpoint_url=args.s3_endpoint_url,
    )
    print(f"fmgate emulator: http://{args.host}:{args.port} (profile {args.profile})", flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(Emulator.serve_forever(config, args.host, args.port))
    return 0


def run_chat(args: argparse.Namespace) -> int:
    from fmgate.cli.chat_client import chat_in_process, chat_remote

    if args.url:
        key = args.key or os.environ.get("POE_ACCESS_KEY") or read_dev_key()
        return asyncio.run(chat_remote(args.url, args.bot, args.message, key))
    catalog = load_or_exit(args.config)
    return asyncio.run(chat_in_process(catalog, args.bot, args.message))


def read_dev_key() -> str:
    return DEV_KEY_FILE.read_text().strip() if DEV_KEY_FILE.exists() else ""


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


def run_models_available(table_file: Path | None) -> int:
    """``fmgate models --available``: the model table in use, and what is unpriced."""
    from fmgate.model_table.table import ModelTableError, load_table, table_listing, table_path

    try:
        table = load_table(table_file)
    except ModelTableError as exc:
        print(f"fmgate: {exc}", file=sys.stderr)
        return 1
    source = table_path(table_file) or "the bundled table"
    print(f"fmgate: model table of {table.as_of} ({source})")
    print(table_listing(table))
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
    table = result.table
    print(
        f"fmgate: wrote the model table of {table.as_of} to {args.out} "
        f"({len(table.models)} models; regions: {', '.join(regions)})"
    )
    print(f"  refreshed from Bedrock's listings: {len(result.refreshed)}")
    if result.added:
        print(
            f"  NEW, NOT PRICED ({len(result.added)}): {', '.join(result.added)}\n"
            f"    `fmgate models add` refuses these until you write their prices into {args.out}"
        )
    if result.not_listed:
        print(f"  not listed in these regions (kept as they were): {', '.join(result.not_listed)}")
    if result.skipped:
        print(f"  skipped (no on-demand use, or no bot kind): {', '.join(result.skipped)}")
    if result.legacy:
        print(f"  LEGACY (Bedrock will retire them): {', '.join(result.legacy)}")
    return 0


def run_poe_sync(args: argparse.Namespace) -> int:
    """``fmgate poe sync``: one line per bot; 0 only when every bot synced."""
    from fmgate.fronts.poe.settings_sync import poe_answers_discarded, sync_settings

    catalog = load_or_exit(args.config)
    with poe_answers_discarded():
        outcomes = asyncio.run(sync_settings(catalog, args.bots))
    for outcome in outcomes:
        print(outcome.line())
    failed = sum(not outcome.synced for outcome in outcomes)
    if not outcomes:
        print("fmgate: the catalog has no bots to sync", file=sys.stderr)
        return 1
    if failed:
        print(f"fmgate: {failed} of {len(outcomes)} bots not synced", file=sys.stderr)
    return 0 if not failed else 1


def run_validate(args: argparse.Namespace) -> int:
    from fmgate.config.loader import validate_catalog_file

    ok, report = validate_catalog_file(args.catalog)
    print(report, file=sys.stdout if ok else sys.stderr)
    return 0 if ok else 1


def run_usage(args: argparse.Namespace) -> int:
    """Print the totals of the ledger ``gateway.ledger`` configures (SQLite: ``--ledger``)."""
    import time

    from fmgate.accounting.ledger import format_usage_table
    from fmgate.accounting.ledger_schema import LedgerSchemaError
    from fmgate.accounting.ledger_store import open_ledger
    from fmgate.accounting.postgres_ledger import LedgerConfigError, LedgerUnavailable
    from fmgate.config.errors import SecretError
    from fmgate.config.gateway_settings import LedgerSettings
    from fmgate.config.secrets import SecretResolver

    settings = load_or_exit(args.config).gateway.ledger if args.config else LedgerSettings()
    if settings.kind == "sqlite" and not args.ledger.exists():
        print(f"fmgate: no usage ledger at {args.ledger}", file=sys.stderr)
        return 1

    async def totals() -> str:
        secrets = SecretResolver()
        try:
            ledger = await open_ledger(settings, args.ledger, secrets)
            if ledger is None:
                return "no usage ledger"
            try:
                since = time.time() - args.days * 86400 if args.days else None
                return format_usage_table(await ledger.totals_by_bot_day(since))
            finally:
                await ledger.aclose()
        finally:
            await secrets.aclose()

    try:
        print(asyncio.run(totals()))
    except (SecretError, LedgerConfigError, LedgerUnavailable, LedgerSchemaError) as exc:
        print(f"fmgate: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
