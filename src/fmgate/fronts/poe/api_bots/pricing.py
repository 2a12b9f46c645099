"""An API bot's ``pricing``: the catalog's per-token prices in Poe's unit for API bots.

The catalog prices in US milli-cents (1/1000 of a cent, $1 = 100,000 milli-cents) per token;
an API bot's ``pricing`` holds US dollars per token as decimal strings (``"prompt"`` for input,
``"completion"`` for output tokens), which Poe multiplies by the token counts the endpoint
reports. The conversion is exact (decimal arithmetic, written without an exponent).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Final

from fmgate.config.pricing import Pricing

#: Milli-cents in one US dollar.
MILLI_CENTS_PER_USD: Final = Decimal(100_000)


def usd_per_token(milli_cents: float) -> str:
    """``0.3`` milli-cents -> ``"0.000003"`` dollars, exactly, as a plain decimal string."""
    dollars = Decimal(repr(milli_cents)) / MILLI_CENTS_PER_USD
    return format(dollars.normalize(), "f")


def api_bot_pricing(pricing: Pricing) -> dict[str, str] | None:
    """``{"prompt", "completion"}`` in dollars per token; None when the bot has no token
    prices (Poe could bill its users nothing for it)."""
    if pricing.input_token <= 0 and pricing.output_token <= 0:
        return None
    return {
        "prompt": usd_per_token(pricing.input_token),
        "completion": usd_per_token(pricing.output_token),
    }
