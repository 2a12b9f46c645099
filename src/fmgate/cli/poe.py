"""``fmgate poe sync``: ask Poe to refetch the bots' settings from the gateway."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import TYPE_CHECKING

from fmgate.cli.options import add_config_option, load_or_exit

if TYPE_CHECKING:
    from fmgate.cli.options import Subparsers


def register(subparsers: Subparsers) -> None:
    poe = subparsers.add_parser("poe", help="Poe operations: `poe sync` pushes bot settings to Poe")
    poe.set_defaults(run=None)
    poe_sub = poe.add_subparsers(title="poe commands")
    poe_sync = poe_sub.add_parser(
        "sync",
        help="ask Poe to refetch the settings of every bot (or those named) from the gateway",
    )
    poe_sync.add_argument("bots", nargs="*", metavar="BOT", help="bot names (default: all)")
    add_config_option(poe_sync)
    poe_sync.set_defaults(run=run_poe_sync)


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
