"""A gateway on the emulator, reached through the real Poe client (in-process ASGI).

Fixtures: ``poe_api`` (the local fake of Poe's cost and upload APIs), ``catalog`` (the gateway
tests' catalog, pointed at it), ``gateway`` (that catalog served on the emulator, with a ledger),
``poe`` (an HTTP session into it for fastapi_poe's client) and ``gateway_session`` (the same for
any catalog).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from fmgate.config.catalog import Catalog
from fmgate.config.loader import parse_catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.emulator import VIDEO_BUCKET, aws_for
from tests.harness.poe_client import TEST_POE_KEY

#: The gateway tests' catalog: chat bots of several families, an image and a video bot each.
CATALOG = f"""
version: 1
gateway:
  max_attempts: 3
  retry_base_delay_seconds: 0.001
  retry_max_delay_seconds: 0.01
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
  aws_region: us-east-1
templates:
  chat:
    kind: chat
    max_tokens: 512
    max_tokens_limit: 4096
    pricing: {{input_token: 0.1, output_token: 0.5}}
bots:
  - bot_name: nova-lite
    template: chat
    model_id: amazon.nova-lite-v1:0
    supports_images: true
    supports_documents: true
    forced_tool_choices: [any, tool]
    introduction_message: Hi, I am Nova Lite.
  - bot_name: mistral-7b
    template: chat
    model_id: mistral.mistral-7b-instruct-v0:2
    supports_system_messages: false
    tool_use: none
    enable_image_comprehension: true
  - bot_name: nova-micro-whole
    template: chat
    model_id: amazon.nova-micro-v1:0
    streaming: false
  - bot_name: claude-thinking
    template: chat
    model_id: us.anthropic.claude-3-7-sonnet-20250219-v1:0
    max_tokens_limit: 16000
    enable_reasoning: true
    reasoning_budget: 2048
    forced_tool_choices: [any, tool]
    count_tokens: true
    anthropic_betas: [token-efficient-tools-2025-02-19, output-128k-2025-02-19]
  - bot_name: deepseek-r1
    template: chat
    model_id: us.deepseek.r1-v1:0
  - bot_name: fast-nova
    template: chat
    model_id: amazon.nova-pro-v1:0
    optimize_latency: true
  - bot_name: missing-model
    template: chat
    model_id: amazon.no-such-model-v9:0
  - bot_name: titan-image
    kind: image
    model_id: amazon.titan-image-generator-v2:0
    image: {{family: titan-image, base_size: 512}}
    pricing: {{image_output: 800, authorize: true}}
  - bot_name: sd35
    kind: image
    model_id: stability.sd3-5-large-v1:0
    image: {{family: stability}}
    pricing: {{image_output: 8000}}
  - bot_name: nova-reel
    kind: video
    model_id: amazon.nova-reel-v1:1
    video:
      family: nova-reel
      output_s3_uri: "s3://{VIDEO_BUCKET}/out"
      poll_interval_seconds: 0.05
    pricing: {{video_second: 8000}}
"""


@pytest.fixture
def poe_api() -> Iterator[FakePoeApi]:
    """A local stand-in for Poe's cost and file-upload APIs (nothing may reach poe.com)."""
    with FakePoeApi.running(access_key=TEST_POE_KEY) as api:
        yield api


def pointed_at(catalog: Catalog, api: FakePoeApi) -> Catalog:
    """The catalog with Poe's cost and upload APIs at ``api`` (the local fake)."""
    poe = catalog.gateway.poe.model_copy(
        update={"upload_base_url": api.url, "api_base_url": api.url}
    )
    return catalog.model_copy(update={"gateway": catalog.gateway.model_copy(update={"poe": poe})})


@pytest.fixture
def catalog(monkeypatch: pytest.MonkeyPatch, poe_api: FakePoeApi) -> Catalog:
    """The gateway tests' catalog (``CATALOG``), its access key in the environment."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    return pointed_at(parse_catalog(CATALOG, "test-catalog.yaml"), poe_api)


@pytest.fixture
async def gateway(
    catalog: Catalog, emulator: Emulator, moto_url: str, tmp_path: Path
) -> AsyncIterator[Gateway]:
    """The test catalog served on the emulator, with a usage ledger in ``tmp_path``."""
    options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=tmp_path / "usage.db")
    async with Gateway.open(catalog, options) as gw:
        yield gw


#: Opens a gateway for a catalog and yields a Poe-client session into it.
GatewaySession = Callable[[Catalog], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def gateway_session(emulator: Emulator, moto_url: str, tmp_path: Path) -> GatewaySession:
    """Open a gateway for any catalog and yield a Poe-client session into it."""

    @asynccontextmanager
    async def open_session(catalog: Catalog) -> AsyncIterator[httpx.AsyncClient]:
        options = GatewayOptions(aws=aws_for(emulator, moto_url), ledger_path=None)
        async with Gateway.open(catalog, options) as gw:
            transport = httpx.ASGITransport(app=build_app(gw))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as s:
                yield s

    return open_session


@pytest.fixture
async def poe(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP session into the gateway app, for fastapi_poe's client."""
    transport = httpx.ASGITransport(app=build_app(gateway))
    async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as session:
        yield session
