"""Images and documents on /v1/messages through the Anthropic SDK: base64 sources inline, URL
sources through the attachment policy (allowed hosts, public addresses only, size caps), as Poe
attachments; a file that cannot be used is a 400 that says why (callers see no notices)."""

from __future__ import annotations

import base64
from typing import Any, cast

import anthropic
import pytest
from anthropic import AsyncAnthropic
from anthropic.types import MessageParam

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate_emulator import AsyncEmulatorClient
from tests.fakes.poe_api import FakePoeApi
from tests.harness.attachment_files import PDF_BYTES, PNG, FileServer
from tests.harness.poe_client import TEST_POE_KEY
from tests.harness.poe_gateway import CATALOG, pointed_at


@pytest.fixture
def catalog(
    monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi, file_server: FileServer
) -> Catalog:
    """The gateway tests' catalog, the file server allowed by host:port (so its loopback address
    is trusted) and ``localhost`` by name only (so its loopback address is not)."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    base = pointed_at(parse_catalog(CATALOG, "test-catalog.yaml"), poe_api)
    hosts = (file_server.host_port, "localhost")
    poe = base.gateway.poe.model_copy(update={"attachment_hosts": hosts})
    return base.model_copy(update={"gateway": base.gateway.model_copy(update={"poe": poe})})


def looking_at(*files: dict[str, Any]) -> list[MessageParam]:
    content = [*files, {"type": "text", "text": "What is this?"}]
    return cast(list[MessageParam], [{"role": "user", "content": content}])


def image_url(url: str) -> dict[str, Any]:
    return {"type": "image", "source": {"type": "url", "url": url}}


async def converse_content(emu: AsyncEmulatorClient) -> list[dict[str, Any]]:
    [record] = await emu.requests()
    content: list[dict[str, Any]] = record["body"]["messages"][-1]["content"]
    return content


async def test_an_image_and_a_document_by_url_are_fetched_through_the_policy(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, file_server: FileServer
) -> None:
    document = {
        "type": "document",
        "source": {"type": "url", "url": file_server.url("files/report.pdf")},
    }
    message = await anthropic_client.messages.create(
        model="nova-lite",
        max_tokens=256,
        messages=looking_at(image_url(file_server.url("files/photo.png")), document),
    )
    assert message.stop_reason == "end_turn"
    assert file_server.requests == ["/files/photo.png", "/files/report.pdf"]
    content = await converse_content(emu)
    [image] = [b["image"] for b in content if "image" in b]
    assert (image["format"], base64.b64decode(image["source"]["bytes"])) == ("png", PNG)
    [pdf] = [b["document"] for b in content if "document" in b]
    assert (pdf["format"], base64.b64decode(pdf["source"]["bytes"])) == ("pdf", PDF_BYTES)


async def test_base64_sources_keep_working(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient
) -> None:
    inline = {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png",
            "data": base64.b64encode(PNG).decode(),
        },
    }
    await anthropic_client.messages.create(
        model="nova-lite", max_tokens=256, messages=looking_at(inline)
    )
    [image] = [b["image"] for b in await converse_content(emu) if "image" in b]
    assert base64.b64decode(image["source"]["bytes"]) == PNG


@pytest.mark.parametrize(
    ("where", "reason"),
    [
        # Allowed by name, but it resolves to a loopback address: never dialled.
        (
            "http://localhost:{port}/files/photo.png",
            "its server is on a private or internal network address",
        ),
        (
            "http://169.254.169.254/latest/meta-data/photo.png",
            "it is not hosted on an allowed attachment server",
        ),
        ("http://files.example.com/photo.png", "it is not hosted on an allowed attachment server"),
    ],
)
async def test_a_url_the_policy_refuses_is_a_400_that_says_why(
    anthropic_client: AsyncAnthropic,
    emu: AsyncEmulatorClient,
    file_server: FileServer,
    where: str,
    reason: str,
) -> None:
    url = where.format(port=file_server.port)
    with pytest.raises(anthropic.BadRequestError) as refused:
        await anthropic_client.messages.create(
            model="nova-lite", max_tokens=256, messages=looking_at(image_url(url))
        )
    assert refused.value.body == {
        "type": "error",
        "error": {
            "type": "invalid_request_error",
            "message": f'"photo.png" could not be downloaded: {reason}.',
        },
    }
    assert file_server.requests == []
    assert await emu.requests() == []


async def test_an_image_the_model_cannot_see_is_a_400_too(
    anthropic_client: AsyncAnthropic, emu: AsyncEmulatorClient, file_server: FileServer
) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        await anthropic_client.messages.create(
            model="mistral-7b",
            max_tokens=256,
            messages=looking_at(image_url(file_server.url("files/photo.png"))),
        )
    assert "cannot see images" in str(refused.value.message)
    assert await emu.requests() == []
