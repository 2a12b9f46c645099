"""``/metrics``, ``/healthz`` (liveness: 200 while the process serves), ``/readyz`` (readiness:
503 while the server drains or the process is saturated), the status page and its JSON.

With ``fmgate serve --workers N`` (N > 1) any worker may answer on the main port, so its
``/metrics`` answers 404 naming the per-worker ports (each worker is a scrape target of its own,
:mod:`fmgate.server.worker_port`) rather than one worker's numbers as if they were all.
"""

from __future__ import annotations

from typing import cast

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from fmgate.core.shutdown import ShutdownSignal
from fmgate.server.gateway import Gateway
from fmgate.server.status_page import bot_stats, render_status_page, status_rows, upstream_rows
from fmgate.server.worker_slot import WorkerSlot


def gateway_of(request: Request) -> Gateway:
    return cast(Gateway, request.state.gateway)


def worker_of(request: Request) -> WorkerSlot | None:
    return cast(WorkerSlot | None, request.state.worker)


async def metrics(request: Request) -> Response:
    worker = worker_of(request)
    if worker is not None and worker.count > 1:
        return PlainTextResponse(worker.describe() + "\n", status_code=404)
    body, content_type = gateway_of(request).metrics.render()
    return Response(body, media_type=content_type)


async def health(request: Request) -> Response:
    return JSONResponse({"status": "ok", "bots": len(gateway_of(request).registry)})


async def ready(request: Request) -> Response:
    shutdown = cast(ShutdownSignal | None, request.state.shutdown)
    if shutdown is not None and shutdown.draining:
        return JSONResponse({"status": "draining"}, status_code=503)
    gateway = gateway_of(request)
    saturation = gateway.overload.saturation()
    if saturation is not None:
        return JSONResponse({"status": "saturated", **saturation.as_json()}, status_code=503)
    return JSONResponse({"status": "ready", "bots": len(gateway.registry)})


async def status_page(request: Request) -> Response:
    gateway = gateway_of(request)
    dependencies = gateway.dependencies
    upstreams = await upstream_rows(dependencies.breakers, dependencies.limits)
    return HTMLResponse(
        render_status_page(
            gateway.registry, gateway.metrics.registry, upstreams, worker_of(request)
        ),
        headers={"Cache-Control": "no-store"},
    )


async def status_json(request: Request) -> Response:
    gateway = gateway_of(request)
    rows = status_rows(gateway.registry, bot_stats(gateway.metrics.registry))
    dependencies = gateway.dependencies
    upstreams = await upstream_rows(dependencies.breakers, dependencies.limits)
    worker = worker_of(request)
    return JSONResponse(
        {
            "service": "fmgate",
            "bots": rows,
            "upstreams": [row.as_json() for row in upstreams],
            "worker": worker.as_json() if worker is not None else None,
        }
    )


OPERATIONAL_ROUTES = [
    Route("/metrics", metrics, methods=["GET"]),
    Route("/healthz", health, methods=["GET"]),
    Route("/readyz", ready, methods=["GET"]),
    Route("/", status_page, methods=["GET"]),
    Route("/status.json", status_json, methods=["GET"]),
]
