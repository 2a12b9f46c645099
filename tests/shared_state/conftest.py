"""A real redis-server for the whole session, a client opened the gateway's way, and a key
prefix of each test's own (so tests never see each other's state)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from tests.harness.redis_server import RedisServer, redis_server
from tests.shared_state.redis_clients import connect


@pytest.fixture(scope="session")
def redis_session_server() -> Iterator[RedisServer]:
    """One redis-server for the session (tests that stop Redis start their own)."""
    with redis_server() as server:
        yield server


@pytest.fixture
def key_prefix() -> str:
    """A prefix no other test uses."""
    return f"t{uuid.uuid4().hex[:12]}:"


@pytest.fixture
async def shared_redis(redis_session_server: RedisServer, key_prefix: str) -> AsyncIterator[Redis]:
    """A client of the session's redis-server (closed after the test)."""
    client = await connect(redis_session_server.url, key_prefix)
    yield client
    await client.aclose()


@pytest.fixture
async def other_replica_redis(
    redis_session_server: RedisServer, key_prefix: str
) -> AsyncIterator[Redis]:
    """A second client of the same server: another replica's own connection pool."""
    client = await connect(redis_session_server.url, key_prefix)
    yield client
    await client.aclose()
