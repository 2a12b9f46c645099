"""HTTP routes of the OpenAI-compatible front.

``POST /v1/chat/completions`` (chat bots; streamed or whole), ``GET /v1/models``,
``GET /v1/models/{model}`` and ``POST /v1/images/generations`` (image bots). Callers present a
virtual API key as ``Authorization: Bearer <key>``. A failure before any output is answered
with its HTTP status in OpenAI's error shape; after the stream started, as an error chunk.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from fmgate.accounting.tracker import RequestTracker
from fmgate.bots.registry import DeployedBot
from fmgate.config.bot_config import ImageBotConfig
from fmgate.core.bot_request import BotRequest
from fmgate.core.errors import GatewayError
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.bearer import bearer_token
from fmgate.fronts.openai.chunks import ChunkWriter, completion_chunks
from fmgate.fronts.openai.completion import completion_body
from fmgate.fronts.openai.errors import (
    error_response,
    gateway_error_response,
    invalid_api_key,
    unknown_model,
)
from fmgate.fronts.openai.images import images_body, parse_image_request, to_image_bot_request
from fmgate.fronts.openai.models import model_body, models_body
from fmgate.fronts.openai.parse import BadRequest, parse_chat_request, to_bot_request
from fmgate.fronts.request_body import BadJson, BodyTooLarge, BodyTooSlow, read_json_object
from fmgate.fronts.tracked_events import collected, opened, tracked_events
from fmgate.observability.logging import bind_request_context, new_request_id
from fmgate.security.rate_limits import Lease, LimitExceeded, LimitKey

if TYPE_CHECKING:
    from fmgate.server.gateway import Gateway

FRONT = "openai"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def json_response(body: dict[str, object], request_id: str | None = None) -> Response:
    headers = {"X-Request-Id": request_id} if request_id else None
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)


def wrong_kind(deployed: DeployedBot, endpoint: str) -> Response:
    config = deployed.config
    return error_response(
        400,
        f"`{config.bot_name}` is a {config.kind} model; it is not served by {endpoint}.",
        "unsupported_model",
        param="model",
    )


class Refused(Exception):
    """A request answered with an error before any bot runs; carries the response."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def read_request(gateway: Gateway, request: Request) -> tuple[str, dict[str, object]]:
    """The caller (by API key) and the JSON body, or :class:`Refused`."""
    caller = gateway.api_keys.caller(bearer_token(request.headers.get("authorization")))
    if caller is None:
        raise Refused(invalid_api_key())
    try:
        time_limit = gateway.settings.limits.body_timeout_seconds
        return caller, await read_json_object(request, gateway.max_request_bytes, time_limit)
    except BodyTooLarge:
        too_large = error_response(413, "The request body is too large.", "request_too_large")
        raise Refused(too_large) from None
    except BodyTooSlow:
        too_slow = error_response(408, "The request body did not arrive in time.", "timeout")
        raise Refused(too_slow) from None
    except ClientDisconnect:
        raise Refused(Response(status_code=400)) from None
    except BadJson as exc:
        raise Refused(error_response(400, str(exc), "invalid_json")) from None


def bot_for(gateway: Gateway, model: str, kind: str, endpoint: str) -> DeployedBot:
    deployed = gateway.registry.get(model)
    if deployed is None:
        raise Refused(unknown_model(model))
    if deployed.config.kind != kind:
        raise Refused(wrong_kind(deployed, endpoint))
    return deployed


async def admitted(gateway: Gateway, caller: str, deployed: DeployedBot) -> Lease:
    """The caller's slot under ``gateway.limits`` (per caller and bot), or :class:`Refused`
    with a 429 and ``Retry-After``."""
    admission = await gateway.limiter.admit(LimitKey(caller, deployed.config.bot_name))
    if isinstance(admission, LimitExceeded):
        refusal = error_response(
            429,
            admission.user_message,
            "rate_limit_exceeded",
            headers={"Retry-After": str(admission.retry_after_whole_seconds)},
        )
        raise Refused(refusal)
    return admission


def bad_request(exc: BadRequest) -> Refused:
    return Refused(error_response(400, exc.message, "invalid_request", param=exc.param))


def tracker_for(deployed: DeployedBot, request: BotRequest) -> RequestTracker:
    bind_request_context(request.request_id, deployed.config.bot_name, request.user_id)
    return RequestTracker(
        request_id=request.request_id, bot=deployed.config, front=FRONT, user_id=request.user_id
    )


def openai_routes(
    current: Callable[[], Gateway], shutdown: ShutdownSignal | None = None
) -> list[Route]:
    """Routes that serve whatever gateway ``current()`` returns (streams still running when
    ``shutdown`` cuts them end with a retryable error chunk)."""

    async def chat_completions(request: Request) -> Response:
        gateway = current()
        try:
            caller, data = await read_request(gateway, request)
            body = parse_chat_request(data)
            deployed = bot_for(gateway, body.model, "chat", "/v1/chat/completions")
            bot_request = to_bot_request(body, new_request_id(), caller)
            lease = await admitted(gateway, caller, deployed)
        except Refused as refused:
            return refused.response
        except BadRequest as exc:
            return bad_request(exc).response
        tracker = tracker_for(deployed, bot_request)
        events = tracked_events(
            deployed.bot, bot_request, tracker, gateway.finish_request, shutdown, lease
        )
        request_id = bot_request.request_id
        try:
            if body.stream:
                stream = await opened(events)
                writer = ChunkWriter(request_id, body.model, body.include_usage)
                chunks = completion_chunks(stream, writer)
                return StreamingResponse(
                    gateway.bound_stream(tracker, chunks),
                    media_type="text/event-stream",
                    headers={**SSE_HEADERS, "X-Request-Id": request_id},
                )
            answer = await collected(events, gateway.metrics, body.model)
        except GatewayError as error:
            return gateway_error_response(error, request_id)
        return json_response(completion_body(request_id, body.model, answer), request_id)

    async def image_generations(request: Request) -> Response:
        gateway = current()
        try:
            caller, data = await read_request(gateway, request)
            body = parse_image_request(data)
            deployed = bot_for(gateway, body.model, "image", "/v1/images/generations")
            config = deployed.config
            ratios = config.image.aspect_ratios if isinstance(config, ImageBotConfig) else ()
            bot_request = to_image_bot_request(body, new_request_id(), caller, ratios)
            lease = await admitted(gateway, caller, deployed)
        except Refused as refused:
            return refused.response
        except BadRequest as exc:
            return bad_request(exc).response
        tracker = tracker_for(deployed, bot_request)
        events = tracked_events(
            deployed.bot, bot_request, tracker, gateway.finish_request, shutdown, lease
        )
        try:
            answer = await collected(events, gateway.metrics, body.model)
            result = await images_body(answer, body.response_format, gateway.local_media)
        except GatewayError as error:
            return gateway_error_response(error, bot_request.request_id)
        except BadRequest as exc:
            return bad_request(exc).response
        return json_response(result, bot_request.request_id)

    async def list_models(request: Request) -> Response:
        gateway = current()
        if gateway.api_keys.caller(bearer_token(request.headers.get("authorization"))) is None:
            return invalid_api_key()
        return json_response(models_body(gateway.registry))

    async def get_model(request: Request) -> Response:
        gateway = current()
        if gateway.api_keys.caller(bearer_token(request.headers.get("authorization"))) is None:
            return invalid_api_key()
        name = request.path_params["model"]
        deployed = gateway.registry.get(name)
        if deployed is None:
            return unknown_model(name)
        return json_response(model_body(deployed))

    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/images/generations", image_generations, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
        Route("/v1/models/{model}", get_model, methods=["GET"]),
    ]
