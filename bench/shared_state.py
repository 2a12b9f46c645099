"""What shared state costs a request: per-user limits and the circuit breaker, in memory vs Redis.

``python -m bench.shared_state [--requests N]`` starts a real ``redis-server`` on loopback
(no persistence, as a sidecar would be), then runs the gateway's own per-request bookkeeping —
``admit`` + ``release`` of the caller's lease, ``acquire`` + ``succeeded`` of the target's
breaker permit — N times one after another and N times 64 at once, with the in-memory
implementations and with the Redis ones, side by side. It prints the time each request spends
on it (p50 / p99, microseconds) and the ratio. Nothing else of the gateway runs: this is the
whole added cost of ``gateway.shared_state``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

from redis.asyncio import Redis

from bench.stats import percentile
from fmgate.config.gateway_settings import BreakerSettings
from fmgate.resilience.breaker import BreakerRegistry, Breakers
from fmgate.security.rate_limits import Limiter, LimitExceeded, LimitKey, UserLimiter
from fmgate.shared_state.breakers import RedisBreakers
from fmgate.shared_state.limits import RedisUserLimiter

CONCURRENCY = 64
MODEL, REGION = "amazon.nova-pro-v1:0", "us-east-1"


@contextmanager
def redis_server() -> Iterator[str]:
    """A throwaway redis-server on a free loopback port; yields its URL."""
    program = shutil.which("redis-server")
    if program is None:
        sys.exit("redis-server is not installed (scripts/system-packages.sh installs it)")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with tempfile.TemporaryDirectory() as folder:
        args = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
        process = subprocess.Popen(
            [program, *args, "--dir", folder],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    if time.monotonic() > deadline or process.poll() is not None:
                        sys.exit("redis-server did not start")
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(10)


def bookkeeping(limiter: Limiter, breakers: Breakers) -> Callable[[int], Awaitable[float]]:
    """One request's shared-state work; returns the seconds it took."""

    async def one(user: int) -> float:
        started = time.perf_counter()
        lease = await limiter.admit(LimitKey(f"user-{user}", "bench-bot"))
        if isinstance(lease, LimitExceeded):
            raise RuntimeError("the bench's limits are set never to refuse")
        breaker = breakers.get(MODEL, REGION)
        permit = await breaker.acquire()
        await breaker.succeeded(permit)
        await lease.release()
        return time.perf_counter() - started

    return one


async def measure(one: Callable[[int], Awaitable[float]], requests: int) -> dict[str, float]:
    for user in range(200):  # warm-up: connections, script loading
        await one(user)
    sequential = [await one(user) for user in range(requests)]
    concurrent: list[float] = []
    for first in range(0, requests, CONCURRENCY):
        batch = range(first, min(first + CONCURRENCY, requests))
        concurrent.extend(await asyncio.gather(*(one(user) for user in batch)))
    micro = 1e6
    return {
        "c=1 p50": percentile(sequential, 0.5) * micro,
        "c=1 p99": percentile(sequential, 0.99) * micro,
        f"c={CONCURRENCY} p50": percentile(concurrent, 0.5) * micro,
        f"c={CONCURRENCY} p99": percentile(concurrent, 0.99) * micro,
    }


async def run(requests: int, url: str) -> None:
    limits = {"max_concurrent": 1000, "per_minute": 1e9, "burst": 1_000_000}
    settings = BreakerSettings(failure_threshold=5, cooldown_seconds=30)
    memory = await measure(
        bookkeeping(UserLimiter(**limits), BreakerRegistry(settings)),  # type: ignore[arg-type]
        requests,
    )
    redis = Redis.from_url(url, socket_timeout=0.25, socket_connect_timeout=0.25)
    try:
        shared = await measure(
            bookkeeping(
                RedisUserLimiter(redis, key_prefix="bench:", **limits),  # type: ignore[arg-type]
                RedisBreakers(redis, settings, key_prefix="bench:", state_cache_seconds=0.5),
            ),
            requests,
        )
    finally:
        await redis.aclose()
    print(f"shared-state bookkeeping per request, {requests} requests, microseconds")
    print(f"{'':14}{'memory':>10}{'redis':>10}{'ratio':>8}")
    for name in memory:
        ratio = shared[name] / memory[name] if memory[name] else float("nan")
        print(f"{name:14}{memory[name]:10.1f}{shared[name]:10.1f}{ratio:7.0f}x")
    print(f"(python {sys.version.split()[0]}, pid {os.getpid()}, redis on loopback)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=3000)
    args = parser.parse_args()
    with redis_server() as url:
        asyncio.run(run(args.requests, url))


if __name__ == "__main__":
    main()
