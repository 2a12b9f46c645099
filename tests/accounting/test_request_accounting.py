"""The accounting parts together, as the gateway runs them after each request.

RequestTracker (what the front saw) -> RequestFinisher -> price -> SqliteLedger row, one capture
at the fake Poe cost API, metrics. Covers a finished stream, a stream that failed half-way, a
caller that went away, and a failed request that delivered nothing.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from fmgate.accounting.finisher import RequestFinisher
from fmgate.accounting.sqlite_ledger import SqliteLedger
from fmgate.accounting.tracker import RequestTracker
from fmgate.config.bot_config import ChatBotConfig
from fmgate.config.pricing import Pricing
from fmgate.core.errors import ModelStreamFailed, Throttled
from fmgate.core.events import Done, TextDelta, Usage
from fmgate.fronts.poe.charges import cost_capture
from fmgate.fronts.poe.cost import PoeCostClient
from fmgate.observability.metrics import GatewayMetrics
from tests.fakes.poe_api import FakePoeApi
from tests.harness.scrape import value

ACCESS_KEY = "poe-bot-access-key-accounting-77aa"
BOT = ChatBotConfig(
    bot_name="claude",
    model_id="us.anthropic.claude-sonnet-4-20250514-v1:0",
    pricing=Pricing(input_token=0.3, output_token=1.5, minimum=10),
)


@dataclass
class Accounting:
    finisher: RequestFinisher
    ledger: SqliteLedger
    metrics: GatewayMetrics
    api: FakePoeApi
    cost: PoeCostClient


@pytest.fixture
async def accounting(tmp_path: Path) -> AsyncIterator[Accounting]:
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        ledger = SqliteLedger(tmp_path / "usage.db")
        cost = PoeCostClient(api.url)
        metrics = GatewayMetrics()
        finisher = RequestFinisher(metrics=metrics, ledger=ledger)
        try:
            yield Accounting(finisher, ledger, metrics, api, cost)
        finally:
            await finisher.drain()
            await cost.aclose()
            await ledger.aclose()


CACHED_BOT = ChatBotConfig(
    bot_name="claude-cached",
    model_id="us.anthropic.claude-3-7-sonnet-20250219-v1:0",
    pricing=Pricing(
        input_token=0.3, output_token=1.5, cache_read_token=0.03, cache_write_token=0.375
    ),
)


def tracker(request_id: str, bot: ChatBotConfig = BOT) -> RequestTracker:
    return RequestTracker(request_id=request_id, bot=bot, front="poe", user_id="u-1")


async def finish(accounting: Accounting, request: RequestTracker) -> None:
    """Finish as the Poe front does: with its cost capture bound to the serving bot."""
    capture = cost_capture(accounting.cost, ACCESS_KEY, f"bq-{request.request_id}")
    assert capture is not None
    accounting.finisher.finish(request, (capture,))
    await accounting.finisher.drain()


async def test_finished_stream_is_recorded_and_captured_at_config_prices(
    accounting: Accounting,
) -> None:
    request = tracker("r-ok")
    for event in (TextDelta("Hello"), Usage(input_tokens=1000, output_tokens=200), Done()):
        request.observe(event)
    request.succeeded()
    await finish(accounting, request)

    row = await accounting.ledger.get("r-ok")
    assert row is not None
    assert (row.input_tokens, row.output_tokens, row.estimated) == (1000, 200, False)
    assert row.cost_milli_cents == 1000 * 0.3 + 200 * 1.5 == 600
    assert row.outcome == "ok"
    assert row.ttft_ms is not None
    [capture] = accounting.api.captures
    assert (capture.bot_query_id, capture.total, capture.key_ok) == ("bq-r-ok", 600, True)
    assert value(accounting.metrics, "fmgate_cost_milli_cents_total", bot="claude") == 600


async def test_stream_failed_half_way_pays_for_what_was_delivered_once(
    accounting: Accounting,
) -> None:
    request = tracker("r-broken")
    request.observe(TextDelta("x" * 400))  # no usage: the stream broke before metadata
    request.failed(ModelStreamFailed("modelStreamErrorException"))
    await finish(accounting, request)

    row = await accounting.ledger.get("r-broken")
    assert row is not None
    assert row.estimated
    assert row.outcome == "stream_failed"
    assert row.cost_milli_cents == row.output_tokens * 1.5  # no minimum for a failure
    [capture] = accounting.api.captures
    assert capture.total == row.cost_milli_cents


async def test_caller_going_away_is_captured_once(accounting: Accounting) -> None:
    request = tracker("r-gone")
    request.observe(TextDelta("partial answer"))
    request.observe(Usage(input_tokens=50, output_tokens=4))
    request.cancelled()
    request.cancelled()  # the disconnect handler and the stream's end both report it
    await finish(accounting, request)

    row = await accounting.ledger.get("r-gone")
    assert row is not None
    assert row.outcome == "cancelled"
    [capture] = accounting.api.captures
    assert capture.total == row.cost_milli_cents == 21  # ceil(50 * 0.3 + 4 * 1.5)


async def test_failure_before_any_output_charges_nothing(accounting: Accounting) -> None:
    request = tracker("r-throttled")
    request.failed(Throttled("ThrottlingException"))
    await finish(accounting, request)

    row = await accounting.ledger.get("r-throttled")
    assert row is not None
    assert (row.cost_milli_cents, row.outcome, row.ttft_ms) == (0, "throttled", None)
    assert accounting.api.cost_calls == []
    assert value(accounting.metrics, "fmgate_errors_total", bot="claude", code="throttled") == 1


async def test_the_cache_saving_is_recorded_at_the_prices_the_request_was_billed_with(
    accounting: Accounting,
) -> None:
    usage = Usage(input_tokens=2, output_tokens=10, cache_read_tokens=1000, cache_write_tokens=40)
    repriced = CACHED_BOT.model_copy(
        update={"pricing": CACHED_BOT.pricing.model_copy(update={"input_token": 0.6})}
    )
    for request_id, bot in (("r-before", CACHED_BOT), ("r-after", repriced)):
        request = tracker(request_id, bot)
        for event in (TextDelta("Hello"), usage, Done()):
            request.observe(event)
        request.succeeded()
        await finish(accounting, request)

    before, after = await accounting.ledger.get("r-before"), await accounting.ledger.get("r-after")
    assert before is not None
    assert after is not None
    # 1,000 reads at 0.3 - 0.03, 40 writes at 0.3 - 0.375; then at an input price of 0.6.
    assert before.cache_saving_milli_cents == 1000 * 0.27 - 40 * 0.075 == 267
    assert after.cache_saving_milli_cents == 1000 * 0.57 + 40 * 0.225 == 579
    [totals] = await accounting.ledger.totals_by_bot_day()
    assert (totals.cache_read_tokens, totals.cache_write_tokens) == (2000, 80)
    assert totals.cache_saving_milli_cents == 267 + 579
    # The finisher counts the same cache tokens per bot in the metrics.
    for direction, tokens in (("input", 4), ("cache_read", 2000), ("cache_write", 80)):
        labels = {"bot": "claude-cached", "direction": direction}
        assert value(accounting.metrics, "fmgate_tokens_total", **labels) == tokens
