"""Image generation through the OpenAI SDK: real PNGs from the emulator, priced per image."""

from __future__ import annotations

import base64
import io

import openai
import pytest
from openai import AsyncOpenAI
from PIL import Image

from fmgate.server.gateway import Gateway
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.api_gateway import TEST_CALLER, ledger_row


async def test_generation_returns_b64_png_and_records_the_images(
    openai_client: AsyncOpenAI, api_gateway: Gateway, emu: AsyncEmulatorClient
) -> None:
    raw = await openai_client.images.with_raw_response.generate(
        model="titan-image", prompt="A lighthouse at dusk", n=2, size="1792x1024"
    )
    result = raw.parse()
    assert result.data is not None
    assert len(result.data) == 2
    for item in result.data:
        assert item.b64_json is not None
        image = Image.open(io.BytesIO(base64.b64decode(item.b64_json)))
        assert image.format == "PNG"
        assert image.width > image.height  # the closest configured ratio (16:9) was used
    [record] = await emu.requests(model_id="amazon.titan-image-generator-v2:0")
    assert record["body"]["textToImageParams"]["text"] == "A lighthouse at dusk"
    row = await ledger_row(api_gateway, raw.headers["x-request-id"])
    assert (row.front, row.user_id, row.outcome) == ("openai", TEST_CALLER, "ok")
    assert row.cost_milli_cents == 2 * 800


async def test_chat_model_is_not_an_image_model(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError):
        await openai_client.images.generate(model="nova-lite", prompt="A cat")


async def test_url_answers_need_a_media_store(openai_client: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await openai_client.images.generate(
            model="titan-image", prompt="A cat", response_format="url"
        )
    assert caught.value.param == "response_format"
