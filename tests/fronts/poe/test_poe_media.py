"""Image, video and reasoning bots end to end through the Poe protocol."""

from __future__ import annotations

import asyncio
import io

import fastapi_poe as fp
import httpx
from PIL import Image

from fmgate.config.bot_config import VideoBotConfig
from fmgate.config.catalog import Catalog
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.poe_client import ask, query
from tests.harness.poe_gateway import GatewaySession
from tests.harness.polling import eventually


async def test_image_bot_returns_png_of_the_asked_aspect_ratio(
    catalog: Catalog,
    gateway_session: GatewaySession,
    poe_api: FakePoeApi,
    emu: AsyncEmulatorClient,
) -> None:
    message = fp.ProtocolMessage(
        role="user", content="a red fox in snow", parameters={"aspect_ratio": "16:9", "seed": 7}
    )
    async with gateway_session(catalog) as session:
        reply = await ask(session, "titan-image", query(message))
    assert reply.error is None
    [attachment] = reply.files
    [upload] = poe_api.uploads
    image = Image.open(io.BytesIO(upload.data))
    assert image.format == "PNG"
    assert abs(image.width / image.height - 16 / 9) < 0.1
    assert f"![{attachment.name}][" in reply.text  # shown inline
    [record] = await emu.requests(model_id="amazon.titan-image-generator-v2:0")
    body = record["body"]
    assert body["taskType"] == "TEXT_IMAGE"
    assert body["textToImageParams"]["text"] == "a red fox in snow"
    assert body["imageGenerationConfig"]["seed"] == 7


async def test_stability_bot_sends_aspect_ratio(
    catalog: Catalog,
    gateway_session: GatewaySession,
    poe_api: FakePoeApi,
    emu: AsyncEmulatorClient,
) -> None:
    message = fp.ProtocolMessage(
        role="user", content="a lighthouse", parameters={"aspect_ratio": "9:16"}
    )
    async with gateway_session(catalog) as session:
        reply = await ask(session, "sd35", query(message))
    assert reply.error is None
    [upload] = poe_api.uploads
    image = Image.open(io.BytesIO(upload.data))
    assert image.height > image.width
    [record] = await emu.requests(model_id="stability.sd3-5-large-v1:0")
    assert record["body"]["aspect_ratio"] == "9:16"


async def test_video_bot_streams_progress_then_attaches_mp4(
    catalog: Catalog, gateway_session: GatewaySession, poe_api: FakePoeApi
) -> None:
    async with gateway_session(catalog) as session:
        reply = await ask(session, "nova-reel", "waves on a beach at sunset")
    assert reply.error is None
    progress = [p for p in reply.partials if p.is_replace_response]
    assert progress
    assert "Generating your video" in progress[0].text
    [attachment] = reply.files
    [upload] = poe_api.uploads
    assert upload.data[4:8] == b"ftyp"  # an MP4
    assert attachment.name == "video.mp4"


async def test_reasoning_bot_shows_thinking_then_answer(
    poe: httpx.AsyncClient, emu: AsyncEmulatorClient
) -> None:
    reply = await ask(poe, "claude-thinking", "Why is the sky blue?")
    assert reply.error is None
    assert reply.text.startswith("> **Thinking…**")
    _thinking, _, answer = reply.text.partition("\n\n")
    assert answer
    assert not answer.startswith(">")
    [record] = await emu.requests(model_id="us.anthropic.claude-3-7-sonnet-20250219-v1:0")
    body = record["body"]
    thinking_field = body["additionalModelRequestFields"]["thinking"]
    assert thinking_field == {"type": "enabled", "budget_tokens": 2048}
    assert "topP" not in body["inferenceConfig"]
    assert body["inferenceConfig"]["maxTokens"] > 2048


async def test_built_in_reasoning_model_shows_thinking(poe: httpx.AsyncClient) -> None:
    reply = await ask(poe, "deepseek-r1", "Is 17 prime?")
    assert reply.error is None
    assert reply.text.startswith("> **Thinking…**")


async def test_image_cost_is_authorized_before_and_captured_after(
    catalog: Catalog, gateway_session: GatewaySession, poe_api: FakePoeApi
) -> None:
    async with gateway_session(catalog) as session:
        reply = await ask(session, "titan-image", "a small boat")
    assert reply.error is None
    [authorization] = poe_api.authorizations
    assert authorization.total == 800  # one image at the catalog's price
    # The capture runs after the stream, in the background.
    await eventually(lambda: bool(poe_api.captures), "the cost is captured")
    [capture] = poe_api.captures
    assert capture.total == 800


async def test_insufficient_funds_stops_before_the_model_is_called(
    catalog: Catalog,
    gateway_session: GatewaySession,
    poe_api: FakePoeApi,
    emu: AsyncEmulatorClient,
) -> None:
    poe_api.insufficient_funds = True
    async with gateway_session(catalog) as session:
        reply = await ask(session, "titan-image", "a small boat")
    assert reply.error is not None
    assert reply.error["error_type"] == "insufficient_fund"
    assert await emu.requests(model_id="amazon.titan-image-generator-v2:0") == []
    assert poe_api.captures == []


def with_bot(catalog: Catalog, name: str, **update: object) -> Catalog:
    """``catalog`` with one bot's settings changed."""
    bots = tuple(
        bot.model_copy(update=update) if bot.bot_name == name else bot for bot in catalog.bots
    )
    return catalog.model_copy(update={"bots": bots})


async def test_image_bot_that_outlives_its_deadline_ends_with_a_clear_error(
    catalog: Catalog,
    gateway_session: GatewaySession,
    poe_api: FakePoeApi,
    emu: AsyncEmulatorClient,
) -> None:
    timeouts = catalog.gateway.timeouts.model_copy(update={"image_request_seconds": 0.3})
    gateway = catalog.gateway.model_copy(update={"timeouts": timeouts})
    await emu.inject(
        "slow_first_token",
        model_id="amazon.titan-image-generator-v2:0",
        operation="InvokeModel",
        count=-1,
        delay_seconds=5.0,
    )
    async with gateway_session(catalog.model_copy(update={"gateway": gateway})) as session:
        reply = await asyncio.wait_for(ask(session, "titan-image", "a red fox"), 4.0)
    assert reply.error is not None
    assert "too long" in str(reply.error["text"])
    assert reply.error["allow_retry"] is True
    assert poe_api.uploads == []


async def test_video_not_ready_by_its_deadline_tells_the_user(
    catalog: Catalog, gateway_session: GatewaySession, poe_api: FakePoeApi
) -> None:
    reel = next(bot for bot in catalog.bots if bot.bot_name == "nova-reel")
    assert isinstance(reel, VideoBotConfig)
    video = reel.video.model_copy(update={"timeout_seconds": 0.05, "poll_interval_seconds": 0.01})
    async with gateway_session(with_bot(catalog, "nova-reel", video=video)) as session:
        reply = await ask(session, "nova-reel", "waves on a beach")
    assert reply.error is not None
    assert "not ready after 0.05 seconds" in str(reply.error["text"])
    assert reply.files == []
    assert poe_api.uploads == []
