"""Bedrock control-plane listings, generated from the emulator's own model catalogue.

Two operations of the ``bedrock`` service (not ``bedrock-runtime``), in botocore's response
shapes, so ``boto3.client("bedrock", endpoint_url=<emulator>)`` and aiobotocore work unchanged:

    GET /foundation-models    ListFoundationModels: ``byProvider``, ``byOutputModality``,
                              ``byInferenceType`` filters; one page, as on Bedrock
    GET /inference-profiles   ListInferenceProfiles: ``type`` (typeEquals), ``maxResults`` and
                              ``nextToken`` pagination

Both services sign with the name ``bedrock``, so the emulator's SigV4 check accepts either.
Listings describe the region named in the request's credential scope: foundation-model ARNs
carry it, and the system-defined inference profiles are the geographic ones of that region
(``us.`` for ``us-*``, ``eu.`` for ``eu-*``, ``apac.`` for ``ap-*``) of each chat model that has
one there, then the ``global.`` profiles of the models that have one, as the runtime routes
take them (a model declaring no profiles lists its geographic one and no global one, though
the runtime takes any prefix for it). Profile-only models list ``INFERENCE_PROFILE`` instead of
``ON_DEMAND`` in ``inferenceTypesSupported``, as Bedrock does.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from fmgate_emulator.async_jobs import ACCOUNT_ID
from fmgate_emulator.call import Call
from fmgate_emulator.errors import validation
from fmgate_emulator.models import MODELS, Modality, ModelSpec

#: Provider key (the model id's first dot-separated part) -> Bedrock's ``providerName``.
PROVIDER_NAMES: Mapping[str, str] = {
    "amazon": "Amazon",
    "anthropic": "Anthropic",
    "meta": "Meta",
    "mistral": "Mistral AI",
    "deepseek": "DeepSeek",
    "cohere": "Cohere",
    "ai21": "AI21 Labs",
    "openai": "OpenAI",
    "qwen": "Qwen",
    "moonshot": "Moonshot AI",
    "zai": "Z.AI",
    "minimax": "MiniMax",
    "google": "Google",
    "writer": "Writer",
    "stability": "Stability AI",
    "luma": "Luma AI",
}

#: What each emulated modality produces, as Bedrock's ``outputModalities`` names it.
OUTPUT_MODALITY: Mapping[Modality, str] = {
    Modality.CHAT: "TEXT",
    Modality.IMAGE: "IMAGE",
    Modality.VIDEO: "VIDEO",
}

#: Region area -> (profile prefix, profile name prefix, regions a geographic profile routes to).
GEOGRAPHIES: Mapping[str, tuple[str, str, tuple[str, ...]]] = {
    "us": ("us.", "US", ("us-east-1", "us-east-2", "us-west-2")),
    "eu": ("eu.", "EU", ("eu-central-1", "eu-west-1", "eu-west-3")),
    "ap": ("apac.", "APAC", ("ap-northeast-1", "ap-southeast-1", "ap-southeast-2")),
}

INFERENCE_TYPES = ("ON_DEMAND", "PROVISIONED")
PROFILE_TYPES = ("SYSTEM_DEFINED", "APPLICATION")
DEFAULT_MAX_RESULTS = 1000
MAX_RESULTS_LIMIT = 1000
#: The region of a SigV4 credential scope (``Credential=<key>/<date>/<region>/<service>/...``).
CREDENTIAL_REGION = re.compile(r"Credential=[^/]+/\d{8}/(?P<region>[^/]+)/")
#: When every emulated model "became available" (a fixed date keeps answers deterministic).
START_OF_LIFE = "2024-01-01T00:00:00Z"


def request_region(call: Call) -> str:
    """The region the caller signed for (the configured region for bearer-token calls)."""
    found = CREDENTIAL_REGION.search(call.request.headers.get("Authorization", ""))
    return found["region"] if found else call.state.config.region


def provider_key(spec: ModelSpec) -> str:
    """``anthropic`` for ``anthropic.claude...``: Bedrock ids start with their provider."""
    return spec.model_id.split(".", 1)[0]


def foundation_model_arn(region: str, model_id: str) -> str:
    return f"arn:aws:bedrock:{region}::foundation-model/{model_id}"


def model_summary(spec: ModelSpec, region: str) -> dict[str, Any]:
    """One ``FoundationModelSummary``."""
    inputs = ["TEXT", "IMAGE"] if spec.vision else ["TEXT"]
    return {
        "modelArn": foundation_model_arn(region, spec.model_id),
        "modelId": spec.model_id,
        "providerName": PROVIDER_NAMES.get(provider_key(spec), provider_key(spec)),
        "inputModalities": inputs,
        "outputModalities": [OUTPUT_MODALITY[spec.modality]],
        "responseStreamingSupported": spec.modality is Modality.CHAT,
        "customizationsSupported": [],
        "inferenceTypesSupported": ["INFERENCE_PROFILE"] if spec.profile_only else ["ON_DEMAND"],
        "modelLifecycle": {"status": "ACTIVE", "startOfLifeTime": START_OF_LIFE},
    }


def matches_filters(summary: Mapping[str, Any], query: Mapping[str, str]) -> bool:
    """Whether a summary passes ListFoundationModels' filters (provider: case-insensitive)."""
    provider = query.get("byProvider")
    if provider is not None and provider.lower() not in (
        str(summary["providerName"]).lower(),
        str(summary["modelId"]).split(".", 1)[0],
    ):
        return False
    modality = query.get("byOutputModality")
    if modality is not None and modality not in summary["outputModalities"]:
        return False
    inference_type = query.get("byInferenceType")
    return inference_type is None or inference_type in summary["inferenceTypesSupported"]


async def list_foundation_models(call: Call) -> web.StreamResponse:
    """ListFoundationModels for the caller's region."""
    query = call.request.query
    inference_type = query.get("byInferenceType")
    if inference_type is not None and inference_type not in INFERENCE_TYPES:
        raise validation(f"byInferenceType must be one of {', '.join(INFERENCE_TYPES)}.")
    region = request_region(call)
    summaries = [model_summary(spec, region) for spec in MODELS]
    return web.json_response(
        {"modelSummaries": [s for s in summaries if matches_filters(s, query)]}
    )


#: The global profile's name prefix and where it routes (every geography's regions here).
GLOBAL_PROFILE = (
    "global.",
    "Global",
    tuple(r for _, _, regions in GEOGRAPHIES.values() for r in regions),
)


def has_profile(spec: ModelSpec, prefix: str) -> bool:
    """Whether the chat model has a profile with ``prefix`` (every prefix but ``global.`` for
    the models that declare none: not modelled)."""
    if spec.modality is not Modality.CHAT:
        return False
    if spec.profiles is None:
        return prefix != GLOBAL_PROFILE[0]
    return prefix in spec.profiles


def profile_summary(spec: ModelSpec, region: str) -> dict[str, Any] | None:
    """The system-defined geographic profile of a chat model in ``region`` (None elsewhere)."""
    geography = GEOGRAPHIES.get(region.split("-", 1)[0])
    if geography is None or not has_profile(spec, geography[0]):
        return None
    return system_profile(spec, region, geography)


def global_profile_summary(spec: ModelSpec, region: str) -> dict[str, Any] | None:
    """The global profile of a chat model that has one (listed in every region)."""
    return system_profile(spec, region, GLOBAL_PROFILE) if has_profile(spec, "global.") else None


def system_profile(
    spec: ModelSpec, region: str, geography: tuple[str, str, tuple[str, ...]]
) -> dict[str, Any]:
    """One ``InferenceProfileSummary`` routing ``spec`` from ``region`` across ``geography``."""
    prefix, label, regions = geography
    profile_id = f"{prefix}{spec.model_id}"
    routed = (region, *(r for r in regions if r != region))
    return {
        "inferenceProfileName": f"{label} {spec.model_id}",
        "description": f"Routes requests to {spec.model_id} across {label} regions.",
        "createdAt": START_OF_LIFE,
        "updatedAt": START_OF_LIFE,
        "inferenceProfileArn": (
            f"arn:aws:bedrock:{region}:{ACCOUNT_ID}:inference-profile/{profile_id}"
        ),
        "models": [{"modelArn": foundation_model_arn(r, spec.model_id)} for r in routed],
        "inferenceProfileId": profile_id,
        "status": "ACTIVE",
        "type": "SYSTEM_DEFINED",
    }


def page_bounds(query: Mapping[str, str]) -> tuple[int, int]:
    """(start, size) from ``nextToken`` and ``maxResults``; ValidationException when invalid."""
    try:
        size = int(query.get("maxResults", DEFAULT_MAX_RESULTS))
        start = int(query.get("nextToken", "0"))
    except ValueError:
        raise validation("maxResults must be a number and nextToken one this API gave.") from None
    if not 1 <= size <= MAX_RESULTS_LIMIT:
        raise validation(f"maxResults must be between 1 and {MAX_RESULTS_LIMIT}.")
    if start < 0:
        raise validation("The nextToken is invalid.")
    return start, size


async def list_inference_profiles(call: Call) -> web.StreamResponse:
    """ListInferenceProfiles for the caller's region (the emulator has no application ones)."""
    query = call.request.query
    profile_type = query.get("type", "SYSTEM_DEFINED")
    if profile_type not in PROFILE_TYPES:
        raise validation(f"type must be one of {', '.join(PROFILE_TYPES)}.")
    start, size = page_bounds(query)
    region = request_region(call)
    profiles: list[dict[str, Any]] = []
    if profile_type == "SYSTEM_DEFINED":
        profiles = [p for spec in MODELS if (p := profile_summary(spec, region)) is not None]
        profiles += [g for spec in MODELS if (g := global_profile_summary(spec, region))]
    result: dict[str, Any] = {"inferenceProfileSummaries": profiles[start : start + size]}
    if start + size < len(profiles):
        result["nextToken"] = str(start + size)
    return web.json_response(result)
