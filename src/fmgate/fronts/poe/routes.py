"""HTTP routes of the Poe front: ``POST /bot/<bot-name>`` for every deployed bot.

Our own Starlette route rather than ``fastapi_poe.make_app``: the registry can be swapped while
serving, keys are compared in constant time, malformed bodies get a 4xx instead of a 500, and
the SSE hot path is encoded directly. Request and response bodies follow fastapi_poe's types.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fmgate.accounting.tracker import RequestTracker
from fmgate.bots.registry import DeployedBot
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.bearer import bearer_token, key_matches
from fmgate.fronts.media_store import MediaUploader
from fmgate.fronts.poe import sse
from fmgate.fronts.poe.media import PoeMediaUploader
from fmgate.fronts.poe.parse import BadPoeRequest, parse_body, parse_query, to_bot_request
from fmgate.fronts.poe.stream import SseResponse, poe_event_stream
from fmgate.fronts.request_body import BodyTooLarge, BodyTooSlow, read_body
from fmgate.observability.logging import new_request_id
from fmgate.security.rate_limits import LimitExceeded, LimitKey, admitted_stream

if TYPE_CHECKING:
    from fmgate.server.gateway import Gateway

logger = logging.getLogger("fmgate.poe")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def poe_routes(
    current: Callable[[], Gateway], shutdown: ShutdownSignal | None = None
) -> list[Route]:
    """Routes that serve whatever gateway ``current()`` returns (set up by the app's lifespan).

    Streams still running when ``shutdown`` cuts them end with a retryable error and ``done``.
    """

    async def bot_endpoint(request: Request) -> Response:
        gateway = current()
        name = request.path_params["bot_name"]
        deployed = gateway.registry.get(name)
        if deployed is None:
            return _json_error(404, "Unknown bot")
        if not _authorized(deployed, request):
            return _json_error(401, "Invalid access key", {"WWW-Authenticate": "Bearer"})
        limits = gateway.settings.limits
        try:
            body = await read_body(request, gateway.max_request_bytes, limits.body_timeout_seconds)
            kind, data = parse_body(body)
        except BodyTooLarge:
            return _json_error(413, "Request body too large")
        except BodyTooSlow:
            return _json_error(408, "Request body not received in time")
        except ClientDisconnect:
            return Response(status_code=400)
        except BadPoeRequest as exc:
            return _json_error(exc.status, str(exc))
        if kind == "settings":
            return Response(gateway.settings_json(deployed), media_type="application/json")
        if kind != "query":
            return JSONResponse({})
        try:
            query = parse_query(data, limits)
        except BadPoeRequest as exc:
            return _json_error(exc.status, str(exc))
        request_id = new_request_id()
        tracker = RequestTracker(
            request_id=request_id,
            bot=deployed.config,
            front="poe",
            user_id=query.user_id,
            conversation_id=query.conversation_id,
            bot_query_id=query.bot_query_id,
        )
        uploader: MediaUploader | None = gateway.local_media
        if uploader is None and deployed.access_key:
            uploader = PoeMediaUploader(gateway.settings.poe.upload_base_url, deployed.access_key)
        bot_request = to_bot_request(query, request_id)
        stream = poe_event_stream(
            deployed.bot,
            bot_request,
            tracker,
            uploader,
            gateway.finish_request,
            gateway.cost_authorization(deployed, query.bot_query_id, bot_request.parameters),
            shutdown=shutdown,
        )
        stream = admitted_stream(gateway.limiter, LimitKey(query.user_id, name), stream, _refused)
        headers = {**SSE_HEADERS, "X-Request-Id": request_id}
        return SseResponse(gateway.bound_stream(tracker, stream), headers)

    async def bot_info(request: Request) -> Response:
        name = request.path_params["bot_name"]
        if current().registry.get(name) is None:
            return _json_error(404, "Unknown bot")
        return JSONResponse({"bot": name, "protocol": "poe", "method": "POST"})

    async def local_media(request: Request) -> Response:
        store = current().local_media
        media = store.get(request.path_params["token"]) if store is not None else None
        if media is None:
            return _json_error(404, "No such file")
        return Response(media.data, media_type=media.content_type)

    return [
        Route("/bot/{bot_name}", bot_endpoint, methods=["POST"]),
        Route("/bot/{bot_name}", bot_info, methods=["GET"]),
        Route("/media/{token}", local_media, methods=["GET"]),
    ]


def _authorized(deployed: DeployedBot, request: Request) -> bool:
    if deployed.access_key is None:
        return True  # served without a key: only with the explicit, loudly logged dev flag
    return key_matches(bearer_token(request.headers.get("authorization")), deployed.access_key)


def _refused(exceeded: LimitExceeded) -> bytes:
    """The whole Poe response for a request over the user's limits: retryable, clear."""
    return sse.META + sse.error(exceeded.user_message, allow_retry=True) + sse.DONE


def _json_error(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps({"detail": detail}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )
