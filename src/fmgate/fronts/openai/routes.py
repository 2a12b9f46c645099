"""HTTP routes of the OpenAI-compatible front.

``POST /v1/chat/completions`` and ``POST /v1/images/generations`` run the front pipeline
(:mod:`fmgate.fronts.openai.endpoints`); ``GET /v1/models`` and ``GET /v1/models/{model}`` list
the bots; the Responses API's routes are :mod:`fmgate.fronts.openai.responses_routes`. A
failure before any output is answered with its HTTP status in OpenAI's error shape;
after the stream started, as an error chunk.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fmgate.fronts.context import context_of
from fmgate.fronts.openai.endpoints import (
    CHAT_COMPLETIONS,
    IMAGE_GENERATIONS,
    caller_of,
    usage_for_caller,
)
from fmgate.fronts.openai.errors import OPENAI_ERRORS, unknown_model
from fmgate.fronts.openai.models import model_body, models_body
from fmgate.fronts.openai.responses_routes import RESPONSES_ROUTES
from fmgate.fronts.pipeline import Refusal, json_response, serve_api_request


async def chat_completions(request: Request) -> Response:
    return await serve_api_request(request, CHAT_COMPLETIONS, prepare=usage_for_caller)


async def image_generations(request: Request) -> Response:
    return await serve_api_request(request, IMAGE_GENERATIONS)


async def list_models(request: Request) -> Response:
    context = context_of(request)
    try:
        caller_of(request, context)
    except Refusal as refusal:
        return OPENAI_ERRORS.refusal(refusal)
    return json_response(models_body(context.registry))


async def get_model(request: Request) -> Response:
    context = context_of(request)
    name = request.path_params["model"]
    try:
        caller_of(request, context)
        deployed = context.registry.get(name)
        if deployed is None:
            raise unknown_model(name)
    except Refusal as refusal:
        return OPENAI_ERRORS.refusal(refusal)
    return json_response(model_body(deployed))


OPENAI_ROUTES = [
    Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    Route("/v1/images/generations", image_generations, methods=["POST"]),
    Route("/v1/models", list_models, methods=["GET"]),
    Route("/v1/models/{model}", get_model, methods=["GET"]),
    *RESPONSES_ROUTES,
]
