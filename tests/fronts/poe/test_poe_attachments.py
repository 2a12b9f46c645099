"""Attachments through the whole path: Poe message -> download -> Converse blocks."""

from __future__ import annotations

import base64

import fastapi_poe as fp
import pytest

from fmgate.config.catalog import Catalog
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.attachment_files import NOTES_TXT, PNG, FileServer
from tests.harness.poe_client import ask, query
from tests.harness.poe_gateway import GatewaySession


def allowing(catalog: Catalog, server: FileServer) -> Catalog:
    poe = catalog.gateway.poe.model_copy(update={"attachment_hosts": (server.host_port,)})
    return catalog.model_copy(update={"gateway": catalog.gateway.model_copy(update={"poe": poe})})


def attachment(server: FileServer, name: str, content_type: str) -> fp.Attachment:
    return fp.Attachment(url=server.url(f"files/{name}"), content_type=content_type, name=name)


async def test_text_and_image_attachments_reach_the_model(
    catalog: Catalog,
    gateway_session: GatewaySession,
    file_server: FileServer,
    emu: AsyncEmulatorClient,
) -> None:
    message = fp.ProtocolMessage(
        role="user",
        content="What is in these files?",
        attachments=[
            attachment(file_server, "notes.txt", "text/plain"),
            attachment(file_server, "photo.png", "image/png"),
        ],
    )
    async with gateway_session(allowing(catalog, file_server)) as session:
        reply = await ask(session, "nova-lite", query(message))
    assert reply.error is None
    [record] = await emu.requests(model_id="amazon.nova-lite-v1:0")
    [user] = record["body"]["messages"]
    texts = "".join(block.get("text", "") for block in user["content"])
    assert "What is in these files?" in texts
    assert '<attachment name="notes.txt">' in texts
    assert NOTES_TXT.strip() in texts
    [image] = [block["image"] for block in user["content"] if "image" in block]
    assert image["format"] == "png"
    assert base64.b64decode(image["source"]["bytes"]) == PNG


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("old.bmp", "image/bmp", "bmp"),  # unsupported image type
        ("wide.png", "image/png", "wide.png"),  # too large in pixels
    ],
)
async def test_unusable_attachments_are_reported_not_dropped(
    catalog: Catalog,
    gateway_session: GatewaySession,
    file_server: FileServer,
    name: str,
    content_type: str,
    expected: str,
) -> None:
    message = fp.ProtocolMessage(
        role="user", content="Look", attachments=[attachment(file_server, name, content_type)]
    )
    async with gateway_session(allowing(catalog, file_server)) as session:
        reply = await ask(session, "nova-lite", query(message))
    assert reply.error is None
    first = next(p.text for p in reply.partials if p.text)
    assert first.startswith("_")
    assert expected in first.lower()


async def test_attachment_from_a_disallowed_host_is_refused(
    catalog: Catalog, gateway_session: GatewaySession, file_server: FileServer
) -> None:
    message = fp.ProtocolMessage(
        role="user",
        content="Read this",
        attachments=[
            fp.Attachment(
                url="http://169.254.169.254/latest/meta-data/",
                content_type="text/plain",
                name="x.txt",
            )
        ],
    )
    async with gateway_session(allowing(catalog, file_server)) as session:
        reply = await ask(session, "nova-lite", query(message))
    assert reply.error is None
    assert "x.txt" in next(p.text for p in reply.partials if p.text)


async def test_text_only_model_uses_poes_image_description(
    catalog: Catalog,
    gateway_session: GatewaySession,
    file_server: FileServer,
    emu: AsyncEmulatorClient,
) -> None:
    image = fp.Attachment(
        url=file_server.url("files/photo.png"),
        content_type="image/png",
        name="photo.png",
        parsed_content="photo.png***A red square on white.",
    )
    message = fp.ProtocolMessage(role="user", content="Describe", attachments=[image])
    async with gateway_session(allowing(catalog, file_server)) as session:
        reply = await ask(session, "mistral-7b", query(message))
    assert reply.error is None
    [record] = await emu.requests(model_id="mistral.mistral-7b-instruct-v0:2")
    body = record["body"]
    texts = "".join(b.get("text", "") for m in body["messages"] for b in m["content"])
    assert "A red square on white." in texts
    assert not any("image" in b for m in body["messages"] for b in m["content"])
