"""HTTP routes of the Anthropic-compatible front: ``POST /v1/messages`` and
``POST /v1/messages/count_tokens``.

A failure before any output is answered with its HTTP status in Anthropic's error shape; after
the stream started, as an ``error`` event.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fmgate.fronts.anthropic.endpoints import CountTokens, Messages
from fmgate.fronts.anthropic.parse import beta_flags
from fmgate.fronts.pipeline import serve_api_call, serve_api_request

BETA_HEADER = "anthropic-beta"


async def messages(request: Request) -> Response:
    betas = beta_flags(request.headers.getlist(BETA_HEADER))
    return await serve_api_request(request, Messages(betas))


async def count_tokens(request: Request) -> Response:
    betas = beta_flags(request.headers.getlist(BETA_HEADER))
    return await serve_api_call(request, CountTokens(betas))


ANTHROPIC_ROUTES = [
    Route("/v1/messages", messages, methods=["POST"]),
    Route("/v1/messages/count_tokens", count_tokens, methods=["POST"]),
]
