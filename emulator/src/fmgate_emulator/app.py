"""The emulator's aiohttp application: Bedrock Runtime routes plus the ``/_emulator`` control API.

Two control-plane listings of the ``bedrock`` service are served too (``control_plane.py``).

Bedrock routes are matched on the raw, percent-encoded path (model ids and ARNs arrive encoded,
and an encoded ``/`` must not split a path segment). Every call is recorded, authenticated,
checked against concurrency quotas and pending faults, then handed to its operation's handler.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

from aiohttp import web

from fmgate_emulator import control
from fmgate_emulator.apply_guardrail import apply_guardrail
from fmgate_emulator.call import Call
from fmgate_emulator.config import EmulatorConfig
from fmgate_emulator.control_plane import list_foundation_models, list_inference_profiles
from fmgate_emulator.converse import converse, converse_stream, count_tokens_handler
from fmgate_emulator.errors import BedrockError, error_response
from fmgate_emulator.faults import QUOTA_REFUSAL, Fault, FaultKind, InFlightKey
from fmgate_emulator.invoke import invoke_model, invoke_with_response_stream
from fmgate_emulator.models import identify_model
from fmgate_emulator.service_tiers import requested_tier
from fmgate_emulator.sigv4 import SignedRequest, verify
from fmgate_emulator.state import STATE_KEY, EmulatorState
from fmgate_emulator.streaming import StreamEnded, drop_connection, stall
from fmgate_emulator.video import get_async_invoke, list_async_invokes, start_async_invoke

Handler = Callable[[Call], Awaitable[web.StreamResponse]]


@dataclass(frozen=True, slots=True)
class Route:
    """One Bedrock Runtime operation: method, raw-path pattern, handler."""

    method: str
    pattern: re.Pattern[str]
    operation: str
    handler: Handler
    streaming: bool = False


def _model_route(suffix: str, operation: str, handler: Handler, streaming: bool = False) -> Route:
    pattern = re.compile(rf"^/model/(?P<model_id>[^/]+)/{suffix}$")
    return Route("POST", pattern, operation, handler, streaming)


ROUTES: tuple[Route, ...] = (
    _model_route("converse", "Converse", converse),
    _model_route("converse-stream", "ConverseStream", converse_stream, streaming=True),
    _model_route("invoke", "InvokeModel", invoke_model),
    _model_route(
        "invoke-with-response-stream",
        "InvokeModelWithResponseStream",
        invoke_with_response_stream,
        streaming=True,
    ),
    _model_route("count-tokens", "CountTokens", count_tokens_handler),
    Route(
        "POST",
        re.compile(
            r"^/guardrail/(?P<guardrail_id>[^/]+)/version/(?P<guardrail_version>[^/]+)/apply$"
        ),
        "ApplyGuardrail",
        apply_guardrail,
    ),
    Route("POST", re.compile(r"^/async-invoke$"), "StartAsyncInvoke", start_async_invoke),
    Route("GET", re.compile(r"^/async-invoke$"), "ListAsyncInvokes", list_async_invokes),
    Route(
        "GET",
        re.compile(r"^/async-invoke/(?P<invocation_arn>[^/]+)$"),
        "GetAsyncInvoke",
        get_async_invoke,
    ),
    # Control plane (service ``bedrock``): model and inference-profile listings.
    Route(
        "GET", re.compile(r"^/foundation-models$"), "ListFoundationModels", list_foundation_models
    ),
    Route(
        "GET",
        re.compile(r"^/inference-profiles$"),
        "ListInferenceProfiles",
        list_inference_profiles,
    ),
)


def match_route(method: str, raw_path: str) -> tuple[Route, dict[str, str]] | None:
    """The route for a raw path, with its parameters percent-decoded."""
    path = raw_path.split("?", 1)[0]
    for route in ROUTES:
        found = route.pattern.match(path)
        if found and route.method == method:
            return route, {k: unquote(v) for k, v in found.groupdict().items()}
    return None


def parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return None


def requested_model(route: Route, params: dict[str, str], body: Any) -> str | None:
    if "model_id" in params:
        return params["model_id"]
    if route.operation == "StartAsyncInvoke" and isinstance(body, dict):
        return str(body.get("modelId"))
    return None


def base_model(model_id: str | None) -> str | None:
    """The catalogue id behind a requested id, or ``None`` when it does not resolve."""
    if model_id is None:
        return None
    try:
        return identify_model(model_id).spec.model_id
    except BedrockError:
        return None


async def apply_fault_before_response(call: Call, streaming: bool) -> None:
    """Faults acting before the answer starts: HTTP errors, delays, an early connection drop."""
    fault: Fault | None = call.fault
    if fault is None:
        return
    error = fault.as_error()
    if error is not None:
        raise error
    drops_before_headers = fault.kind is FaultKind.DROP_CONNECTION and fault.after_tokens == 0
    if streaming and not drops_before_headers:
        return  # acted on inside the stream (the pacer handles a slow first token)
    match fault.kind:
        case FaultKind.DROP_CONNECTION:
            drop_connection(call.request)
        case FaultKind.STALL:
            await stall(fault.delay_seconds)
        case FaultKind.SLOW_FIRST_TOKEN:
            await asyncio.sleep(fault.delay_seconds)
            call.fault = None  # already waited; the pacer must not wait again


async def handle_bedrock(request: web.Request) -> web.StreamResponse:
    """Every non-control request: route, record, authenticate, inject faults, handle."""
    found = match_route(request.method, request.raw_path)
    if found is None:
        return error_response(
            BedrockError("UnknownOperationException", "The requested operation is not supported.")
        )
    route, params = found
    state = request.app[STATE_KEY]
    raw_body = await request.read()
    body = parse_json(raw_body)
    model_id = requested_model(route, params, body)
    base_id = base_model(model_id)
    record = state.traffic.record(route.operation, model_id, body, request.headers, base_id)
    call = Call(
        request=request,
        operation=route.operation,
        state=state,
        body=body,
        path_params=params,
        record=record,
    )
    state.traffic.in_progress += 1
    in_flight: InFlightKey | None = None
    try:
        call.principal = verify(
            SignedRequest(
                method=request.method,
                host_url=f"{request.scheme}://{request.host}",
                raw_path=request.raw_path,
                headers=request.headers,
                body=raw_body,
            ),
            state.credentials,
            default_region=state.config.region,
        )
        model_ids = {i for i in (model_id, base_id) if i is not None}
        if model_id is not None:
            key = InFlightKey(model_id, base_id, route.operation)
            if state.faults.over_quota(key, state.traffic.in_flight):
                state.traffic.quota_refusals += 1
                raise BedrockError(*QUOTA_REFUSAL)
            state.traffic.begin(key)
            in_flight = key
        tier = requested_tier(body)
        call.fault = state.faults.take(model_ids, route.operation, route.streaming, tier)
        await apply_fault_before_response(call, route.streaming)
        return await route.handler(call)
    except BedrockError as error:
        return error_response(error)
    except StreamEnded as ended:
        return ended.response
    finally:
        state.traffic.in_progress -= 1
        if in_flight is not None:
            state.traffic.end(in_flight)


async def add_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """Give every answer an ``x-amzn-RequestId`` header, as AWS does."""
    response.headers.setdefault("x-amzn-RequestId", str(uuid.uuid4()))


def build_app(config: EmulatorConfig) -> web.Application:
    """The emulator application for ``config``; its state lives on ``app[STATE_KEY]``."""
    app = web.Application(client_max_size=64 * 1024 * 1024)
    state = EmulatorState(config)
    app[STATE_KEY] = state
    app.add_routes(control.routes)
    app.router.add_route("*", "/{tail:.*}", handle_bedrock)
    app.on_response_prepare.append(add_request_id)

    async def jobs(app: web.Application) -> AsyncIterator[None]:
        yield
        await state.invocations.close()

    app.cleanup_ctx.append(jobs)
    return app
