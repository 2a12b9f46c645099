"""A worker's own ``/metrics`` listener (``fmgate serve --workers N``).

Every worker keeps its metrics in its own registry (counters, histograms, and the gauges read at
scrape time from the worker's own state: upstream pool, adaptive concurrency). So each worker is
a scrape target of its own, on a port of its own that its supervisor bound; Prometheus sums the
workers like it sums pods. The main port is shared by the workers (any of them may take a
connection), so its ``/metrics`` would show whichever worker answered.

The listener is aiohttp's embeddable server (``AppRunner`` + ``SockSite`` on the given socket)
running in the worker's event loop beside uvicorn: it takes no signals and writes no log lines of
its own, and it stays up while the worker drains (it closes when the app's lifespan ends), so
the last scrapes of a stopping worker still see its streams finishing.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiohttp import web

from fmgate.observability.metrics import GatewayMetrics

#: Seconds a scrape still in progress gets when the worker's lifespan ends.
CLOSE_SECONDS = 1.0


def metrics_app(metrics: GatewayMetrics) -> web.Application:
    """``GET /metrics``: this worker's registry in the Prometheus text format."""

    async def scrape(request: web.Request) -> web.Response:
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/metrics", scrape, allow_head=False)
    return app


@asynccontextmanager
async def serving_metrics(metrics: GatewayMetrics, sock: socket.socket) -> AsyncIterator[None]:
    """Serve ``metrics`` at ``/metrics`` on ``sock`` (bound by the supervisor) for the block."""
    runner = web.AppRunner(metrics_app(metrics), access_log=None, shutdown_timeout=CLOSE_SECONDS)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield
    finally:
        await runner.cleanup()
