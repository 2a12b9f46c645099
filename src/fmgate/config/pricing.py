"""What Poe users are charged for a bot (the ``pricing`` section of every bot kind)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from fmgate.config.fields import StrictModel

#: The service tiers priced apart from the standard one.
PricedTier = Literal["priority", "flex"]


class TierPrices(StrictModel):
    """Token prices on one service tier (milli-cents); a price left out is the bot's standard
    one."""

    input_token: float | None = Field(None, ge=0, description="Per input (prompt) token.")
    output_token: float | None = Field(None, ge=0, description="Per output token.")
    cache_read_token: float | None = Field(None, ge=0, description="Per cache-read token.")
    cache_write_token: float | None = Field(
        None, ge=0, description="Per cache-write token, 5-minute TTL."
    )
    cache_write_1h_token: float | None = Field(
        None, ge=0, description="Per cache-write token, 1-hour TTL."
    )


class Pricing(StrictModel):
    """Prices in Poe's unit, US milli-cents (1/1000 of a cent). 0 means "not charged"."""

    input_token: float = Field(0.0, ge=0, description="Per input (prompt) token.")
    output_token: float = Field(0.0, ge=0, description="Per output (completion) token.")
    cache_read_token: float = Field(0.0, ge=0, description="Per prompt-cache read token.")
    cache_write_token: float = Field(
        0.0, ge=0, description="Per prompt-cache write token with the 5-minute TTL (the default)."
    )
    cache_write_1h_token: float = Field(
        0.0, ge=0, description="Per prompt-cache write token with the 1-hour TTL."
    )
    image_input: float = Field(0.0, ge=0, description="Per image attachment analysed.")
    image_output: float = Field(0.0, ge=0, description="Per image generated.")
    video_second: float = Field(0.0, ge=0, description="Per second of video generated.")
    minimum: float = Field(0.0, ge=0, description="Smallest charge for a successful request.")
    on_failure: Literal["charge_delivered", "charge_nothing"] = Field(
        "charge_delivered",
        description="A request that failed or was cancelled part-way: charge what was delivered "
        "(tokens used, media generated; never the minimum), or nothing.",
    )
    authorize: bool = Field(
        False,
        description="Authorize the expected cost with Poe before calling the model "
        "(for expensive image/video bots); the actual cost is captured afterwards.",
    )
    service_tiers: dict[PricedTier, TierPrices] = Field(
        default_factory=dict,
        description="Token prices on Bedrock's priority and flex tiers (see below), applied "
        "when Bedrock reports it served a request on that tier.",
    )

    def for_tier(self, tier: str | None) -> Pricing:
        """The prices of a request Bedrock served on ``tier`` (None or ``default``: these)."""
        prices = next((p for name, p in self.service_tiers.items() if name == tier), None)
        if prices is None:
            return self
        return self.model_copy(update=prices.model_dump(exclude_none=True))

    @property
    def is_priced(self) -> bool:
        return any(
            v > 0
            for v in (
                self.input_token,
                self.output_token,
                self.image_output,
                self.video_second,
                self.image_input,
                self.minimum,
            )
        )
