"""HTTP routes of the Poe front: ``POST /bot/<bot-name>`` for every deployed bot.

Our own Starlette route rather than ``fastapi_poe.make_app``: the registry can be swapped while
serving, keys are compared in constant time, malformed bodies get a 4xx instead of a 500, and
the SSE hot path is encoded directly. Request and response bodies follow fastapi_poe's types.

A query reads top to bottom: a saturated process refuses it at once (a retryable ``error``
event, before anything else is read), the bot by its path, its access key, the body (the
pipeline's size cap and time limit), the request type (``settings`` and ``report_*`` answered
at once), the query, then the answer: a Poe SSE stream on the pipeline's tracked events,
admitted under the user's limits, charged through Poe's cost API with the served bot's key.
"""

from __future__ import annotations

import logging
import time
from typing import cast

import fastapi_poe as fp
import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from fmgate.bots.registry import DeployedBot
from fmgate.config.bot_config import ChatBotConfig
from fmgate.core.errors import InvalidRequest
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.bearer import bearer_token, key_matches
from fmgate.fronts.context import FrontContext, context_of, shutdown_of
from fmgate.fronts.media_store import MediaUploader
from fmgate.fronts.pipeline import (
    OVERLOADED_MESSAGE,
    Refusal,
    in_flight,
    read_body,
    start_request,
)
from fmgate.fronts.poe import sse
from fmgate.fronts.poe.charges import cost_authorization, cost_capture
from fmgate.fronts.poe.conversation import BotIdentity, PoeConversation, read_conversation
from fmgate.fronts.poe.errors import poe_error_type
from fmgate.fronts.poe.front import PoeFront
from fmgate.fronts.poe.media import PoeMediaUploader
from fmgate.fronts.poe.parse import BadPoeRequest, parse_body, parse_query
from fmgate.fronts.poe.stream import Rendering, poe_event_stream
from fmgate.fronts.poe.tool_chunks import ToolCallChunks
from fmgate.fronts.poe.tools import refuse_unusable_tools
from fmgate.fronts.poe.turn_recorder import TurnRecorder
from fmgate.fronts.sse_response import SseResponse
from fmgate.observability.logging import new_request_id
from fmgate.security.rate_limits import LimitExceeded, LimitKey, admitted_stream

logger = logging.getLogger("fmgate.poe")

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
FRONT = "poe"


def poe_front_of(request: Request) -> PoeFront:
    """The Poe front's own state, from the lifespan state."""
    return cast(PoeFront, request.state.poe)


async def bot_endpoint(request: Request) -> Response:
    arrived = time.perf_counter()
    context = context_of(request)
    if context.overload.check(FRONT) is not None:
        return Response(OVERLOADED, media_type="text/event-stream", headers=SSE_HEADERS)
    registry = context.registry
    deployed = registry.get(request.path_params["bot_name"])
    if deployed is None:
        return json_error(404, "Unknown bot")
    if not authorized(deployed, request):
        return json_error(401, "Invalid access key", {"WWW-Authenticate": "Bearer"})
    try:
        kind, data = parse_body(await read_body(request, context))
        if kind == "settings":
            settings = poe_front_of(request).settings_json(registry, deployed)
            return Response(settings, media_type="application/json")
        if kind != "query":
            return JSONResponse({})
        refuse_unusable_tools(data)
        query = parse_query(data, context.limits)
    except Refusal as refusal:
        return json_error(refusal.status, refusal.message)
    except BadPoeRequest as exc:
        return json_error(exc.status, str(exc))
    except InvalidRequest as refused_query:
        return query_refused(refused_query)
    try:
        conversation = read_conversation(query, new_request_id(), data, bot_identity(deployed))
    except InvalidRequest as refused_query:
        return query_refused(refused_query)
    poe = poe_front_of(request)
    return answer(context, poe, deployed, query, conversation, shutdown_of(request), arrived)


def bot_identity(deployed: DeployedBot) -> BotIdentity:
    """Whose message states a query may bring back: this bot's, of its targets' models."""
    config = deployed.config
    fallbacks = config.fallbacks if isinstance(config, ChatBotConfig) else ()
    return BotIdentity(
        config.bot_name, {config.model_id, *(f.model_id or config.model_id for f in fallbacks)}
    )


def answer(
    context: FrontContext,
    poe: PoeFront,
    deployed: DeployedBot,
    query: fp.QueryRequest,
    conversation: PoeConversation,
    shutdown: ShutdownSignal | None,
    arrived: float | None = None,
) -> Response:
    """The SSE answer to one query (``arrived``: ``perf_counter`` when it reached the front)."""
    bot_request = conversation.request
    capture = cost_capture(poe.cost, deployed.access_key, query.bot_query_id)
    running = start_request(
        context,
        deployed,
        bot_request,
        FRONT,
        hooks=(capture,) if capture is not None else (),
        before=cost_authorization(poe.cost, deployed, query.bot_query_id, bot_request.parameters),
        shutdown=shutdown,
        arrived=arrived,
    )
    config = deployed.config
    rendering = Rendering(
        ToolCallChunks(bot_request.request_id, config.bot_name),
        TurnRecorder(
            config.bot_name, config.model_id, conversation.carried, conversation.carried_model
        ),
    )
    stream = poe_event_stream(
        running.events, running.tracker, uploader(context, poe, deployed), rendering
    )
    key = LimitKey(query.user_id, deployed.config.bot_name)
    stream = admitted_stream(context.limiter, key, stream, refused)
    headers = {**SSE_HEADERS, "X-Request-Id": bot_request.request_id}
    return SseResponse(in_flight(running.tracker, stream), headers)


def uploader(context: FrontContext, poe: PoeFront, deployed: DeployedBot) -> MediaUploader | None:
    """Where generated files go: the dev store, else Poe's upload API with the bot's key."""
    if context.local_media is not None:
        return context.local_media
    if deployed.access_key:
        return PoeMediaUploader(poe.upload_base_url, deployed.access_key)
    return None


async def bot_info(request: Request) -> Response:
    name = request.path_params["bot_name"]
    if context_of(request).registry.get(name) is None:
        return json_error(404, "Unknown bot")
    return JSONResponse({"bot": name, "protocol": "poe", "method": "POST"})


async def local_media(request: Request) -> Response:
    store = context_of(request).local_media
    media = store.get(request.path_params["token"]) if store is not None else None
    if media is None:
        return json_error(404, "No such file")
    return Response(media.data, media_type=media.content_type)


def authorized(deployed: DeployedBot, request: Request) -> bool:
    if deployed.access_key is None:
        return True  # served without a key: only with the explicit, loudly logged dev flag
    return key_matches(bearer_token(request.headers.get("authorization")), deployed.access_key)


def query_refused(error: InvalidRequest) -> Response:
    """A query the bot cannot take as sent (offered tools it cannot use, ...): an ``error``
    event saying why, not retryable, before any Bedrock call."""
    body = sse.error(error.user_message, allow_retry=False, error_type=poe_error_type(error))
    return Response(sse.META + body + sse.DONE, media_type="text/event-stream", headers=SSE_HEADERS)


def refused(exceeded: LimitExceeded) -> bytes:
    """The whole Poe response for a request over the user's limits: retryable, clear."""
    return sse.META + sse.error(exceeded.user_message, allow_retry=True) + sse.DONE


#: The whole Poe response while the process is saturated: retryable, so Poe tries again
#: (elsewhere, or later). Sent whatever the request was: its body is not read.
OVERLOADED = sse.META + sse.error(OVERLOADED_MESSAGE, allow_retry=True) + sse.DONE


def json_error(status: int, detail: str, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps({"detail": detail}),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


POE_ROUTES = [
    Route("/bot/{bot_name}", bot_endpoint, methods=["POST"]),
    Route("/bot/{bot_name}", bot_info, methods=["GET"]),
    Route("/media/{token}", local_media, methods=["GET"]),
]
