"""The ASGI application: fronts and operational routes over one :class:`Gateway`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from fmgate.config.catalog import Catalog
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.anthropic.routes import anthropic_routes
from fmgate.fronts.openai.routes import openai_routes
from fmgate.fronts.poe.routes import poe_routes
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate.server.reload import DEFAULT_POLL_SECONDS, CatalogReloader
from fmgate.server.status_page import (
    bot_stats,
    render_status_page,
    status_rows,
    upstream_rows,
)


def operational_routes(
    current: Callable[[], Gateway], shutdown: ShutdownSignal | None = None
) -> list[Route]:
    """``/metrics``, ``/healthz`` (liveness: 200 while the process serves), ``/readyz``
    (readiness: 503 while the server drains), the status page and its JSON."""

    async def metrics(request: Request) -> Response:
        body, content_type = current().metrics.render()
        return Response(body, media_type=content_type)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "bots": len(current().registry)})

    async def ready(request: Request) -> Response:
        if shutdown is not None and shutdown.draining:
            return JSONResponse({"status": "draining"}, status_code=503)
        return JSONResponse({"status": "ready", "bots": len(current().registry)})

    async def status_page(request: Request) -> Response:
        gateway = current()
        services = gateway.services
        upstreams = await upstream_rows(services.breakers, services.limits)
        return HTMLResponse(
            render_status_page(gateway.registry, gateway.metrics.registry, upstreams),
            headers={"Cache-Control": "no-store"},
        )

    async def status_json(request: Request) -> Response:
        gateway = current()
        rows = status_rows(gateway.registry, bot_stats(gateway.metrics.registry))
        upstreams = await upstream_rows(gateway.services.breakers, gateway.services.limits)
        return JSONResponse(
            {
                "service": "fmgate",
                "bots": rows,
                "upstreams": [row.as_json() for row in upstreams],
            }
        )

    return [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/readyz", ready, methods=["GET"]),
        Route("/", status_page, methods=["GET"]),
        Route("/status.json", status_json, methods=["GET"]),
    ]


def all_routes(
    current: Callable[[], Gateway], shutdown: ShutdownSignal | None = None
) -> list[Route]:
    """Every front's routes (Poe, OpenAI, Anthropic) and the operational ones.

    ``shutdown`` (driven by ``fmgate.server.serving``): readiness answers 503 while the server
    drains, and streams still running when it cuts end with a retryable error in their front's shape
    (Poe: an error event and ``done``; OpenAI: an error chunk and ``[DONE]``; Anthropic: an
    ``error`` event).
    """
    return [
        *poe_routes(current, shutdown),
        *openai_routes(current, shutdown),
        *anthropic_routes(current, shutdown),
        *operational_routes(current, shutdown),
    ]


def build_app(gateway: Gateway, *, shutdown: ShutdownSignal | None = None) -> Starlette:
    """An app over an already-open gateway (tests, embedding)."""

    def current() -> Gateway:
        return gateway

    return Starlette(routes=all_routes(current, shutdown))


def create_app(
    catalog: Catalog,
    options: GatewayOptions,
    *,
    catalog_path: Path | None = None,
    reload_interval: float = DEFAULT_POLL_SECONDS,
    shutdown: ShutdownSignal | None = None,
) -> Starlette:
    """An app that opens its gateway in the ASGI lifespan and closes it at shutdown.

    With ``catalog_path`` (the file ``catalog`` was loaded from) the gateway follows the file:
    it polls it every ``reload_interval`` seconds (0: never) and reloads on SIGHUP.
    ``shutdown`` is the serving server's signal (see :func:`all_routes`); closing the gateway
    at the end of the lifespan drains background accounting and closes the usage ledger.
    """
    holder: list[Gateway] = []

    def current() -> Gateway:
        return holder[0]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            gateway = await stack.enter_async_context(Gateway.open(catalog, options))
            if catalog_path is not None:
                reloader = CatalogReloader(gateway, catalog_path, poll_interval=reload_interval)
                await stack.enter_async_context(reloader.watching())
            holder.append(gateway)
            try:
                yield
            finally:
                holder.clear()

    return Starlette(routes=all_routes(current, shutdown), lifespan=lifespan)
