"""``fmgate poe``: Poe operations. ``poe sync`` asks Poe to refetch the server bots' settings;
``poe api-bots sync`` creates or updates the Poe API bots that call ``/v1/chat/completions``."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import TYPE_CHECKING

from fmgate.cli.options import add_config_option, add_table_option, load_or_exit

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers
    from fmgate.config.catalog import Catalog


def register(subparsers: Subparsers) -> None:
    poe = subparsers.add_parser(
        "poe",
        help="Poe operations: `poe sync` pushes bot settings to Poe, `poe api-bots sync` "
        "creates or updates Poe API bots",
    )
    poe.set_defaults(run=None)
    poe_sub = poe.add_subparsers(title="poe commands")
    poe_sync = poe_sub.add_parser(
        "sync",
        help="ask Poe to refetch the settings of every bot (or those named) from the gateway",
    )
    poe_sync.add_argument("bots", nargs="*", metavar="BOT", help="bot names (default: all)")
    add_config_option(poe_sync)
    poe_sync.set_defaults(run=run_poe_sync)

    api_bots = poe_sub.add_parser(
        "api-bots", help="Poe API bots: Poe calls this gateway's /v1/chat/completions"
    )
    api_bots.set_defaults(run=None)
    api_bots_sub = api_bots.add_subparsers(title="api-bots commands")
    api_bots_sync = api_bots_sub.add_parser(
        "sync",
        help="create or update the Poe API bot of every chat bot (or those named) from the "
        "catalog's gateway.poe.api_bots",
    )
    api_bots_sync.add_argument(
        "bots", nargs="*", metavar="BOT", help="bot names (default: api_bots.bots, else all)"
    )
    api_bots_sync.add_argument(
        "--dry-run",
        action="store_true",
        help="only read Poe's bots and print what would be created or updated (no keys shown)",
    )
    add_config_option(api_bots_sync)
    add_table_option(api_bots_sync)
    api_bots_sync.set_defaults(run=run_api_bots_sync)


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


def context_windows(catalog: Catalog, args: argparse.Namespace) -> dict[str, int]:
    """Each bot's context window from the model table (bots of unknown models: none)."""
    from fmgate.model_table.table import UnknownModel, find_model, load_table

    table = load_table(args.table)
    windows: dict[str, int] = {}
    for bot in catalog.bots:
        try:
            window = find_model(bot.model_id, table).context_window
        except UnknownModel:
            continue
        if window is not None:
            windows[bot.bot_name] = window
    return windows


def run_api_bots_sync(args: argparse.Namespace) -> int:
    """``fmgate poe api-bots sync``: one line per bot (and, with --dry-run, each bot's body as
    JSON with the key shown as its reference); 0 only when every bot was synced (or could be)."""
    from fmgate.fronts.poe.api_bots.sync import ApiBotsNotConfigured, sync_api_bots

    catalog = load_or_exit(args.config)
    windows = context_windows(catalog, args)
    try:
        outcomes = asyncio.run(
            sync_api_bots(catalog, args.bots, context_windows=windows, dry_run=args.dry_run)
        )
    except ApiBotsNotConfigured as missing:
        print(f"fmgate: {missing}: see docs/poe-api-bots.md", file=sys.stderr)
        return 2
    for outcome in outcomes:
        print(outcome.line())
        if args.dry_run and outcome.printable is not None:
            print(json.dumps(outcome.printable, indent=2, sort_keys=True))
    if not outcomes:
        print("fmgate: the catalog has no chat bots to offer as API bots", file=sys.stderr)
        return 1
    failed = sum(not outcome.ok for outcome in outcomes)
    if failed:
        print(f"fmgate: {failed} of {len(outcomes)} API bots not synced", file=sys.stderr)
    return 0 if not failed else 1
