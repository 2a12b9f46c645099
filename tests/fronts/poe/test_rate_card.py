"""The rate card is generated from prices, and its numbers are those prices in Poe's units."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from fmgate.config.bot_config import BotKind
from fmgate.config.loader import load_catalog
from fmgate.config.pricing import Pricing
from fmgate.fronts.poe.rate_card import rate_card

ROW = re.compile(
    r"^\| (?P<label>[^|]+?) \| \[usd_milli_cents=(?P<amount>\d+)\] per (?P<unit>.+) \|$"
)
UNIT_SIZE = {"1k tokens": 1_000, "1M tokens": 1_000_000, "image": 1, "second": 1, "message": 1}
FIELD_OF_LABEL = {
    "Input (text)": "input_token",
    "Output (text)": "output_token",
    "Cached input (read)": "cache_read_token",
    "Cached input (write)": "cache_write_token",
    "Cached input (write, 1 hour)": "cache_write_1h_token",
    "Input (image)": "image_input",
    "Output (image)": "image_output",
    "Output (video)": "video_second",
    "Minimum": "minimum",
}

PRICED: dict[str, tuple[Pricing, BotKind]] = {
    "sonnet": (
        Pricing(input_token=0.3, output_token=1.5, cache_read_token=0.03, cache_write_token=0.375),
        "chat",
    ),
    "sonnet-1h": (
        Pricing(
            input_token=0.33,
            output_token=1.65,
            cache_read_token=0.033,
            cache_write_token=0.4125,
            cache_write_1h_token=0.66,
        ),
        "chat",
    ),
    "nova-micro": (Pricing(input_token=0.0035, output_token=0.014), "chat"),
    "vision": (Pricing(input_token=0.08, output_token=0.32, image_input=120), "chat"),
    "with-minimum": (Pricing(input_token=1, output_token=2, minimum=250), "chat"),
    "titan-image": (Pricing(image_output=1000), "image"),
    "nova-reel": (Pricing(video_second=8000), "video"),
}


def card_prices(card: str) -> dict[str, Decimal]:
    """Per-unit prices read back from the card: {pricing field: milli-cents per 1 token/item}."""
    lines = card.splitlines()
    assert lines[:2] == ["| Type | Cost |", "| --- | --- |"]
    found: dict[str, Decimal] = {}
    for line in lines[2:]:
        match = ROW.match(line)
        assert match is not None, line
        field = FIELD_OF_LABEL[match["label"]]
        found[field] = Decimal(match["amount"]) / UNIT_SIZE[match["unit"]]
    return found


def priced_fields(pricing: Pricing) -> dict[str, Decimal]:
    return {
        field: Decimal(repr(value))
        for field, value in pricing.model_dump().items()
        if field in FIELD_OF_LABEL.values() and value > 0
    }


def assert_card_matches(pricing: Pricing, kind: BotKind) -> None:
    card, label = rate_card(pricing, kind)
    assert card is not None
    assert label is not None
    assert card_prices(card) == priced_fields(pricing)
    assert re.fullmatch(r"(From )?\[usd_milli_cents=\d+\] per [A-Za-z0-9 ]+", label)


@pytest.mark.parametrize("name", sorted(PRICED))
def test_card_numbers_equal_the_prices(name: str) -> None:
    assert_card_matches(*PRICED[name])


def test_every_priced_bot_in_the_bundled_catalog_has_a_matching_card() -> None:
    catalog = load_catalog()
    priced = [bot for bot in catalog.bots if bot.pricing.is_priced]
    assert priced
    for bot in priced:
        assert_card_matches(bot.pricing, bot.kind)


def test_token_rows_share_one_unit_per_card() -> None:
    card, label = rate_card(*PRICED["sonnet"])
    assert card == (
        "| Type | Cost |\n"
        "| --- | --- |\n"
        "| Input (text) | [usd_milli_cents=300] per 1k tokens |\n"
        "| Output (text) | [usd_milli_cents=1500] per 1k tokens |\n"
        "| Cached input (read) | [usd_milli_cents=30] per 1k tokens |\n"
        "| Cached input (write) | [usd_milli_cents=375] per 1k tokens |"
    )
    assert label == "[usd_milli_cents=300] per 1k tokens"
    micro, _ = rate_card(*PRICED["nova-micro"])
    assert micro is not None
    assert "| Input (text) | [usd_milli_cents=3500] per 1M tokens |" in micro
    assert "| Output (text) | [usd_milli_cents=14000] per 1M tokens |" in micro


def test_labels_follow_the_kind() -> None:
    assert rate_card(*PRICED["titan-image"])[1] == "[usd_milli_cents=1000] per image"
    assert rate_card(*PRICED["nova-reel"])[1] == "[usd_milli_cents=8000] per second of video"
    assert rate_card(*PRICED["with-minimum"])[1] == "From [usd_milli_cents=250] per message"


def test_unpriced_bot_has_no_card() -> None:
    assert rate_card(Pricing(), "chat") == (None, None)


def test_price_fractional_even_per_million_is_rounded_up() -> None:
    card, _ = rate_card(Pricing(input_token=0.0000015), "chat")
    assert card is not None
    assert "[usd_milli_cents=2] per 1M tokens" in card
