"""StartAsyncInvoke / GetAsyncInvoke / ListAsyncInvokes for video models (Nova Reel, Luma Ray)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from fmgate_emulator.async_jobs import split_s3_uri
from fmgate_emulator.call import Call
from fmgate_emulator.errors import BedrockError, validation
from fmgate_emulator.models import BodyFamily, Modality, resolve_model

NOVA_REEL_TASKS = ("TEXT_VIDEO", "MULTI_SHOT_AUTOMATED", "MULTI_SHOT_MANUAL")
MAX_RESULTS_LIMIT = 1000
DEFAULT_MAX_RESULTS = 1000
STATUSES = ("InProgress", "Completed", "Failed")


def check_nova_reel(model_input: dict[str, Any]) -> None:
    task = model_input.get("taskType")
    if task not in NOVA_REEL_TASKS:
        raise validation(f"taskType must be one of {', '.join(NOVA_REEL_TASKS)}.")
    if task == "TEXT_VIDEO" and not (model_input.get("textToVideoParams") or {}).get("text"):
        raise validation("textToVideoParams.text is required for TEXT_VIDEO.")


def check_luma_ray(model_input: dict[str, Any]) -> None:
    if not isinstance(model_input.get("prompt"), str) or not model_input["prompt"].strip():
        raise validation("prompt must be a non-empty string.")


INPUT_CHECKS = {BodyFamily.NOVA_REEL: check_nova_reel, BodyFamily.LUMA_RAY: check_luma_ray}


async def start_async_invoke(call: Call) -> web.StreamResponse:
    """Validate the video request, start the job, answer its ARN."""
    body = call.json_object()
    model = resolve_model(str(body.get("modelId", "")))
    if model.spec.modality is not Modality.VIDEO or model.spec.body_family is None:
        raise validation("This model doesn't support asynchronous invocation.")
    model_input = body.get("modelInput")
    if not isinstance(model_input, dict):
        raise validation("modelInput must be a JSON object.")
    INPUT_CHECKS[model.spec.body_family](model_input)
    s3_uri = ((body.get("outputDataConfig") or {}).get("s3OutputDataConfig") or {}).get("s3Uri")
    try:
        split_s3_uri(str(s3_uri))
    except ValueError:
        raise validation(
            "outputDataConfig.s3OutputDataConfig.s3Uri must be an s3:// URI."
        ) from None
    region = call.state.config.region
    model_arn = f"arn:aws:bedrock:{region}::foundation-model/{model.spec.model_id}"
    job = call.state.invocations.start(model_arn, str(s3_uri), body.get("clientRequestToken"))
    return web.json_response({"invocationArn": job.invocation_arn})


async def get_async_invoke(call: Call) -> web.StreamResponse:
    arn = call.path_params["invocation_arn"]
    job = call.state.invocations.by_arn.get(arn)
    if job is None:
        raise BedrockError(
            "ResourceNotFoundException", f"The specified invocation ARN {arn} does not exist."
        )
    return web.json_response(job.to_json())


async def list_async_invokes(call: Call) -> web.StreamResponse:
    """Newest first by default; ``statusEquals``, ``maxResults``/``nextToken`` and ``sortOrder``."""
    query = call.request.query
    status = query.get("statusEquals")
    if status is not None and status not in STATUSES:
        raise validation(f"statusEquals must be one of {', '.join(STATUSES)}.")
    try:
        max_results = int(query.get("maxResults", DEFAULT_MAX_RESULTS))
        start = int(query.get("nextToken", "0"))
    except ValueError:
        raise validation("maxResults and nextToken must be numbers.") from None
    if not 1 <= max_results <= MAX_RESULTS_LIMIT or start < 0:
        raise validation(f"maxResults must be between 1 and {MAX_RESULTS_LIMIT}.")
    newest_first = query.get("sortOrder", "Descending") == "Descending"
    jobs = call.state.invocations.listing(status, newest_first)
    page = jobs[start : start + max_results]
    result: dict[str, Any] = {"asyncInvokeSummaries": [job.to_json() for job in page]}
    if start + max_results < len(jobs):
        result["nextToken"] = str(start + max_results)
    return web.json_response(result)
