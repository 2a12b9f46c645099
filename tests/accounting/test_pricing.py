"""price(): exact items, minimum only on success, failure policy, one round-up of the total."""

from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from fmgate.accounting.pricing import Cost, CostItem, price
from fmgate.config.pricing import Pricing
from fmgate.core.events import Usage

SONNET = Pricing(input_token=0.3, output_token=1.5, cache_read_token=0.03, cache_write_token=0.375)

prices = st.floats(min_value=0, max_value=1000, allow_nan=False, allow_infinity=False)
token_counts = st.integers(min_value=0, max_value=2_000_000)
usages = st.builds(
    Usage,
    input_tokens=token_counts,
    output_tokens=token_counts,
    cache_read_tokens=token_counts,
    cache_write_tokens=token_counts,
)
pricings = st.builds(
    Pricing,
    input_token=prices,
    output_token=prices,
    cache_read_token=prices,
    cache_write_token=prices,
    image_input=prices,
    image_output=prices,
    video_second=prices,
)


def test_tokens_are_priced_exactly_per_kind() -> None:
    usage = Usage(input_tokens=1000, output_tokens=200, cache_read_tokens=100, cache_write_tokens=8)
    cost = price(SONNET, usage=usage)
    assert cost.items == (
        CostItem("1000 input tokens", 300.0),
        CostItem("200 output tokens", 300.0),
        CostItem("100 cache read tokens", 3.0),
        CostItem("8 cache write tokens", 3.0),
    )
    assert cost.total == 606.0
    assert cost.total_rounded == 606  # no float noise: 0.3 * 1000 is 300, not 300.00000000000006


SONNET_45 = Pricing(
    input_token=0.33,
    output_token=1.65,
    cache_read_token=0.033,
    cache_write_token=0.4125,
    cache_write_1h_token=0.66,
)


def test_cache_reads_and_writes_are_priced_at_their_own_rates_per_ttl() -> None:
    usage = Usage(
        input_tokens=2,
        output_tokens=40,
        cache_read_tokens=10_000,
        cache_write_tokens=1_500,
        cache_write_1h_tokens=1_200,
    )
    cost = price(SONNET_45, usage=usage)
    assert cost.items == (
        CostItem("2 input tokens", 0.66),
        CostItem("40 output tokens", 66.0),
        CostItem("10000 cache read tokens", 330.0),
        CostItem("300 cache write tokens", 123.75),
        CostItem("1200 cache write tokens (1 hour)", 792.0),
    )
    assert cost.total == 1312.41
    assert cost.total_rounded == 1313


def test_without_a_one_hour_price_one_hour_writes_are_not_charged_as_five_minute_ones() -> None:
    usage = Usage(cache_write_tokens=1_000, cache_write_1h_tokens=1_000)
    assert price(SONNET, usage=usage).items == ()


def test_the_cache_saving_is_the_prompt_at_the_input_price_minus_its_cache_prices() -> None:
    reads = price(SONNET, usage=Usage(input_tokens=2, cache_read_tokens=10_000))
    assert reads.cache_saving == 2700.0  # 10,000 x (0.3 - 0.03), exactly
    both = Usage(input_tokens=2, output_tokens=40, cache_read_tokens=10_000, cache_write_tokens=8)
    assert price(SONNET, usage=both).cache_saving == 2699.4  # the writes cost 8 x 0.075 more
    hour = Usage(
        input_tokens=2,
        cache_read_tokens=10_000,
        cache_write_tokens=1_500,
        cache_write_1h_tokens=1_200,
    )
    # 10,000 x 0.297 - 300 x 0.0825 - 1,200 x 0.33
    assert price(SONNET_45, usage=hour).cache_saving == 2970 - 24.75 - 396


def test_writes_that_are_not_read_back_save_a_negative_amount() -> None:
    cost = price(SONNET, usage=Usage(input_tokens=2, output_tokens=9, cache_write_tokens=1_322))
    assert cost.cache_saving == -99.15  # 1,322 x (0.3 - 0.375)
    assert price(SONNET, usage=Usage(input_tokens=1000, output_tokens=9)).cache_saving == 0


def test_writes_without_a_write_price_save_the_input_price() -> None:
    nova = Pricing(input_token=0.08, output_token=0.32, cache_read_token=0.02)
    cost = price(nova, usage=Usage(input_tokens=5, cache_read_tokens=100, cache_write_tokens=50))
    assert cost.cache_saving == 100 * 0.06 + 50 * 0.08  # writes are not charged on this bot


def test_a_request_charged_nothing_saved_nothing() -> None:
    pricing = SONNET.model_copy(update={"on_failure": "charge_nothing"})
    usage = Usage(input_tokens=2, cache_read_tokens=10_000)
    assert price(pricing, usage=usage, succeeded=False).cache_saving == 0
    assert price(SONNET, usage=usage, succeeded=False).cache_saving == 2700.0


@given(pricing=pricings, usage=usages)
def test_cost_plus_saving_is_the_cost_without_the_cache(pricing: Pricing, usage: Usage) -> None:
    uncached = Usage(
        input_tokens=usage.input_tokens + usage.cache_read_tokens + usage.cache_write_tokens,
        output_tokens=usage.output_tokens,
    )
    cost = price(pricing, usage=usage)
    assert math.isclose(
        cost.total + cost.cache_saving,
        price(pricing, usage=uncached).total,
        rel_tol=1e-9,
        abs_tol=1e-6,
    )


def test_images_and_video_are_priced_per_unit() -> None:
    pricing = Pricing(image_input=50, image_output=4000, video_second=8000)
    cost = price(pricing, usage=None, images_in=2, images_out=3, video_seconds=6)
    assert [item.milli_cents for item in cost.items] == [100, 12000, 48000]
    assert cost.total_rounded == 60100


def test_fractional_total_is_rounded_up_once() -> None:
    pricing = Pricing(input_token=0.0035, output_token=0.014)  # Nova Micro
    cost = price(pricing, usage=Usage(input_tokens=100, output_tokens=10))
    assert math.isclose(cost.total, 0.49)
    assert cost.total_rounded == 1


def test_minimum_tops_up_a_successful_request_only() -> None:
    pricing = Pricing(input_token=0.3, minimum=500)
    usage = Usage(input_tokens=1000)
    ok = price(pricing, usage=usage)
    assert ok.items[-1] == CostItem("minimum charge", 200.0)
    assert ok.total_rounded == 500
    failed = price(pricing, usage=usage, succeeded=False)
    assert failed.total_rounded == 300  # what was used, never the minimum
    assert price(pricing, usage=Usage(input_tokens=10_000)).total_rounded == 3000  # above it


def test_failure_policy_charge_nothing() -> None:
    pricing = Pricing(input_token=0.3, output_token=1.5, on_failure="charge_nothing")
    usage = Usage(input_tokens=1000, output_tokens=40)
    assert price(pricing, usage=usage, succeeded=False) == Cost()
    assert price(pricing, usage=usage).total_rounded == 360


def test_unpriced_bot_costs_nothing() -> None:
    cost = price(Pricing(), usage=Usage(input_tokens=5, output_tokens=5), images_out=1)
    assert cost == Cost()
    assert (cost.total, cost.total_rounded, cost.description) == (0.0, 0, "no charge")


@given(pricing=pricings, usage=usages, images=st.integers(0, 10), seconds=st.integers(0, 120))
def test_cost_is_non_negative_and_rounds_up_by_less_than_one(
    pricing: Pricing, usage: Usage, images: int, seconds: int
) -> None:
    cost = price(pricing, usage=usage, images_out=images, video_seconds=seconds)
    assert all(item.milli_cents >= 0 for item in cost.items)
    assert cost.total >= 0
    assert isinstance(cost.total_rounded, int)
    assert cost.total_rounded >= cost.total - 1e-6 * max(1.0, cost.total)
    assert cost.total_rounded - cost.total < 1


@given(pricing=pricings, first=usages, second=usages)
def test_pricing_is_additive_over_usage(pricing: Pricing, first: Usage, second: Usage) -> None:
    both = Usage(
        input_tokens=first.input_tokens + second.input_tokens,
        output_tokens=first.output_tokens + second.output_tokens,
        cache_read_tokens=first.cache_read_tokens + second.cache_read_tokens,
        cache_write_tokens=first.cache_write_tokens + second.cache_write_tokens,
    )
    together = price(pricing, usage=both).total
    apart = price(pricing, usage=first).total + price(pricing, usage=second).total
    assert math.isclose(together, apart, rel_tol=1e-9, abs_tol=1e-6)


@given(pricing=pricings, usage=usages, minimum=prices)
def test_success_never_costs_less_than_the_minimum_or_the_failure(
    pricing: Pricing, usage: Usage, minimum: float
) -> None:
    with_minimum = pricing.model_copy(update={"minimum": minimum})
    ok = price(with_minimum, usage=usage)
    failed = price(with_minimum, usage=usage, succeeded=False)
    assert ok.total >= minimum - 1e-9
    assert ok.total_rounded >= failed.total_rounded
