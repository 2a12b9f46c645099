"""Opening the shared Redis from ``gateway.shared_state``: off by default, the URL a secret."""

from __future__ import annotations

import logging

import pytest
from redis.asyncio import Redis

from fmgate.config.gateway_settings import SharedStateSettings
from fmgate.config.secrets import SecretResolver
from fmgate.observability.logging import redact
from fmgate.shared_state.connection import (
    RedisOutage,
    RedisUnavailable,
    SharedStateUrlError,
    open_redis,
)
from tests.harness.redis_server import RedisServer
from tests.shared_state.redis_clients import REDIS_URL_VARIABLE, connect

SETTINGS = SharedStateSettings(redis_url=f"env:{REDIS_URL_VARIABLE}")


async def test_without_a_url_there_is_no_client() -> None:
    resolver = SecretResolver(environ={})
    assert await open_redis(SharedStateSettings(), resolver) is None
    await resolver.aclose()


async def test_the_client_reaches_redis_and_its_password_is_never_logged(
    shared_redis: Redis, redis_session_server: RedisServer
) -> None:
    assert await shared_redis.ping() is True
    password = redis_session_server.password
    assert password not in redact(f"connecting to {redis_session_server.url}")
    assert password not in repr(shared_redis)


async def test_a_url_that_is_not_one_is_refused_without_repeating_it() -> None:
    url = "http://user:not-a-redis-password-77@127.0.0.1:1"
    resolver = SecretResolver(environ={REDIS_URL_VARIABLE: url})
    with pytest.raises(SharedStateUrlError) as refused:
        await open_redis(SETTINGS, resolver)
    await resolver.aclose()
    assert "not-a-redis-password-77" not in str(refused.value)
    assert f"env:{REDIS_URL_VARIABLE}" in str(refused.value)


async def test_a_wrong_password_counts_as_unavailable(
    redis_session_server: RedisServer, key_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"redis://:wrong-password-for-test-42@127.0.0.1:{redis_session_server.port}/0"
    redis = await connect(url, key_prefix)
    outage = RedisOutage("test state")
    try:
        with pytest.raises(RedisUnavailable) as refused:
            await outage.run(redis.ping)
    finally:
        await redis.aclose()
    assert outage.failing
    assert "wrong-password-for-test-42" not in str(refused.value)
    assert "wrong-password-for-test-42" not in caplog.text
    [warning] = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert "AuthenticationError" in warning.getMessage()
