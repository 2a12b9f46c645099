"""Two gateway replicas sharing one Redis: what one learns about a model, the other acts on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from pathlib import Path

import httpx
import pytest

from fmgate.config.loader import parse_catalog
from fmgate.resilience.breaker import BreakerState
from fmgate.security.rate_limits import LimitKey
from fmgate.server.app import build_app
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate.shared_state.breakers import RedisBreakers
from fmgate.shared_state.limits import RedisUserLimiter
from fmgate_emulator import AsyncEmulatorClient, Emulator
from tests.fakes.poe_api import FakePoeApi
from tests.harness.emulator import aws_for
from tests.harness.load import Served, ask, assert_well_formed, ledger_rows, models_of
from tests.harness.poe_client import TEST_POE_KEY
from tests.harness.poe_gateway import pointed_at
from tests.harness.polling import eventually
from tests.harness.redis_server import RedisServer

PRIMARY = "us.amazon.nova-pro-v1:0"
WEST = "amazon.nova-pro-v1:0"

CATALOG = """
version: 1
gateway:
  max_attempts: 1
  breaker: {failure_threshold: 2, cooldown_seconds: 600}
  shared_state: {redis_url: env:FMGATE_TEST_REDIS_URL, key_prefix: "%(prefix)s"}
  limits: {max_concurrent_per_user: 1}
defaults:
  access_key: env:FMGATE_TEST_POE_KEY
  kind: chat
  aws_region: us-east-1
  max_tokens: 64
bots:
  - bot_name: resilient
    model_id: %(primary)s
    fallbacks: [{model_id: %(west)s, aws_region: us-west-2}]
"""


#: Opens two replicas (gateways sharing the test's Redis key prefix), each with a Poe session.
OpenReplicas = Callable[[], AbstractAsyncContextManager[tuple[Served, Served]]]


@pytest.fixture
def open_replicas(
    monkeypatch: pytest.MonkeyPatch,
    redis_session_server: RedisServer,
    key_prefix: str,
    emulator: Emulator,
    moto_url: str,
    poe_api: FakePoeApi,
    tmp_path: Path,
) -> OpenReplicas:
    monkeypatch.setenv("FMGATE_TEST_POE_KEY", TEST_POE_KEY)
    monkeypatch.setenv("FMGATE_TEST_REDIS_URL", redis_session_server.url)
    text = CATALOG % {"prefix": key_prefix, "primary": PRIMARY, "west": WEST}
    catalog = pointed_at(parse_catalog(text, "replicas.yaml"), poe_api)

    @asynccontextmanager
    async def replicas() -> AsyncIterator[tuple[Served, Served]]:
        async with AsyncExitStack() as stack:
            served = []
            for name in ("a", "b"):
                options = GatewayOptions(
                    aws=aws_for(emulator, moto_url), ledger_path=tmp_path / f"usage-{name}.db"
                )
                gateway = await stack.enter_async_context(Gateway.open(catalog, options))
                transport = httpx.ASGITransport(app=build_app(gateway))
                session = await stack.enter_async_context(
                    httpx.AsyncClient(transport=transport, base_url="http://gateway")
                )
                served.append(Served(gateway, session))
            yield served[0], served[1]

    return replicas


async def test_a_circuit_opened_by_one_replica_sends_the_other_to_the_fallback(
    open_replicas: OpenReplicas, emu: AsyncEmulatorClient
) -> None:
    await emu.inject("unavailable", model_id=PRIMARY, operation="ConverseStream", count=-1)
    async with open_replicas() as (a, b):
        assert isinstance(a.gateway.dependencies.breakers, RedisBreakers)
        first = [await ask(a.session, "resilient", f"user-{i}") for i in range(2)]
        calls_before = (await emu.counters())["by_model"].get(PRIMARY, 0)
        second = await ask(b.session, "resilient", "user-b")
        calls_after = (await emu.counters())["by_model"].get(PRIMARY, 0)
        status = await b.gateway.dependencies.breakers.get(PRIMARY, "us-east-1").status()
        rows = await ledger_rows(b, [second])
    for outcome in [*first, second]:
        assert_well_formed(outcome)
        assert outcome.error is None
    assert status.state is BreakerState.OPEN
    assert calls_after == calls_before  # replica b never called the primary: a opened it
    assert models_of(rows) == {WEST: 1}


async def holds_a_slot(served: Served, user: str) -> bool:
    """Whether a request of ``user`` to ``resilient`` holds a slot in Redis (asking ``served``)."""
    limiter = served.gateway.limiter
    assert isinstance(limiter, RedisUserLimiter)
    return await limiter.running(LimitKey(user, "resilient")) > 0


async def test_a_users_concurrency_limit_holds_across_replicas(
    open_replicas: OpenReplicas, emu: AsyncEmulatorClient
) -> None:
    await emu.inject(
        "slow_first_token", model_id=PRIMARY, operation="ConverseStream", delay_seconds=1.0
    )
    async with open_replicas() as (a, b):
        assert isinstance(a.gateway.limiter, RedisUserLimiter)
        slow = asyncio.create_task(ask(a.session, "resilient", "alice"))
        await eventually(lambda: holds_a_slot(a, "alice"), "alice's first request runs on a")
        refused = await ask(b.session, "resilient", "alice")
        finished = await slow
    assert_well_formed(refused)
    assert refused.error is not None
    assert "too many requests running" in str(refused.error["text"])
    assert finished.error is None
