"""A gateway with fallbacks (``tests.resilience.catalog``) on the session's emulator, its usage
ledger, and the Poe client."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from fmgate.config.loader import parse_catalog
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate_emulator import Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.emulator import aws_for
from tests.harness.load import Served
from tests.harness.poe_client import TEST_POE_KEY
from tests.harness.poe_gateway import pointed_at
from tests.resilience.catalog import (
    CATALOG,
    LITE,
    LONELY,
    PRIMARY,
    QUIET_PRIMARY,
    QUIET_WEST,
    WEST,
    OpenServed,
)


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
