"""Plain-text tables of the catalog's bots (``fmgate models``)."""

from __future__ import annotations

from collections.abc import Sequence

from fmgate.config.schema import BotConfig, Pricing

MILLI_CENTS_PER_DOLLAR = 100_000


def price_summary(pricing: Pricing) -> str:
    """Human prices: $ per 1M tokens, per image, per video second."""
    parts = []
    if pricing.input_token or pricing.output_token:
        per_million_in = pricing.input_token * 1_000_000 / MILLI_CENTS_PER_DOLLAR
        per_million_out = pricing.output_token * 1_000_000 / MILLI_CENTS_PER_DOLLAR
        parts.append(f"${per_million_in:g}/${per_million_out:g} per 1M tok")
    if pricing.image_output:
        parts.append(f"${pricing.image_output / MILLI_CENTS_PER_DOLLAR:g}/image")
    if pricing.video_second:
        parts.append(f"${pricing.video_second / MILLI_CENTS_PER_DOLLAR:g}/video s")
    return ", ".join(parts) or "free"


def bots_table(bots: Sequence[BotConfig]) -> str:
    rows = [("BOT", "KIND", "MODEL", "REGION", "PRICE")]
    rows.extend(
        (b.bot_name, b.kind, b.model_id, b.aws_region, price_summary(b.pricing)) for b in bots
    )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    return "\n".join(lines)
