"""HTTP routes of the Anthropic-compatible front: ``POST /v1/messages``.

Callers present a virtual API key as ``x-api-key`` (or ``Authorization: Bearer``). A failure
before any output is answered with its HTTP status in Anthropic's error shape; after the stream
started, as an ``error`` event.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from fmgate.accounting.tracker import RequestTracker
from fmgate.core.errors import GatewayError
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.anthropic.errors import error_response, gateway_error_response
from fmgate.fronts.anthropic.message import whole_message_body
from fmgate.fronts.anthropic.parse import BadRequest, parse_messages_request, to_bot_request
from fmgate.fronts.anthropic.stream import MessageStreamWriter, message_events
from fmgate.fronts.bearer import bearer_token
from fmgate.fronts.request_body import BadJson, BodyTooLarge, BodyTooSlow, read_json_object
from fmgate.fronts.tracked_events import collected, opened, tracked_events
from fmgate.observability.logging import bind_request_context, new_request_id
from fmgate.security.rate_limits import LimitExceeded, LimitKey

if TYPE_CHECKING:
    from fmgate.server.gateway import Gateway

FRONT = "anthropic"
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def presented_key(request: Request) -> str | None:
    return request.headers.get("x-api-key") or bearer_token(request.headers.get("authorization"))


def anthropic_routes(
    current: Callable[[], Gateway], shutdown: ShutdownSignal | None = None
) -> list[Route]:
    """Routes that serve whatever gateway ``current()`` returns (streams still running when
    ``shutdown`` cuts them end with a retryable error event)."""

    async def messages(request: Request) -> Response:
        gateway = current()
        caller = gateway.api_keys.caller(presented_key(request))
        if caller is None:
            return error_response(401, "invalid x-api-key")
        try:
            time_limit = gateway.settings.limits.body_timeout_seconds
            data = await read_json_object(request, gateway.max_request_bytes, time_limit)
            body = parse_messages_request(data)
            bot_request = to_bot_request(body, new_request_id(), caller)
        except BodyTooLarge:
            return error_response(413, "The request body is too large.")
        except BodyTooSlow:
            return error_response(408, "The request body did not arrive in time.")
        except ClientDisconnect:
            return Response(status_code=400)
        except (BadJson, BadRequest) as exc:
            return error_response(400, str(exc))
        deployed = gateway.registry.get(body.model)
        if deployed is None:
            return error_response(404, f"model: {body.model[:100]}")
        if deployed.config.kind != "chat":
            return error_response(400, f"model: {body.model} is not a chat model")
        request_id = bot_request.request_id
        bind_request_context(request_id, body.model, caller)
        admission = await gateway.limiter.admit(LimitKey(caller, deployed.config.bot_name))
        if isinstance(admission, LimitExceeded):
            wait = str(admission.retry_after_whole_seconds)
            return error_response(
                429, admission.user_message, request_id, headers={"retry-after": wait}
            )
        tracker = RequestTracker(
            request_id=request_id, bot=deployed.config, front=FRONT, user_id=caller
        )
        events = tracked_events(
            deployed.bot, bot_request, tracker, gateway.finish_request, shutdown, admission
        )
        try:
            if body.stream:
                stream = await opened(events)
                writer = MessageStreamWriter(request_id, body.model)
                return StreamingResponse(
                    gateway.bound_stream(tracker, message_events(stream, writer)),
                    media_type="text/event-stream",
                    headers={**SSE_HEADERS, "request-id": request_id},
                )
            answer = await collected(events, gateway.metrics, body.model)
        except GatewayError as error:
            return gateway_error_response(error, request_id)
        return Response(
            orjson.dumps(whole_message_body(request_id, body.model, answer)),
            media_type="application/json",
            headers={"request-id": request_id},
        )

    return [Route("/v1/messages", messages, methods=["POST"])]
