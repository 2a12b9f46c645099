"""The rate card and cost label Poe shows users, generated from a bot's prices (never by hand).

Poe renders ``[usd_milli_cents=X]`` tags in ``rate_card`` (markdown) and ``cost_label`` as a price
in the user's currency; X is a whole number of milli-cents *for the unit written next to it*.
Per-token prices are fractional milli-cents (Claude Sonnet input: 0.3), so token rows are shown
per 1k tokens (300), or per 1M tokens when a per-1k figure would still be fractional (Nova
Micro: 0.0035 per token -> 3500 per 1M); one unit for all token rows of a card. A figure that is
fractional even per 1M is rounded up (the card never understates a price).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from fmgate.config.bot_config import BotKind
from fmgate.config.pricing import Pricing

#: Token units tried in order: the first that makes the price a whole number of milli-cents wins.
TOKEN_UNITS: tuple[tuple[int, str], ...] = ((1_000, "1k tokens"), (1_000_000, "1M tokens"))


@dataclass(frozen=True, slots=True)
class RateLine:
    """One row of the card: what is charged, milli-cents, and the unit those milli-cents buy."""

    label: str
    milli_cents: int
    unit: str

    @property
    def markdown_row(self) -> str:
        return f"| {self.label} | {price_tag(self.milli_cents)} per {self.unit} |"


def price_tag(milli_cents: int) -> str:
    """Poe's price tag for a whole number of milli-cents."""
    return f"[usd_milli_cents={milli_cents}]"


def token_unit(per_token_prices: list[float]) -> tuple[int, str]:
    """The smallest unit (1k, else 1M tokens) in which every price is whole milli-cents.

    One unit for the whole card, so users compare input and output at a glance.
    """
    exact = [Decimal(repr(price)) for price in per_token_prices]
    for multiplier, unit in TOKEN_UNITS:
        if all(p * multiplier == (p * multiplier).to_integral_value() for p in exact):
            return multiplier, unit
    return TOKEN_UNITS[-1]


def per_unit(per_token: float, multiplier: int) -> int:
    """A per-token price in whole milli-cents per ``multiplier`` tokens (rounded up)."""
    return math.ceil(Decimal(repr(per_token)) * multiplier)


def whole(milli_cents: float) -> int:
    """A per-item price as whole milli-cents (rounded up: the card never understates)."""
    return math.ceil(Decimal(repr(milli_cents)))


def rate_lines(pricing: Pricing) -> list[RateLine]:
    """Every priced item of ``pricing`` as a card row, in a fixed order."""
    token_prices = [
        (label, per_token)
        for label, per_token in (
            ("Input (text)", pricing.input_token),
            ("Output (text)", pricing.output_token),
            ("Cached input (read)", pricing.cache_read_token),
            ("Cached input (write)", pricing.cache_write_token),
            ("Cached input (write, 1 hour)", pricing.cache_write_1h_token),
        )
        if per_token > 0
    ]
    multiplier, unit = token_unit([per_token for _, per_token in token_prices])
    lines = [
        RateLine(label, per_unit(per_token, multiplier), unit) for label, per_token in token_prices
    ]
    for label, each, item_unit in (
        ("Input (image)", pricing.image_input, "image"),
        ("Output (image)", pricing.image_output, "image"),
        ("Output (video)", pricing.video_second, "second"),
        ("Minimum", pricing.minimum, "message"),
    ):
        if each > 0:
            lines.append(RateLine(label, whole(each), item_unit))
    return lines


def cost_label(pricing: Pricing, kind: BotKind) -> str:
    """The short label Poe shows on the bot: the price that matters most for its kind."""
    if kind == "image" and pricing.image_output > 0:
        return f"{price_tag(whole(pricing.image_output))} per image"
    if kind == "video" and pricing.video_second > 0:
        return f"{price_tag(whole(pricing.video_second))} per second of video"
    if pricing.minimum > 0:
        return f"From {price_tag(whole(pricing.minimum))} per message"
    first = rate_lines(pricing)[0]
    return f"{price_tag(first.milli_cents)} per {first.unit}"


def rate_card(pricing: Pricing, kind: BotKind) -> tuple[str | None, str | None]:
    """(rate card markdown, cost label) for a bot's Poe settings; (None, None) when unpriced."""
    lines = rate_lines(pricing)
    if not pricing.is_priced or not lines:
        return None, None
    table = ["| Type | Cost |", "| --- | --- |", *(line.markdown_row for line in lines)]
    return "\n".join(table), cost_label(pricing, kind)
