"""The fake Poe API speaks the real wire: exercised with fastapi_poe's own client functions."""

from __future__ import annotations

import fastapi_poe as fp
import httpx
import pytest

from tests.fakes.poe_api import CostAmount, FakePoeApi

ACCESS_KEY = "poe-access-key-for-tests-0123456789"


def query_request(bot_query_id: str = "bq-1") -> fp.QueryRequest:
    return fp.QueryRequest(
        version="1.2",
        type="query",
        query=[fp.ProtocolMessage(role="user", content="hello")],
        user_id="u-1",
        conversation_id="c-1",
        message_id="m-1",
        bot_query_id=bot_query_id,
    )


async def test_capture_cost_is_recorded_with_amounts_and_key_check() -> None:
    bot = fp.PoeBot(access_key=ACCESS_KEY)
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        await bot.capture_cost(
            query_request("bq-7"),
            fp.CostItem(amount_usd_milli_cents=1234, description="tokens"),
            base_url=api.url,
        )
    [call] = api.cost_calls
    assert call.kind == "capture"
    assert call.bot_query_id == "bq-7"
    assert call.amounts == (CostAmount(1234, "tokens"),)
    assert call.key_ok
    assert api.captures == [call]
    assert api.authorizations == []


async def test_authorize_then_insufficient_funds() -> None:
    bot = fp.PoeBot(access_key=ACCESS_KEY)
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        await bot.authorize_cost(
            query_request(), [fp.CostItem(amount_usd_milli_cents=50)], base_url=api.url
        )
        api.insufficient_funds = True
        with pytest.raises(fp.InsufficientFundError):
            await bot.capture_cost(
                query_request(), [fp.CostItem(amount_usd_milli_cents=50)], base_url=api.url
            )
    assert [call.kind for call in api.cost_calls] == ["authorize", "capture"]


async def test_wrong_access_key_is_refused_and_recorded() -> None:
    bot = fp.PoeBot(access_key="not-the-right-key")
    with FakePoeApi.running(access_key=ACCESS_KEY) as api, pytest.raises(fp.CostRequestError):
        await bot.capture_cost(
            query_request(), fp.CostItem(amount_usd_milli_cents=1), base_url=api.url
        )
    [call] = api.cost_calls
    assert not call.key_ok


async def test_upload_bytes_then_download_them_back() -> None:
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    with FakePoeApi.running(access_key=ACCESS_KEY) as api:
        attachment = await fp.upload_file(
            png, file_name="fox.png", api_key=ACCESS_KEY, base_url=api.url
        )
        async with httpx.AsyncClient() as http:
            served = await http.get(attachment.url)
    [upload] = api.uploads
    assert (upload.data, upload.filename, upload.content_type) == (png, "fox.png", "image/png")
    assert upload.key_ok
    assert attachment.content_type == "image/png"
    assert attachment.name == "fox.png"
    assert served.content == png
    assert served.headers["content-type"] == "image/png"


async def test_upload_by_download_url() -> None:
    video = b"\x00\x00\x00\x18ftypmp42" + b"\x01" * 32
    with FakePoeApi.running(access_key=ACCESS_KEY) as source:
        first = await fp.upload_file(
            video, file_name="clip.mp4", api_key=ACCESS_KEY, base_url=source.url
        )
        second = await fp.upload_file(
            file_url=first.url, file_name="copy.mp4", api_key=ACCESS_KEY, base_url=source.url
        )
    _, copied = source.uploads
    assert copied.data == video
    assert copied.download_url == first.url
    assert copied.filename == "copy.mp4"
    assert second.content_type == "video/mp4"


async def test_upload_with_wrong_key_fails_like_poe() -> None:
    with (
        FakePoeApi.running(access_key=ACCESS_KEY) as api,
        pytest.raises(fp.client.AttachmentUploadError),
    ):
        await fp.upload_file(
            b"x", file_name="a.txt", api_key="wrong", base_url=api.url, num_tries=1
        )
    [upload] = api.uploads
    assert not upload.key_ok
