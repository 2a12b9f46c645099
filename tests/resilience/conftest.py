"""A gateway with fallbacks on the shared emulator, its usage ledger, and the Poe client.

The emulator and Poe API fixtures are the gateway tests' own (imported, so pytest finds them).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from string import Template

import httpx
import pytest

from fmgate.config.loader import parse_catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.fronts.poe.conftest import aws_for, emu, emulator, poe_api, pointed_at
from tests.fronts.poe.harness import TEST_POE_KEY
from tests.resilience.load import Served

__all__ = ["emu", "emulator", "poe_api"]

PRIMARY = "us.amazon.nova-pro-v1:0"
WEST = "amazon.nova-pro-v1:0"
LITE = "amazon.nova-lite-v1:0"
QUIET_PRIMARY = "us.amazon.nova-micro-v1:0"
QUIET_WEST = "amazon.nova-micro-v1:0"
LONELY = "meta.llama3-8b-instruct-v1:0"

#: ``resilient`` falls back to the same model in another region, then to another model;
#: ``quiet`` falls back without telling the user; ``lonely`` has no fallback.
CATALOG = Template("""
version: 1
gateway:
  max_attempts: $attempts
  retry_base_delay_seconds: 0.001
  retry_max_delay_seconds: 0.002
  breaker: {failure_threshold: $threshold, cooldown_seconds: 600}
  max_pool_connections: $pool
  concurrency:
    queue_timeout_seconds: $queue
    recent_throttle_seconds: $recent
    static_caps: $caps
  timeouts:
    first_token_seconds: $first_token
    idle_seconds: $idle
    chat_request_seconds: $deadline
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
  kind: chat
  aws_region: us-east-1
  max_tokens: 64
  pricing: {input_token: 0.1, output_token: 0.5}
bots:
  - bot_name: resilient
    model_id: $primary
    fallbacks:
      - {model_id: $west, aws_region: us-west-2, label: Nova Pro in us-west-2}
      - {model_id: $lite, label: Nova Lite}
  - bot_name: quiet
    model_id: $quiet_primary
    announce_fallback: false
    fallbacks: [{model_id: $quiet_west, aws_region: us-west-2}]
  - bot_name: lonely
    model_id: $lonely
""")

OpenServed = Callable[..., AbstractAsyncContextManager[Served]]


@pytest.fixture
def served(
    monkeypatch: pytest.MonkeyPatch,
    emulator: Emulator,
    moto_url: str,
    poe_api: FakePoeApi,
    tmp_path: Path,
) -> OpenServed:
    """Open the gateway (timeouts in seconds, the breaker's failure threshold, calls per target,
    the concurrency limits: static caps by model id, how long a refusal counts, the queue
    timeout; Bedrock connections per region) and a Poe session into it."""
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)

    @asynccontextmanager
    async def open_served(
        *,
        first_token: float = 30.0,
        idle: float = 30.0,
        deadline: float = 60.0,
        threshold: int = 3,
        attempts: int = 2,
        caps: Mapping[str, int] | None = None,
        recent: float = 60.0,
        queue: float = 10.0,
        pool: int = 256,
    ) -> AsyncIterator[Served]:
        text = CATALOG.substitute(
            first_token=first_token,
            idle=idle,
            deadline=deadline,
            threshold=threshold,
            attempts=attempts,
            caps=json.dumps(dict(caps or {})),
            recent=recent,
            queue=queue,
            pool=pool,
            primary=PRIMARY,
            west=WEST,
            lite=LITE,
            quiet_primary=QUIET_PRIMARY,
            quiet_west=QUIET_WEST,
            lonely=LONELY,
        )
        catalog = pointed_at(parse_catalog(text, "resilience.yaml"), poe_api)
        options = GatewayOptions(
            aws=aws_for(emulator, moto_url), ledger_path=tmp_path / "usage.sqlite3"
        )
        async with Gateway.open(catalog, options) as gateway:
            transport = httpx.ASGITransport(app=build_app(gateway))
            async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as s:
                yield Served(gateway, s)

    return open_served
