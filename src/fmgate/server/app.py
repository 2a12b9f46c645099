"""The ASGI application: every front's routes and the operational ones over one gateway.

The gateway reaches the routes as request state (``request.state``, see
:mod:`fmgate.fronts.context`): the gateway, the Poe front's own state, the serving server's
shutdown signal and, in a worker of ``fmgate serve --workers N``, which worker this is.
:func:`create_app` opens the gateway in the ASGI lifespan (and closes it at shutdown);
:func:`build_app` serves one that is already open (tests, embedding). Either way the
app itself hands the state to each request (:class:`ServingState`) rather than relying on the
server to pass lifespan state along, which not every ASGI host does (httpx's ASGI transport
runs no lifespan; an embedding host may run the lifespan but drop its state).
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Mapping
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.types import ASGIApp, Receive, Scope, Send

from fmgate.config.catalog import Catalog
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.anthropic.routes import ANTHROPIC_ROUTES
from fmgate.fronts.openai.routes import OPENAI_ROUTES
from fmgate.fronts.poe.front import PoeFront
from fmgate.fronts.poe.routes import POE_ROUTES
from fmgate.server.gateway import Gateway, GatewayOptions
from fmgate.server.operational_routes import OPERATIONAL_ROUTES
from fmgate.server.reload import DEFAULT_POLL_SECONDS, CatalogReloader
from fmgate.server.worker_port import serving_worker_port
from fmgate.server.worker_slot import WorkerSlot

#: Poe, OpenAI, Anthropic, then ``/metrics``, ``/healthz``, ``/readyz`` and the status page.
ROUTES = [*POE_ROUTES, *OPENAI_ROUTES, *ANTHROPIC_ROUTES, *OPERATIONAL_ROUTES]


def serving_state(
    gateway: Gateway, shutdown: ShutdownSignal | None, worker: WorkerSlot | None = None
) -> dict[str, object]:
    """What every request finds in ``request.state``. ``shutdown`` (driven by
    :mod:`fmgate.server.serving`): readiness answers 503 while the server drains, and streams
    still running when it cuts end with a retryable error in their front's shape. ``worker``:
    which worker of several this process is (None: the only one)."""
    poe = PoeFront.create(gateway.settings.poe)
    gateway.resources.push_async_callback(poe.aclose)
    return {"gateway": gateway, "poe": poe, "shutdown": shutdown, "worker": worker}


class ServingState:
    """Hands ``state`` (filled by the time requests come) to every request."""

    def __init__(self, app: ASGIApp, state: Mapping[str, object]) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            scope["state"] = {**self.state, **scope.get("state", {})}
        await self.app(scope, receive, send)


def build_app(
    gateway: Gateway,
    *,
    shutdown: ShutdownSignal | None = None,
    worker: WorkerSlot | None = None,
) -> Starlette:
    """An app over an already-open gateway (tests, embedding)."""
    state = serving_state(gateway, shutdown, worker)
    return Starlette(routes=ROUTES, middleware=[Middleware(ServingState, state=state)])


def create_app(
    catalog: Catalog,
    options: GatewayOptions,
    *,
    catalog_path: Path | None = None,
    reload_interval: float = DEFAULT_POLL_SECONDS,
    shutdown: ShutdownSignal | None = None,
    worker: WorkerSlot | None = None,
    worker_socket: socket.socket | None = None,
) -> Starlette:
    """An app that opens its gateway in the ASGI lifespan and closes it at shutdown.

    With ``catalog_path`` (the file ``catalog`` was loaded from) the gateway follows the file:
    it polls it every ``reload_interval`` seconds (0: never) and reloads on SIGHUP. Closing the
    gateway at the end of the lifespan drains background accounting and closes the ledger.
    A worker of several (``worker``) also serves its own ``/metrics`` (and in development its
    generated media) on ``worker_socket`` while the lifespan runs (:mod:`.worker_port`).
    """

    state: dict[str, object] = {}

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with AsyncExitStack() as stack:
            gateway = await stack.enter_async_context(Gateway.open(catalog, options))
            if catalog_path is not None:
                reloader = CatalogReloader(gateway, catalog_path, poll_interval=reload_interval)
                await stack.enter_async_context(reloader.watching())
            if worker_socket is not None:
                await stack.enter_async_context(
                    serving_worker_port(worker_socket, gateway.metrics, gateway.local_media)
                )
            state.update(serving_state(gateway, shutdown, worker))
            try:
                yield
            finally:
                state.clear()

    middleware = [Middleware(ServingState, state=state)]
    return Starlette(routes=ROUTES, lifespan=lifespan, middleware=middleware)
