"""PoeCostClient against the fake Poe API: wire format, funds, failures, once per request."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from fmgate.accounting.pricing import Cost, CostItem, price
from fmgate.config.pricing import Pricing
from fmgate.core.errors import InsufficientFunds, OperatorError
from fmgate.core.events import Usage
from fmgate.fronts.poe.cost import CaptureOnce, CostApiError, PoeCostClient
from fmgate.fronts.poe.errors import poe_error_type
from tests.fakes.poe_api import CostAmount, FakePoeApi
from tests.harness.servers import free_port

ACCESS_KEY = "poe-bot-access-key-never-logged-4c2a9e"
COST = price(Pricing(input_token=0.3, output_token=1.5), usage=Usage(1000, 101))


async def test_capture_sends_the_rounded_up_total_once() -> None:
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        client = PoeCostClient(api.url)
        try:
            await client.capture("bq-1", ACCESS_KEY, COST)
        finally:
            await client.aclose()
    [call] = api.cost_calls
    assert call.kind == "capture"
    assert call.bot_query_id == "bq-1"
    assert call.key_ok
    assert COST.total == 451.5
    assert call.amounts == (CostAmount(452, "1000 input tokens, 101 output tokens"),)


async def test_authorize_then_capture() -> None:
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        client = PoeCostClient(api.url.rstrip("/"))  # a base URL without the slash works too
        try:
            await client.authorize("bq-2", ACCESS_KEY, Cost((CostItem("1 image", 4000),)))
            await client.capture("bq-2", ACCESS_KEY, Cost((CostItem("1 image", 4000),)))
        finally:
            await client.aclose()
    assert [(c.kind, c.total) for c in api.cost_calls] == [("authorize", 4000), ("capture", 4000)]


async def test_insufficient_funds_is_the_gateway_error_poe_expects() -> None:
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        api.insufficient_funds = True
        async with httpx.AsyncClient() as http:
            client = PoeCostClient(api.url, http=http)
            with pytest.raises(InsufficientFunds) as caught:
                await client.authorize("bq-3", ACCESS_KEY, COST)
    assert poe_error_type(caught.value) == "insufficient_fund"


@pytest.mark.parametrize("status", [500, 404])
async def test_error_status_is_a_cost_api_error(
    status: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        api.cost_error_status = status
        client = PoeCostClient(api.url)
        try:
            with pytest.raises(CostApiError) as caught:
                await client.capture("bq-4", ACCESS_KEY, COST)
        finally:
            await client.aclose()
    assert isinstance(caught.value, OperatorError)
    assert str(status) in str(caught.value)
    assert_key_absent(caught.value, caplog)


async def test_wrong_key_is_refused_without_echoing_any_key(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with FakePoeApi.running(access_key="the-right-key-123456") as api:
        client = PoeCostClient(api.url)
        try:
            with pytest.raises(CostApiError) as caught:
                await client.capture("bq-5", ACCESS_KEY, COST)
        finally:
            await client.aclose()
    [call] = api.cost_calls
    assert not call.key_ok
    assert_key_absent(caught.value, caplog)


async def test_unreachable_api_is_a_cost_api_error(caplog: pytest.LogCaptureFixture) -> None:
    client = PoeCostClient(f"http://127.0.0.1:{free_port()}/")
    try:
        with pytest.raises(CostApiError) as caught:
            await client.capture("bq-6", ACCESS_KEY, COST)
    finally:
        await client.aclose()
    assert caught.value.__cause__ is None  # the transport error (with the request) is not chained
    assert_key_absent(caught.value, caplog)


async def test_capture_once_sends_one_capture_however_often_called() -> None:
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        client = PoeCostClient(api.url)
        try:
            once = CaptureOnce(client, "bq-7", ACCESS_KEY)
            results = await asyncio.gather(*(once.capture(COST) for _ in range(5)))
            assert await once.capture(COST) is False
        finally:
            await client.aclose()
    assert sorted(results) == [False, False, False, False, True]
    assert once.claimed
    [call] = api.captures
    assert call.total == COST.total_rounded


async def test_capture_once_of_nothing_sends_nothing() -> None:
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        client = PoeCostClient(api.url)
        try:
            once = CaptureOnce(client, "bq-8", ACCESS_KEY)
            assert await once.capture(Cost()) is True
            assert await once.capture(COST) is False
        finally:
            await client.aclose()
    assert api.cost_calls == []


async def test_failed_capture_is_not_retried() -> None:
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        api.cost_error_status = 500
        client = PoeCostClient(api.url)
        try:
            once = CaptureOnce(client, "bq-9", ACCESS_KEY)
            with pytest.raises(CostApiError):
                await once.capture(COST)
            api.cost_error_status = None
            assert await once.capture(COST) is False
        finally:
            await client.aclose()
    assert len(api.captures) == 1


def assert_key_absent(error: BaseException, caplog: pytest.LogCaptureFixture) -> None:
    assert ACCESS_KEY not in str(error)
    assert ACCESS_KEY not in repr(error)
    assert ACCESS_KEY not in getattr(error, "detail", "")
    assert ACCESS_KEY not in getattr(error, "user_message", "")
    assert ACCESS_KEY not in caplog.text
