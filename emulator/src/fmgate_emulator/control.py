"""The control API under ``/_emulator/``: fault injection, counters, recorded requests, timing.

These routes need no SigV4; they are meant for local use (the emulator binds loopback by default).

    GET    /_emulator/health            {"status": "ok"}
    GET    /_emulator/models            the model catalogue
    POST   /_emulator/faults            inject: {"kind", "model_id"?, "operation"?, "count"?,
                                                 "after_tokens"?, "delay_seconds"?, "exception"?,
                                                 "quota"? (concurrency_quota)}
    GET    /_emulator/faults            pending faults
    DELETE /_emulator/faults            clear faults
    GET    /_emulator/counters          {"total", "in_progress", "quota_refusals", "by_model",
                                         "by_operation"}
    GET    /_emulator/requests          recorded requests (``?model_id=`` filters)
    PUT    /_emulator/timing            {"ttft_ms", "tokens_per_second",
                                         "uncached_tokens_per_second"?} (null rate = unlimited)
    GET    /_emulator/timing            current timing
    POST   /_emulator/clock             {"advance_seconds": N}: move the prompt cache's clock on
    GET    /_emulator/clock             {"offset_seconds"}: how far it was moved
    POST   /_emulator/reset             clear faults, counters, recorded requests, cached prompts;
                                        restore timing and the default guardrails
    GET    /_emulator/guardrails        the guardrails that exist
    PUT    /_emulator/guardrails/{id}   create or replace one: {"versions",
                                        "blocked_input_messaging", "blocked_outputs_messaging",
                                        "words", "topics"}
    DELETE /_emulator/guardrails/{id}   remove one
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from fmgate_emulator.config import Timing
from fmgate_emulator.guardrails import parse_guardrail_spec
from fmgate_emulator.models import MODELS
from fmgate_emulator.state import STATE_KEY, EmulatorState

routes = web.RouteTableDef()


def state_of(request: web.Request) -> EmulatorState:
    return request.app[STATE_KEY]


def bad_request(message: str) -> web.Response:
    return web.json_response({"message": message}, status=400)


async def json_object(request: web.Request) -> dict[str, Any] | None:
    try:
        body = await request.json()
    except json.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


@routes.get("/_emulator/health")
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@routes.get("/_emulator/models")
async def models(request: web.Request) -> web.Response:
    return web.json_response(
        [
            {
                "model_id": spec.model_id,
                "modality": spec.modality.value,
                "profile_only": spec.profile_only,
                "vision": spec.vision,
                "documents": spec.documents,
                "reasoning": spec.reasoning.value,
                "system_messages": spec.system_messages,
                "max_output_tokens": spec.max_output_tokens,
                "body_family": spec.body_family.value if spec.body_family else None,
                "prompt_caching": (
                    {
                        "min_tokens": spec.caching.min_tokens,
                        "ttls": sorted(spec.caching.ttls),
                        "tools": spec.caching.tools,
                    }
                    if spec.caching
                    else None
                ),
                "tool_choices": sorted(spec.tool_choices),
                "count_tokens": spec.count_tokens,
                "anthropic_betas": (
                    sorted(spec.anthropic_betas) if spec.anthropic_betas is not None else None
                ),
                "service_tiers": sorted(spec.service_tiers),
                "thinking_types": sorted(spec.thinking_types),
                "efforts": list(spec.efforts),
                "effort_field": spec.effort_field,
                "effort_beta": spec.effort_beta,
                "structured_output": spec.structured_output,
                "citations": spec.citations,
                "profiles": sorted(spec.profiles) if spec.profiles is not None else None,
            }
            for spec in MODELS
        ]
    )


@routes.post("/_emulator/faults")
async def inject_fault(request: web.Request) -> web.Response:
    spec = await json_object(request)
    if spec is None:
        return bad_request("expected a JSON object")
    try:
        fault = state_of(request).faults.inject(spec)
    except (ValueError, TypeError) as error:
        return bad_request(f"invalid fault: {error}")
    return web.json_response(fault.to_json(), status=201)


@routes.get("/_emulator/faults")
async def list_faults(request: web.Request) -> web.Response:
    return web.json_response([f.to_json() for f in state_of(request).faults.pending()])


@routes.delete("/_emulator/faults")
async def clear_faults(request: web.Request) -> web.Response:
    state_of(request).faults.clear()
    return web.json_response({"cleared": True})


@routes.get("/_emulator/counters")
async def counters(request: web.Request) -> web.Response:
    return web.json_response(state_of(request).traffic.counters())


@routes.get("/_emulator/requests")
async def recorded_requests(request: web.Request) -> web.Response:
    model_id = request.query.get("model_id")
    return web.json_response(state_of(request).traffic.requests(model_id))


@routes.get("/_emulator/timing")
async def get_timing(request: web.Request) -> web.StreamResponse:
    timing = state_of(request).timing
    return web.json_response(
        {
            "ttft_ms": timing.ttft_ms,
            "tokens_per_second": timing.tokens_per_second,
            "uncached_tokens_per_second": timing.uncached_tokens_per_second,
        }
    )


@routes.put("/_emulator/timing")
async def set_timing(request: web.Request) -> web.StreamResponse:
    body = await json_object(request)
    if body is None:
        return bad_request("expected a JSON object")
    try:
        ttft_ms = float(body.get("ttft_ms") or 0.0)
        rate = body.get("tokens_per_second")
        tokens_per_second = float(rate) if rate else None
        reading = body.get("uncached_tokens_per_second")
        uncached_tokens_per_second = float(reading) if reading else None
    except (TypeError, ValueError):
        return bad_request("timing values must be numbers")
    rates = (tokens_per_second, uncached_tokens_per_second)
    if ttft_ms < 0 or any(r is not None and r < 0 for r in rates):
        return bad_request("timing values must not be negative")
    state_of(request).timing = Timing(
        ttft_ms=ttft_ms,
        tokens_per_second=tokens_per_second,
        uncached_tokens_per_second=uncached_tokens_per_second,
    )
    return await get_timing(request)


@routes.get("/_emulator/clock")
async def get_clock(request: web.Request) -> web.Response:
    return web.json_response({"offset_seconds": state_of(request).clock.offset})


@routes.post("/_emulator/clock")
async def advance_clock(request: web.Request) -> web.StreamResponse:
    """Move the clock prompt-cache TTLs run on forward (time never goes back)."""
    body = await json_object(request)
    if body is None:
        return bad_request("expected a JSON object")
    seconds = body.get("advance_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
        return bad_request("advance_seconds must be a number of seconds, 0 or more")
    state_of(request).clock.advance(float(seconds))
    return await get_clock(request)


@routes.post("/_emulator/reset")
async def reset(request: web.Request) -> web.Response:
    state_of(request).reset()
    return web.json_response({"reset": True})


@routes.get("/_emulator/guardrails")
async def list_guardrails(request: web.Request) -> web.Response:
    book = state_of(request).guardrails
    return web.json_response([spec.to_json() for spec in book.guardrails.values()])


@routes.put("/_emulator/guardrails/{guardrail_id}")
async def put_guardrail(request: web.Request) -> web.Response:
    """Create or replace a guardrail (Bedrock's CreateGuardrail and versions, in one step)."""
    body = await json_object(request)
    if body is None:
        return bad_request("expected a JSON object")
    try:
        spec = parse_guardrail_spec(request.match_info["guardrail_id"], body)
    except (KeyError, TypeError, ValueError) as error:
        return bad_request(f"invalid guardrail: {error}")
    state_of(request).guardrails.put(spec)
    return web.json_response(spec.to_json())


@routes.delete("/_emulator/guardrails/{guardrail_id}")
async def delete_guardrail(request: web.Request) -> web.Response:
    if not state_of(request).guardrails.delete(request.match_info["guardrail_id"]):
        return web.json_response({"message": "no such guardrail"}, status=404)
    return web.json_response({"deleted": True})
