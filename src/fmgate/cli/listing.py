"""The catalog's bots as a table (``fmgate models``)."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from fmgate.accounting.pricing import price_summary
from fmgate.config.bot_config import BotConfig
from fmgate.model_table.bot_status import BotStatus


def bots_table(bots: Sequence[BotConfig], statuses: Sequence[BotStatus] = ()) -> Table:
    """The bots as a rich table: name, kind, model, region, prices, and a status column when
    ``statuses`` are given (ready in green, with warnings in yellow, problems in red)."""
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False, show_edge=False)
    for column in ("BOT", "KIND", "MODEL", "REGION", "PRICE"):
        table.add_column(column, no_wrap=True)
    by_bot = {status.bot: status for status in statuses}
    if statuses:
        table.add_column("STATUS")
    for bot in bots:
        cells = [bot.bot_name, bot.kind, bot.model_id, bot.aws_region, price_summary(bot.pricing)]
        status = by_bot.get(bot.bot_name)
        if status is not None:
            style = "red" if not status.ready else "yellow" if status.warnings else "green"
            cells.append(f"[{style}]{escape(status.text)}[/{style}]")
        table.add_row(*cells)
    return table


def print_table(table: Table, file: TextIO | None = None) -> None:
    """Print ``table`` (colours on a terminal; plain and never wrapped narrow in a pipe)."""
    out = file or sys.stdout
    console = Console(file=out, width=None if out.isatty() else 240, soft_wrap=False)
    console.print(table)
