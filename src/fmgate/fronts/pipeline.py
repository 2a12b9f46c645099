"""The request pipeline every front runs, top to bottom:

    refuse at once if this process is saturated (``gateway.overload``)
      ->  read the body (size cap, time limit)  ->  the front parses it  ->  look up the bot
      ->  admit the caller (per-caller limits)  ->  track the request  ->  the bot's events
      ->  the front renders them: a stream, or one whole answer

A front supplies what is its own: how it authenticates, parses and renders, and its error shape
(:class:`ErrorShape`). Anything that stops a request before the bot runs is a :class:`Refusal`
(status, message, code), mapped here once for the body and the limits; each front draws it in
its API's error body, and the overload refusal as its API's own overload answer
(:meth:`ErrorShape.overloaded`). After the bot started, a
:class:`~fmgate.core.errors.GatewayError` before the first output is still answered with its
HTTP status; after that it becomes the front's error event (see
:mod:`fmgate.fronts.tracked_events`, which also finishes each request exactly once).

An endpoint answered by one call on a bot instead of its events (:class:`ApiCall`: Anthropic's
count_tokens) runs the same steps up to the admission, then its call, holding the caller's slot
while it runs (:func:`serve_api_call`).
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

import orjson
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from fmgate.accounting.finisher import FinishHook
from fmgate.accounting.tracker import RequestTracker
from fmgate.bots.registry import DeployedBot
from fmgate.core.bot_request import BotRequest
from fmgate.core.errors import GatewayError
from fmgate.core.events import Event
from fmgate.core.shutdown import ShutdownSignal
from fmgate.fronts.context import FrontContext, context_of, shutdown_of
from fmgate.fronts.request_body import BadJson, BodyTooLarge, BodyTooSlow, decode_json_object
from fmgate.fronts.request_body import read_body as read_capped_body
from fmgate.fronts.sse_response import SseResponse
from fmgate.fronts.structured_output import structured_output_headers
from fmgate.fronts.tracked_events import collected, opened, tracked_events
from fmgate.observability.logging import bind_request_context, new_request_id
from fmgate.observability.overhead import RequestClock, bind_clock
from fmgate.resilience.overload import OverloadGuard
from fmgate.security.rate_limits import Lease, Limiter, LimitExceeded, LimitKey

SSE_HEADERS: Mapping[str, str] = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


class Refusal(Exception):
    """A request answered with an error before any bot runs."""

    def __init__(
        self,
        status: int,
        message: str,
        code: str,
        *,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.code = code
        self.param = param
        self.headers = headers


class ErrorShape(Protocol):
    """How a front's API shows errors."""

    def refusal(self, refusal: Refusal) -> Response: ...

    def overloaded(self, refusal: Refusal) -> Response:
        """The API's own "overloaded, retry later" answer for :func:`overload_refusal`."""

    def gateway_error(self, error: GatewayError, request_id: str) -> Response: ...


#: What a caller refused by a saturated process is told (Poe's error text too).
OVERLOADED_MESSAGE = "The server is overloaded right now; please try again in a moment."


def overload_refusal(overload: OverloadGuard, front: str) -> Refusal | None:
    """The refusal of a new request while this process is saturated, else None.

    Asked first, before the body is read: a saturated process spends nothing more on the
    request. The answer is retryable: ``Retry-After`` and ``x-should-retry: true`` (which the
    OpenAI and Anthropic SDKs obey).
    """
    if overload.check(front) is None:
        return None
    headers = {"Retry-After": str(overload.retry_after_seconds), "x-should-retry": "true"}
    return Refusal(503, OVERLOADED_MESSAGE, "overloaded", headers=headers)


async def read_body(request: Request, context: FrontContext) -> bytes:
    """The raw body within ``gateway.limits``, or the :class:`Refusal` that says why not."""
    try:
        return await read_capped_body(
            request, context.max_request_bytes, context.limits.body_timeout_seconds
        )
    except BodyTooLarge:
        raise Refusal(413, "The request body is too large.", "request_too_large") from None
    except BodyTooSlow:
        raise Refusal(408, "The request body did not arrive in time.", "timeout") from None
    except ClientDisconnect:
        raise Refusal(400, "The request body was not received.", "client_disconnected") from None


async def read_json(request: Request, context: FrontContext) -> dict[str, object]:
    """The body as a JSON object, or a :class:`Refusal`."""
    body = await read_body(request, context)
    try:
        return decode_json_object(body)
    except BadJson as exc:
        raise Refusal(400, str(exc), "invalid_json") from None


async def admit(limiter: Limiter, caller: str, bot_name: str) -> Lease:
    """The caller's slot on this bot under ``gateway.limits``, or a 429 with ``Retry-After``."""
    admission = await limiter.admit(LimitKey(caller, bot_name))
    if isinstance(admission, LimitExceeded):
        wait = str(admission.retry_after_whole_seconds)
        raise Refusal(
            429, admission.user_message, "rate_limit_exceeded", headers={"Retry-After": wait}
        )
    return admission


@dataclass(frozen=True, slots=True)
class RunningRequest:
    """A request handed to its bot: the tracked event stream a front renders."""

    request: BotRequest
    tracker: RequestTracker
    events: AsyncGenerator[Event, None]


def start_request(
    context: FrontContext,
    deployed: DeployedBot,
    request: BotRequest,
    front: str,
    *,
    lease: Lease | None = None,
    hooks: Sequence[FinishHook] = (),
    before: Callable[[], Awaitable[None]] | None = None,
    shutdown: ShutdownSignal | None = None,
    arrived: float | None = None,
) -> RunningRequest:
    """Track ``request`` on ``deployed``'s bot; accounting (with the front's ``hooks``) runs
    once when it ends, however it ends. ``before`` runs ahead of the bot (Poe's cost
    authorization), inside the tracking. ``arrived`` (``perf_counter``) is when the request
    reached the front, for the gateway's own time (default: now).

    From the bot's start to its end the request counts as in flight: the per-bot gauge, and
    the open streams ``gateway.overload.max_streams`` caps.
    """
    bot_name = deployed.config.bot_name
    bind_request_context(request.request_id, bot_name, request.user_id)
    tracker = RequestTracker(
        request_id=request.request_id,
        bot=deployed.config,
        front=front,
        user_id=request.user_id,
        conversation_id=request.conversation_id,
        clock=RequestClock(arrived),
    )
    bind_clock(tracker.clock)

    def start() -> None:
        context.overload.stream_opened()
        context.metrics.request_started(bot_name)

    def finish(ended: RequestTracker) -> None:
        context.overload.stream_closed()
        context.metrics.request_ended(bot_name)
        context.finisher.finish(ended, hooks)

    events = tracked_events(
        deployed.bot, request, tracker, finish, shutdown, lease=lease, before=before, on_start=start
    )
    return RunningRequest(request=request, tracker=tracker, events=events)


async def in_flight(tracker: RequestTracker, stream: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """A response stream with the request's ids bound to its log lines and its clock to its
    Bedrock calls (the response may run in a task of its own)."""
    bind_request_context(tracker.request_id, tracker.bot.bot_name, tracker.user_id)
    bind_clock(tracker.clock)
    async for chunk in stream:
        yield chunk


Body = TypeVar("Body")

#: Renders a streamed response body from a request's opened events (the first output is in).
StreamRenderer = Callable[[RunningRequest, AsyncGenerator[Event, None]], AsyncIterator[bytes]]


class ApiFront(Protocol, Generic[Body]):
    """What every endpoint of a compatible API has: its front, error shape, caller, body, bot."""

    @property
    def front(self) -> str:
        """The front's name in metrics and the ledger."""

    @property
    def errors(self) -> ErrorShape: ...

    @property
    def request_id_header(self) -> str:
        """The response header that carries the request id."""

    def caller(self, request: Request, context: FrontContext) -> str:
        """The authenticated caller, or a 401 :class:`Refusal`."""

    def parse(self, data: dict[str, object]) -> Body:
        """The request body, or a 400 :class:`Refusal`."""

    def bot(self, context: FrontContext, body: Body) -> DeployedBot:
        """The bot the body names, or a 404/400 :class:`Refusal`."""


class ApiEndpoint(ApiFront[Body], Protocol):
    """One endpoint of a compatible API answered by a bot's events (OpenAI chat completions,
    Anthropic messages...)."""

    def bot_request(
        self, body: Body, deployed: DeployedBot, request_id: str, caller: str
    ) -> BotRequest: ...

    def stream_renderer(self, body: Body) -> StreamRenderer | None:
        """How to stream the answer, or None when it is answered whole."""

    async def whole(
        self, body: Body, running: RunningRequest, answer: list[Event], context: FrontContext
    ) -> dict[str, object]:
        """The whole response body (may raise a :class:`Refusal`)."""


class ApiCall(ApiFront[Body], Protocol):
    """An endpoint of a compatible API answered by one call on a bot rather than its events
    (Anthropic's count_tokens): no ledger row, no stream."""

    async def answer(
        self, body: Body, deployed: DeployedBot, request_id: str, caller: str
    ) -> dict[str, object]:
        """The response body (may raise a :class:`Refusal` or a ``GatewayError``)."""


async def addressed(
    request: Request, endpoint: ApiFront[Body], context: FrontContext
) -> tuple[str, Body, DeployedBot]:
    """The caller, the body and the bot it names, or the :class:`Refusal` that says why not."""
    caller = endpoint.caller(request, context)
    body = endpoint.parse(await read_json(request, context))
    return caller, body, endpoint.bot(context, body)


async def serve_api_call(request: Request, endpoint: ApiCall[Body]) -> Response:
    """Answer one call of a compatible API: the pipeline's refusals and per-caller limits, then
    the endpoint's answer; errors in the API's shape."""
    context = context_of(request)
    overloaded = overload_refusal(context.overload, endpoint.front)
    if overloaded is not None:
        return endpoint.errors.overloaded(overloaded)
    request_id = new_request_id()
    try:
        caller, body, deployed = await addressed(request, endpoint, context)
        lease = await admit(context.limiter, caller, deployed.config.bot_name)
    except Refusal as refusal:
        return endpoint.errors.refusal(refusal)
    bind_request_context(request_id, deployed.config.bot_name, caller)
    try:
        result = await endpoint.answer(body, deployed, request_id, caller)
    except GatewayError as error:
        return endpoint.errors.gateway_error(error, request_id)
    except Refusal as refusal:
        return endpoint.errors.refusal(refusal)
    finally:
        await lease.release()
    return json_response(result, {endpoint.request_id_header: request_id})


#: A front's own asynchronous step once the bot is known, before the bot's request is built:
#: the body completed from what it refers to (the Responses API loads the response a request
#: continues), or a :class:`Refusal`. Given the body, the caller and the gateway.
Preparation = Callable[[Body, str, FrontContext], Awaitable[Body]]


async def serve_api_request(
    request: Request, endpoint: ApiEndpoint[Body], *, prepare: Preparation[Body] | None = None
) -> Response:
    """Run one request of a compatible API through the pipeline (``prepare``: see
    :data:`Preparation`)."""
    arrived = time.perf_counter()
    context = context_of(request)
    overloaded = overload_refusal(context.overload, endpoint.front)
    if overloaded is not None:
        return endpoint.errors.overloaded(overloaded)
    try:
        caller, body, deployed = await addressed(request, endpoint, context)
        if prepare is not None:
            body = await prepare(body, caller, context)
        bot_request = endpoint.bot_request(body, deployed, new_request_id(), caller)
        lease = await admit(context.limiter, caller, deployed.config.bot_name)
    except Refusal as refusal:
        return endpoint.errors.refusal(refusal)
    running = start_request(
        context,
        deployed,
        bot_request,
        endpoint.front,
        lease=lease,
        shutdown=shutdown_of(request),
        arrived=arrived,
    )
    request_id = bot_request.request_id
    headers = {
        endpoint.request_id_header: request_id,
        **structured_output_headers(bot_request, deployed.config),
    }
    try:
        render = endpoint.stream_renderer(body)
        if render is not None:
            events = await opened(running.events)
            return SseResponse(
                in_flight(running.tracker, render(running, events)), {**SSE_HEADERS, **headers}
            )
        answer = await collected(running.events)
        result = await endpoint.whole(body, running, answer, context)
    except GatewayError as error:
        return endpoint.errors.gateway_error(error, request_id)
    except Refusal as refusal:
        return endpoint.errors.refusal(refusal)
    return json_response(result, headers)


def json_response(body: Mapping[str, object], headers: Mapping[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), media_type="application/json", headers=headers)
