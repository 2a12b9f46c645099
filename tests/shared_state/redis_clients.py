"""Redis clients opened the way the gateway opens them (settings holding a secret reference)."""

from __future__ import annotations

from redis.asyncio import Redis

from fmgate.config.gateway_settings import SharedStateSettings
from fmgate.config.secrets import SecretResolver
from fmgate.shared_state.connection import open_redis

#: The environment variable the test settings reference (the URL holds the password).
REDIS_URL_VARIABLE = "FMGATE_TEST_REDIS_URL"


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
