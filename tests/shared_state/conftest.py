"""A real redis-server for the whole session, a client opened the gateway's way, and a key
prefix of each test's own (so tests never see each other's state)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis

from fmgate.config.gateway_settings import SharedStateSettings
from fmgate.config.secrets import SecretResolver
from fmgate.shared_state.connection import open_redis
from tests.redis_server import RedisServer, redis_server

#: The environment variable the test settings reference (the URL holds the password).
REDIS_URL_VARIABLE = "FMGATE_TEST_REDIS_URL"


@pytest.fixture(scope="session")
def redis_session_server() -> Iterator[RedisServer]:
    """One redis-server for the session (tests that stop Redis start their own)."""
    with redis_server() as server:
        yield server


@pytest.fixture
def key_prefix() -> str:
    """A prefix no other test uses."""
    return f"t{uuid.uuid4().hex[:12]}:"


async def connect(url: str, key_prefix: str) -> Redis:
    """A client of ``url`` opened as the gateway opens it: settings with a reference, resolved."""
    settings = SharedStateSettings(redis_url=f"env:{REDIS_URL_VARIABLE}", key_prefix=key_prefix)
    resolver = SecretResolver(environ={REDIS_URL_VARIABLE: url})
    try:
        client = await open_redis(settings, resolver)
    finally:
        await resolver.aclose()
    assert client is not None
    return client


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
