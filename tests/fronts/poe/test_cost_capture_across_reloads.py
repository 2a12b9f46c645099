"""Poe cost capture holds on to the bot that served the request, whatever reloads do meanwhile.

A long request (a video) keeps running on the bot it started on when a reload removes that bot;
its cost must still be captured with that bot's access key when it ends, even after a second
reload, when no registry the gateway keeps knows the bot any more.
"""

from __future__ import annotations

import asyncio

import httpx

from fmgate.config.catalog import Catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.emulator import VIDEO_BUCKET, aws_for, running_emulator
from tests.harness.poe_client import ask

REEL_MODEL = "amazon.nova-reel-v1:1"
#: Long enough for two reloads to happen while the video is generated.
VIDEO_SECONDS = 2.0


def without_bot(catalog: Catalog, name: str) -> Catalog:
    bots = tuple(bot for bot in catalog.bots if bot.bot_name != name)
    return catalog.model_copy(update={"bots": bots})


async def started(emu: AsyncEmulatorClient, model_id: str, within: float = 10.0) -> None:
    async with asyncio.timeout(within):
        for _ in range(int(within / 0.01)):  # a bounded poll of the emulator's record
            if await emu.requests(model_id=model_id):
                return
            await asyncio.sleep(0.01)


async def test_video_removed_by_two_reloads_mid_request_is_still_charged(
    catalog: Catalog, moto_url: str, poe_api: FakePoeApi
) -> None:
    with running_emulator(moto_url, VIDEO_BUCKET, video_delay_seconds=VIDEO_SECONDS) as slow:
        options = GatewayOptions(aws=aws_for(slow, moto_url), ledger_path=None)
        async with Gateway.open(catalog, options) as gateway:
            transport = httpx.ASGITransport(app=build_app(gateway))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as poe:
                video = asyncio.create_task(ask(poe, "nova-reel", "waves on a beach"))
                await started(AsyncEmulatorClient(slow.url), REEL_MODEL)
                await gateway.swap_catalog(without_bot(catalog, "nova-reel"))
                await gateway.swap_catalog(without_bot(catalog, "nova-reel"))  # a second reload
                reply = await video
            await gateway.finisher.drain()

    assert reply.error is None
    assert reply.files, "the video was delivered"
    [capture] = poe_api.captures
    assert capture.key_ok, "captured with the access key of the bot that served the request"
    assert capture.bot_query_id == "bq-test"
    assert capture.total == 6 * 8000  # the catalog's 6-second video at 8,000 milli-cents/s
