"""A worker's own port (``fmgate serve --workers N``): its ``/metrics``, and in development the
media it generated.

Every worker keeps its metrics in its own registry (counters, histograms, and the gauges read at
scrape time from the worker's own state: upstream pool, adaptive concurrency). So each worker is
a scrape target of its own, on a port of its own that its supervisor bound; Prometheus sums the
workers as it sums pods. The main port is shared by the workers (the kernel hands each new
connection to one of them), so its ``/metrics`` would show whichever worker answered.

On the embedded emulator generated images and videos are kept in the memory of the worker that
made them (:class:`fmgate.fronts.media_store.LocalMediaStore`, development only), so their links
point at that worker's own port, which serves them at ``/media/<token>``.

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

from fmgate.fronts.media_store import LocalMediaStore
from fmgate.observability.metrics import GatewayMetrics

#: Seconds a request still in progress gets when the worker's lifespan ends.
CLOSE_SECONDS = 1.0


def worker_port_app(metrics: GatewayMetrics, media: LocalMediaStore | None) -> web.Application:
    """``GET /metrics``: this worker's registry in the Prometheus text format; with ``media``,
    ``GET /media/<token>``: a file this worker generated."""

    async def scrape(request: web.Request) -> web.Response:
        body, content_type = metrics.render()
        return web.Response(body=body, headers={"Content-Type": content_type})

    async def media_file(request: web.Request) -> web.Response:
        found = media.get(request.match_info["token"]) if media is not None else None
        if found is None:
            return web.json_response({"error": "No such file"}, status=404)
        return web.Response(body=found.data, content_type=found.content_type)

    app = web.Application()
    app.router.add_get("/metrics", scrape, allow_head=False)
    if media is not None:
        app.router.add_get("/media/{token}", media_file, allow_head=False)
    return app


@asynccontextmanager
async def serving_worker_port(
    sock: socket.socket, metrics: GatewayMetrics, media: LocalMediaStore | None = None
) -> AsyncIterator[None]:
    """Serve the worker's own routes on ``sock`` (bound by the supervisor) for the block."""
    app = worker_port_app(metrics, media)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=CLOSE_SECONDS)
    await runner.setup()
    try:
        await web.SockSite(runner, sock).start()
        yield
    finally:
        await runner.cleanup()
