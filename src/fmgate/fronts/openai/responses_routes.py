"""HTTP routes of the Responses API: ``POST /v1/responses`` (the front pipeline, see
:mod:`fmgate.fronts.openai.responses_endpoint`), and ``GET`` / ``DELETE /v1/responses/{id}`` on
the caller's own stored responses: another caller's id, an expired or a deleted one is a 404, as
an id that never existed.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from fmgate.fronts.context import context_of
from fmgate.fronts.openai.endpoints import caller_of
from fmgate.fronts.openai.errors import OPENAI_ERRORS
from fmgate.fronts.openai.parse import BadRequest
from fmgate.fronts.openai.responses_endpoint import RESPONSES_CREATE, prepare
from fmgate.fronts.openai.responses_storage import ResponseArchive
from fmgate.fronts.pipeline import Refusal, json_response, serve_api_request


def not_found(response_id: str) -> Refusal:
    return Refusal(404, f"Response with id '{response_id[:100]}' not found.", "response_not_found")


def caller_archive(request: Request) -> ResponseArchive:
    context = context_of(request)
    return ResponseArchive(context.documents, caller_of(request, context))


async def create_response(request: Request) -> Response:
    return await serve_api_request(request, RESPONSES_CREATE, prepare=prepare)


async def retrieve_response(request: Request) -> Response:
    response_id = request.path_params["response_id"]
    try:
        archive = caller_archive(request)
        if request.query_params.get("stream", "false").lower() not in ("false", "0"):
            raise BadRequest("Streaming a stored response again is not supported.", "stream")
        stored = await archive.load(response_id)
        if stored is None:
            raise not_found(response_id)
    except Refusal as refusal:
        return OPENAI_ERRORS.refusal(refusal)
    return json_response(stored.response)


async def delete_response(request: Request) -> Response:
    response_id = request.path_params["response_id"]
    try:
        if not await caller_archive(request).delete(response_id):
            raise not_found(response_id)
    except Refusal as refusal:
        return OPENAI_ERRORS.refusal(refusal)
    return json_response({"id": response_id, "object": "response", "deleted": True})


RESPONSES_ROUTES = [
    Route("/v1/responses", create_response, methods=["POST"]),
    Route("/v1/responses/{response_id}", retrieve_response, methods=["GET"]),
    Route("/v1/responses/{response_id}", delete_response, methods=["DELETE"]),
]
