"""A gateway served from a catalog *file*, reached through the real Poe client, with a reloader.

Fixtures: ``catalog_file`` (a catalog file serving nova-micro), ``serve_file`` (a gateway on
a catalog file, with a reloader) and ``serve_app`` (``fmgate serve --config FILE`` in-process).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import fastapi_poe as fp
import httpx
import pytest

from fmgate.config.loader import load_catalog
from fmgate.server.app import build_app, create_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate.server.reload import CatalogReloader
from fmgate_emulator import Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.emulator import aws_for
from tests.harness.poe_client import TEST_POE_KEY, query
from tests.harness.polling import eventually
from tests.harness.servers import uvicorn_serving

#: Seconds before a wait fails the test instead of stalling CI (a bound, not a timing assertion).
BOUND = 20.0

BOT_TEMPLATE = """\
  - bot_name: {name}
    model_id: {model_id}
    max_tokens: 256
    pricing: {{input_token: 0.1, output_token: 0.5}}
"""


def catalog_text(api_url: str, *bots: tuple[str, str], gateway_extra: str = "") -> str:
    """A catalog with the given (bot name, model id) pairs, pointed at the fake Poe API."""
    entries = "".join(BOT_TEMPLATE.format(name=name, model_id=model) for name, model in bots)
    return (
        "version: 1\n"
        "gateway:\n"
        "  max_attempts: 2\n"
        "  retry_base_delay_seconds: 0.001\n"
        "  retry_max_delay_seconds: 0.01\n"
        f"  poe: {{api_base_url: '{api_url}', upload_base_url: '{api_url}'}}\n"
        f"{gateway_extra}"
        "defaults:\n"
        "  access_key: env:FMGATE_TEST_POE_KEY\n"
        "bots:\n"
        f"{entries}"
    )


def write_atomically(path: Path, text: str) -> None:
    """Replace the file in one step, as editors and ``fmgate models add`` do."""
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)


@dataclass
class ServedCatalog:
    """A running gateway that follows ``path``, and a Poe-client session into it."""

    path: Path
    gateway: Gateway
    reloader: CatalogReloader
    session: httpx.AsyncClient


ServeFile = Callable[..., AbstractAsyncContextManager[ServedCatalog]]


@pytest.fixture
def catalog_file(
    tmp_path: Path,
    poe_api: FakePoeApi,
    monkeypatch: pytest.MonkeyPatch,
) -> Path:
    """A catalog file serving nova-micro (the bot every test starts from)."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    path = tmp_path / "catalog.yaml"
    path.write_text(catalog_text(poe_api.url, ("nova-micro", "amazon.nova-micro-v1:0")))
    return path


@pytest.fixture
def serve_file(emulator: Emulator, moto_url: str) -> ServeFile:
    """Open a gateway from a catalog file, with a reloader for it (not yet watching)."""

    @asynccontextmanager
    async def serve(path: Path, poll_interval: float = 0.05) -> AsyncIterator[ServedCatalog]:
        options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
        async with Gateway.open(load_catalog(path), options) as gateway:
            reloader = CatalogReloader(gateway, path, poll_interval=poll_interval)
            transport = httpx.ASGITransport(app=build_app(gateway))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as s:
                yield ServedCatalog(path, gateway, reloader, s)

    return serve


async def is_served(session: httpx.AsyncClient, bot: str) -> bool:
    """Whether the gateway serves ``bot`` right now (``GET /bot/<name>``: 200 or 404)."""
    response = await session.get(f"/bot/{bot}")
    assert response.status_code in (200, 404)
    return response.status_code == 200


ServeApp = Callable[[Path], AbstractAsyncContextManager[str]]


@pytest.fixture
def serve_app(emulator: Emulator, moto_url: str) -> ServeApp:
    """``fmgate serve --config FILE`` in-process: ``create_app`` on a real uvicorn (loopback).

    The app opens its gateway and starts following the file in its lifespan, exactly as the
    command does; yields the base URL.
    """

    @asynccontextmanager
    async def serve(path: Path) -> AsyncIterator[str]:
        options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
        app = create_app(load_catalog(path), options, catalog_path=path, reload_interval=0.05)
        async with uvicorn_serving(app, lifespan="on") as url:
            yield url

    return serve


async def wait_until_served(session: httpx.AsyncClient, bot: str, served: bool = True) -> None:
    """Poll ``GET /bot/<name>`` until the bot is (or is no longer) served; bounded by BOUND."""

    async def settled() -> bool:
        return await is_served(session, bot) == served

    what = f"{bot} is served" if served else f"{bot} is no longer served"
    await eventually(settled, what, within=BOUND, interval=0.02)


async def answer_over_http(session: httpx.AsyncClient, url: str, bot: str, text: str) -> str:
    """The whole reply of ``bot`` on the gateway at ``url``, through fastapi_poe's client."""
    reply = ""
    async for partial in fp.stream_request(
        query(("user", text)),
        bot,
        TEST_POE_KEY,
        base_url=f"{url}/bot/",
        session=session,
        num_tries=1,
    ):
        reply += partial.text
    return reply
