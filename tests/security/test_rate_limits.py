"""Per-user limits: the in-memory limiter on an exact clock, then through the Poe endpoint.

The rules both limiters share (separate keys, slots coming back, streams releasing however
they end) run against the in-memory and the Redis limiter in tests/shared_state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import httpx

from fmgate.config.catalog import Catalog
from fmgate.security.rate_limits import (
    SWEEP_THRESHOLD,
    LimitExceeded,
    LimitKey,
    LocalLease,
    UserLimiter,
)
from fmgate_emulator import AsyncEmulatorClient
from tests.harness.poe_client import query, raw_events
from tests.harness.poe_gateway import GatewaySession
from tests.harness.polling import eventually

ALICE = LimitKey("alice", "nova-lite")
BOB = LimitKey("bob", "nova-lite")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def limiter(
    clock: FakeClock, *, concurrent: int = 10, per_minute: float = 60, burst: int = 3
) -> UserLimiter:
    return UserLimiter(max_concurrent=concurrent, per_minute=per_minute, burst=burst, clock=clock)


async def test_burst_then_the_sustained_rate() -> None:
    clock = FakeClock()
    limits = limiter(clock, per_minute=60, burst=3)
    leases = [await limits.admit(ALICE) for _ in range(3)]
    assert all(isinstance(lease, LocalLease) for lease in leases)
    refused = await limits.admit(ALICE)
    assert isinstance(refused, LimitExceeded)
    assert refused.limit == "rate"
    assert refused.retry_after_seconds == 1.0  # one request a second
    assert "1 seconds" in refused.user_message
    clock.now += 1.0
    assert isinstance(await limits.admit(ALICE), LocalLease)
    assert isinstance(await limits.admit(ALICE), LimitExceeded)


async def test_idle_users_are_forgotten() -> None:
    clock = FakeClock()
    limits = limiter(clock, per_minute=60, burst=1)
    running = await limits.admit(ALICE)
    assert isinstance(running, LocalLease)
    for index in range(SWEEP_THRESHOLD):
        lease = await limits.admit(LimitKey(f"user-{index}", "bot"))
        assert isinstance(lease, LocalLease)
        await lease.release()
    assert limits.tracked_keys() == SWEEP_THRESHOLD + 1  # all used their burst: kept
    clock.now += 60.0  # every bucket is full again
    for index in range(2 * SWEEP_THRESHOLD):
        await limits.admit(LimitKey(f"late-{index}", "bot"))
    # Alice and the late users (they just used their burst); the idle early users are gone.
    assert limits.tracked_keys() == 1 + 2 * SWEEP_THRESHOLD
    assert limits.running(ALICE) == 1  # a running request is never forgotten


async def streams_started(emu: AsyncEmulatorClient) -> bool:
    """Whether a ConverseStream call has reached the emulator (its request is running)."""
    return bool((await emu.counters())["by_operation"].get("ConverseStream"))


def the_error(events: list[tuple[str, dict[str, object]]]) -> dict[str, object]:
    assert events[0][0] == "meta"
    assert events[-1][0] == "done"
    [error] = [data for name, data in events if name == "error"]
    return error


async def test_over_the_rate_gets_a_retryable_error_event(
    gateway_session: GatewaySession, limited: Callable[..., Catalog], emu: AsyncEmulatorClient
) -> None:
    catalog = limited(burst_per_user=2, requests_per_minute_per_user=0.001)
    async with gateway_session(catalog) as session:
        body = query(("user", "hello")).model_dump()
        for _ in range(2):
            events = await raw_events(session, "nova-lite", body)
            assert not [e for e in events if e[0] == "error"]
        error = the_error(await raw_events(session, "nova-lite", body))
        assert error["allow_retry"] is True
        assert "too quickly" in str(error["text"])
        other_user = query(("user", "hello"), user_id="u-other").model_dump()
        events = await raw_events(session, "nova-lite", other_user)
        assert not [e for e in events if e[0] == "error"]
    by_operation = (await emu.counters())["by_operation"]
    assert by_operation.get("ConverseStream") == 3  # the refused request never reached Bedrock


async def test_too_many_running_requests_get_a_retryable_error_event(
    gateway_session: GatewaySession, limited: Callable[..., Catalog], emu: AsyncEmulatorClient
) -> None:
    await emu.inject("slow_first_token", delay_seconds=1.0)
    catalog = limited(max_concurrent_per_user=1)
    async with gateway_session(catalog) as session:
        body = query(("user", "hello")).model_dump()
        first = asyncio.create_task(raw_events(session, "nova-lite", body))
        await eventually(lambda: streams_started(emu), "the first request reaches Bedrock")
        error = the_error(await raw_events(session, "nova-lite", body))
        assert error["allow_retry"] is True
        assert "too many requests running" in str(error["text"])
        events = await first
        assert not [e for e in events if e[0] == "error"]
        events = await raw_events(session, "nova-lite", body)  # its slot came back
        assert not [e for e in events if e[0] == "error"]


async def test_limits_do_not_touch_settings_and_reports(
    gateway_session: GatewaySession, limited: Callable[..., Catalog]
) -> None:
    catalog = limited(burst_per_user=1, requests_per_minute_per_user=0.001)
    auth = {"Authorization": "Bearer poe-test-access-key-0123456789ab"}
    async with gateway_session(catalog) as session:
        for _ in range(3):
            response = await session.post(
                "/bot/nova-lite", json={"version": "1.2", "type": "settings"}, headers=auth
            )
            assert response.status_code == 200
        assert isinstance(response, httpx.Response)
