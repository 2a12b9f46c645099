"""Pricing: what one request costs, in Poe's unit (US milli-cents), from a bot's prices.

:func:`price` is pure: usage and counts in, an itemised :class:`Cost` out. Each item is exact
(prices and counts multiply as decimals: ``0.3 * 1000`` is ``300``, not ``300.00000000000006``).
Poe's cost API takes whole milli-cents, so :attr:`Cost.total_rounded` rounds the total *up* once
(never per item, which would overcharge).

The same call computes what prompt caching saved (:attr:`Cost.cache_saving`): the prompt's
tokens at the plain input price minus what they cost at the cache prices, at the prices the
request was billed with (the ledger keeps it, since prices may change later).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

from fmgate.config.pricing import Pricing
from fmgate.core.events import Usage

#: Float noise below this many milli-cents is ignored when rounding up (1e-6 milli-cents).
ROUNDING_TOLERANCE_DIGITS = 6


@dataclass(frozen=True, slots=True)
class CostItem:
    """One priced line: what was used, and what it costs in milli-cents (may be fractional)."""

    description: str
    milli_cents: float


@dataclass(frozen=True, slots=True)
class Cost:
    """An itemised charge for one request."""

    items: tuple[CostItem, ...] = ()
    #: Milli-cents the prompt cache saved against the plain input price (exact, may be
    #: fractional; negative when writes cost more than the reads they bought): see
    #: :func:`cache_saving`. 0 for a request charged nothing.
    cache_saving: float = 0.0

    @property
    def total(self) -> float:
        """Exact sum of the items, in milli-cents."""
        return float(sum((Decimal(repr(item.milli_cents)) for item in self.items), Decimal(0)))

    @property
    def total_rounded(self) -> int:
        """The total rounded up to whole milli-cents: what is sent to Poe and recorded."""
        return math.ceil(round(self.total, ROUNDING_TOLERANCE_DIGITS))

    @property
    def description(self) -> str:
        """All items in one line (Poe's cost API shows one description per amount)."""
        return ", ".join(item.description for item in self.items) or "no charge"


#: What a priced line is: what was used, how many, at what unit price (milli-cents).
PricedLine = tuple[str, Decimal, float]


def price(
    pricing: Pricing,
    *,
    usage: Usage | None,
    images_in: int = 0,
    images_out: int = 0,
    video_seconds: float = 0.0,
    succeeded: bool = True,
) -> Cost:
    """Price one request.

    Token items come from ``usage`` (input, output, cache read, cache write with the 5-minute
    TTL, cache write with the 1-hour TTL: each at its own price), then images
    analysed, images generated and seconds of video. ``pricing.minimum`` tops the total up only
    for a request that ``succeeded``. A failed or cancelled one pays for what it used (a stream
    that broke half-way pays for the text delivered), never the minimum — or nothing at all when
    ``pricing.on_failure`` is ``"charge_nothing"``. The cost carries :func:`cache_saving` of
    ``usage`` (0 when nothing is charged).
    """
    if not succeeded and pricing.on_failure == "charge_nothing":
        return Cost()
    lines: list[PricedLine] = []
    if usage is not None:
        uncached_input, *cache_lines = prompt_lines(pricing, usage)
        output = ("output tokens", Decimal(usage.output_tokens), pricing.output_token)
        lines += [uncached_input, output, *cache_lines]
    lines += [
        ("images analysed", Decimal(images_in), pricing.image_input),
        ("images generated", Decimal(images_out), pricing.image_output),
        ("seconds of video", Decimal(repr(float(video_seconds))), pricing.video_second),
    ]
    items = [
        CostItem(f"{_count_text(count)} {what}", float(count * Decimal(repr(unit_price))))
        for what, count, unit_price in lines
        if count > 0 and unit_price > 0
    ]
    used = sum((Decimal(repr(item.milli_cents)) for item in items), Decimal(0))
    minimum = Decimal(repr(pricing.minimum))
    if succeeded and used < minimum:
        items.append(CostItem("minimum charge", float(minimum - used)))
    saving = cache_saving(pricing, usage) if usage is not None else Decimal(0)
    return Cost(tuple(items), float(saving))


def prompt_lines(pricing: Pricing, usage: Usage) -> list[PricedLine]:
    """The prompt's tokens, one line per price: input (uncached), cache reads, cache writes
    with the 5-minute TTL, cache writes with the 1-hour TTL."""
    written_1h = min(usage.cache_write_1h_tokens, usage.cache_write_tokens)
    written_5m = usage.cache_write_tokens - written_1h
    return [
        ("input tokens", Decimal(usage.input_tokens), pricing.input_token),
        ("cache read tokens", Decimal(usage.cache_read_tokens), pricing.cache_read_token),
        ("cache write tokens", Decimal(written_5m), pricing.cache_write_token),
        ("cache write tokens (1 hour)", Decimal(written_1h), pricing.cache_write_1h_token),
    ]


def cache_saving(pricing: Pricing, usage: Usage) -> Decimal:
    """Milli-cents the prompt cache saved on one request, exactly: every prompt token (input,
    cache reads and writes) at ``pricing.input_token``, minus the prompt as :func:`price`
    charges it (each kind at its own price). Negative when writes cost more than plain input
    and nothing was read; 0 without cache tokens. The minimum charge is not part of it."""
    lines = prompt_lines(pricing, usage)
    input_price = Decimal(repr(pricing.input_token))
    uncached = sum((count for _, count, _ in lines), Decimal(0)) * input_price
    charged = sum((count * Decimal(repr(unit)) for _, count, unit in lines), Decimal(0))
    return uncached - charged


def _count_text(count: Decimal) -> str:
    return f"{count.normalize():f}"


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
