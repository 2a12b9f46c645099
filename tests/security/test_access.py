"""Access keys: 401 without detail, references only in catalogs, keyless serving only when
explicitly asked for and loudly logged."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from fmgate.config.errors import CatalogError
from fmgate.config.fields import SECRET_REF_PATTERN
from fmgate.config.loader import load_catalog, parse_catalog
from fmgate.core.errors import BotMisconfigured
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.harness.emulator import aws_for
from tests.harness.poe_client import TEST_POE_KEY, query

KEYLESS = """
version: 1
gateway:
  poe: {allow_without_key: true}
bots:
  - bot_name: open-bot
    model_id: amazon.nova-micro-v1:0
  - bot_name: closed-bot
    model_id: amazon.nova-micro-v1:0
    access_key: env:FMGATE_TEST_POE_KEY
"""


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Bearer wrong",
        f"Basic {TEST_POE_KEY}",
        f"Bearer {TEST_POE_KEY}x",
        f"Bearer {TEST_POE_KEY[:-1]}",
        ("Bearer " + "é" * 40).encode(),
    ],
)
async def test_missing_or_wrong_key_is_401_without_detail(
    poe: httpx.AsyncClient, authorization: str | bytes | None
) -> None:
    value = authorization.encode() if isinstance(authorization, str) else authorization
    headers = {} if value is None else {b"Authorization": value}
    response = await poe.post(
        "/bot/nova-lite", json=query(("user", "hi")).model_dump(), headers=headers
    )
    assert response.status_code == 401
    assert response.json() == {"detail": "Invalid access key"}
    assert TEST_POE_KEY not in response.text


def test_the_bundled_catalog_holds_references_not_keys() -> None:
    import re

    for bot in load_catalog(None).bots:
        assert bot.access_key is None or re.match(SECRET_REF_PATTERN, bot.access_key)


def test_a_literal_key_in_a_catalog_is_refused() -> None:
    text = KEYLESS.replace("env:FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    with pytest.raises(CatalogError, match="access_key") as caught:
        parse_catalog(text, "catalog.yaml")
    assert TEST_POE_KEY not in str(caught.value)


async def test_keyless_serving_needs_the_flag_and_is_logged_loudly(
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    emulator: Emulator,
    moto_url: str,
) -> None:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    catalog = parse_catalog(KEYLESS, "keyless.yaml")
    aws = aws_for(emulator, moto_url)
    with pytest.raises(BotMisconfigured):
        async with Gateway.open(catalog, GatewayOptions(aws=aws, ledger_path=None)):
            pass
    caplog.set_level(logging.WARNING, logger="fmgate")
    options = GatewayOptions(aws=aws, ledger_path=None, allow_without_key=True)
    async with Gateway.open(catalog, options) as gateway:
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        messages = [r.getMessage() for r in warnings]
        assert (
            "DEV MODE: bot open-bot is served WITHOUT an access key: anyone can call it" in messages
        )
        assert not [m for m in messages if "closed-bot" in m]
        transport = httpx.ASGITransport(app=build_app(gateway))
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as session:
            body = query(("user", "hi")).model_dump()
            assert (await session.post("/bot/open-bot", json=body)).status_code == 200
            assert (await session.post("/bot/closed-bot", json=body)).status_code == 401


def test_docs_list_every_security_test() -> None:
    doc = (Path(__file__).parents[2] / "docs" / "security.md").read_text(encoding="utf-8")
    for module in Path(__file__).parent.glob("test_*.py"):
        assert f"tests/security/{module.name}" in doc
