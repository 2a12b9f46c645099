"""HTTP routes of the Anthropic-compatible front: ``POST /v1/messages``.

A failure before any output is answered with its HTTP status in Anthropic's error shape; after
the stream started, as an ``error`` event.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fmgate.fronts.anthropic.endpoints import MESSAGES
from fmgate.fronts.pipeline import serve_api_request


async def messages(request: Request) -> Response:
    return await serve_api_request(request, MESSAGES)


ANTHROPIC_ROUTES = [Route("/v1/messages", messages, methods=["POST"])]
