"""The Redis connection that gateway replicas share state through, and how its outages show.

:func:`open_redis` turns ``gateway.shared_state`` into a ``redis.asyncio.Redis`` client (or
``None`` when no ``redis_url`` is configured: every replica then keeps its own state in memory).
The URL is a secret reference, because it may carry a password; the password is registered for
redaction and never written out.

Shared state is an optimisation of the limits, never a dependency of serving: when Redis cannot
be reached, the circuit breakers and user limits *fail open* (the call is allowed). A
:class:`RedisOutage` is how they do it. It runs each Redis operation; it turns a connection
error, a timeout, a full or read-only Redis (mapped by exception *type*) into
:class:`RedisUnavailable`; it logs one warning per streak of failures (not one per request),
and skips Redis for a short back-off after a failure, so a dead Redis costs requests almost
nothing. It logs once more when Redis answers again.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar
from urllib.parse import unquote, urlsplit

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import (
    ClusterDownError,
    NoPermissionError,
    OutOfMemoryError,
    ReadOnlyError,
    TryAgainError,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from fmgate.config.gateway_settings import SharedStateSettings
from fmgate.config.secrets import SecretResolver
from fmgate.observability.logging import register_secret

__all__ = [
    "DEFAULT_RECONNECT_AFTER_SECONDS",
    "DEFAULT_SOCKET_TIMEOUT_SECONDS",
    "RedisOutage",
    "RedisUnavailable",
    "SharedStateUrlError",
    "open_redis",
]

logger = logging.getLogger("fmgate.shared_state.connection")

#: Longest wait for Redis to connect or answer: a dead Redis must add little latency.
DEFAULT_SOCKET_TIMEOUT_SECONDS: Final = 0.25

#: After a failed Redis call, how long calls go straight to "unavailable" before trying again.
DEFAULT_RECONNECT_AFTER_SECONDS: Final = 1.0

#: Errors that mean "Redis cannot serve us now": unreachable, timed out, refused our password
#: (``AuthenticationError`` is a ``ConnectionError``), full (``maxmemory``), a read-only replica
#: or a cluster mid-failover, or an ACL that forbids our commands. Anything else is a bug and
#: propagates.
UNAVAILABLE_ERRORS: Final = (
    RedisConnectionError,
    RedisTimeoutError,
    OutOfMemoryError,
    ReadOnlyError,
    ClusterDownError,
    TryAgainError,
    NoPermissionError,
)

T = TypeVar("T")


class SharedStateUrlError(ValueError):
    """The resolved Redis URL is not one (the message never repeats it: it may hold a password)."""


class RedisUnavailable(Exception):
    """Redis could not serve a call (or is skipped after a recent failure): fail open."""


async def open_redis(settings: SharedStateSettings, secrets: SecretResolver) -> Redis | None:
    """A Redis client for ``settings.redis_url``, or ``None`` when shared state is off.

    The client does not connect until first used, so a Redis that is down at start-up does not
    stop the gateway (its users fail open until it is back). Close it with ``await
    client.aclose()``.
    """
    if settings.redis_url is None:
        return None
    url = await secrets.resolve(settings.redis_url)
    register_url_secrets(url)
    try:
        return Redis.from_url(
            url,
            socket_timeout=DEFAULT_SOCKET_TIMEOUT_SECONDS,
            socket_connect_timeout=DEFAULT_SOCKET_TIMEOUT_SECONDS,
            # One immediate retry replaces a pooled connection that Redis closed (a restart);
            # more would multiply the latency a dead Redis adds.
            retry=Retry(NoBackoff(), retries=1),
            health_check_interval=0,
        )
    except ValueError:
        # `from None`: redis-py's message may quote parts of the URL.
        raise SharedStateUrlError(
            f"{settings.redis_url} is not a Redis URL (redis://[:password@]host:port/db)"
        ) from None


def register_url_secrets(url: str) -> None:
    """Never log the URL's password (as written, and percent-decoded), nor the URL itself."""
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    if password:
        register_secret(password)
        register_secret(unquote(password))
    register_secret(url)


class RedisOutage:
    """Runs Redis operations for one user of shared state; fails fast while Redis is down.

    ``subject`` names that user in the log (``"circuit breakers"``). ``clock`` is monotonic
    seconds. Not thread-safe: use it from one event loop.
    """

    def __init__(
        self,
        subject: str,
        *,
        reconnect_after_seconds: float = DEFAULT_RECONNECT_AFTER_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._subject = subject
        self._reconnect_after = reconnect_after_seconds
        self._clock = clock
        self._failing = False
        self._skip_until = 0.0

    @property
    def failing(self) -> bool:
        """Whether the last Redis operation failed (a failure streak is going on)."""
        return self._failing

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """``operation()``'s result, or :class:`RedisUnavailable` if Redis cannot be reached."""
        if self._failing and self._clock() < self._skip_until:
            raise RedisUnavailable
        try:
            result = await operation()
        except UNAVAILABLE_ERRORS as error:
            self._failed(error)
            raise RedisUnavailable from None
        self._succeeded()
        return result

    def _failed(self, error: Exception) -> None:
        self._skip_until = self._clock() + self._reconnect_after
        if self._failing:
            return
        self._failing = True
        logger.warning(
            "Redis unavailable (%s): %s fail open, state is not shared until it is back",
            type(error).__name__,
            self._subject,
        )

    def _succeeded(self) -> None:
        if self._failing:
            self._failing = False
            logger.info("Redis available again: %s share state again", self._subject)
