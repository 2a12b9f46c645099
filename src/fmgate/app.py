"""The ASGI application: fronts and operational routes over one :class:`Gateway`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fmgate.config.schema import Catalog
from fmgate.fronts.anthropic.routes import anthropic_routes
from fmgate.fronts.openai.routes import openai_routes
from fmgate.fronts.poe.routes import poe_routes
from fmgate.gateway import Gateway, GatewayOptions


def operational_routes(current: Callable[[], Gateway]) -> list[Route]:
    async def metrics(request: Request) -> Response:
        body, content_type = current().metrics.render()
        return Response(body, media_type=content_type)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok", "bots": len(current().registry)})

    async def index(request: Request) -> Response:
        gateway = current()
        return JSONResponse(
            {
                "service": "fmgate",
                "bots": [
                    {
                        "bot": d.config.bot_name,
                        "kind": d.config.kind,
                        "model_id": d.config.model_id,
                        "path": f"/bot/{d.config.bot_name}",
                    }
                    for d in gateway.registry
                ],
            }
        )

    return [
        Route("/metrics", metrics, methods=["GET"]),
        Route("/healthz", health, methods=["GET"]),
        Route("/", index, methods=["GET"]),
    ]


def all_routes(current: Callable[[], Gateway]) -> list[Route]:
    """Every front's routes (Poe, OpenAI, Anthropic) and the operational ones."""
    return [
        *poe_routes(current),
        *openai_routes(current),
        *anthropic_routes(current),
        *operational_routes(current),
    ]


def build_app(gateway: Gateway) -> Starlette:
    """An app over an already-open gateway (tests, embedding)."""

    def current() -> Gateway:
        return gateway

    return Starlette(routes=all_routes(current))


def create_app(catalog: Catalog, options: GatewayOptions) -> Starlette:
    """An app that opens its gateway in the ASGI lifespan and closes it at shutdown."""
    holder: list[Gateway] = []

    def current() -> Gateway:
        return holder[0]

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with Gateway.open(catalog, options) as gateway:
            holder.append(gateway)
            try:
                yield
            finally:
                holder.clear()

    return Starlette(routes=all_routes(current), lifespan=lifespan)
