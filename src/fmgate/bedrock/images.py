"""Image generation through InvokeModel: one body format per model family, from a table.

Families (declared per bot in the catalog as ``image.family``, never guessed from the model id):

* ``titan-image``, ``nova-canvas`` — ``TEXT_IMAGE`` task; ``{"images": [b64 PNG...], "error"}``;
  several images per call; sizes in pixels.
* ``stability`` — SD3.5 / Stable Image: ``{"prompt", "aspect_ratio", ...}`` ->
  ``{"images", "seeds", "finish_reasons"}``; one image per call, so ``count`` images take
  ``count`` concurrent calls (seeds ``seed``, ``seed + 1``...).

A response that says the content filter stopped it (Titan/Nova ``error``, a Stability
``finish_reason`` that is not null) raises :class:`~fmgate.core.errors.ContentFiltered`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Literal

from fmgate.bedrock.client import BedrockRuntimeClient
from fmgate.bedrock.errors import bedrock_errors
from fmgate.bedrock.readers import Shape, UnexpectedShape, items, mapping, optional_text
from fmgate.config.media import ImageFamily, split_ratio
from fmgate.core.errors import ContentFiltered
from fmgate.core.events import Media
from fmgate.core.model_request import ImageRequest
from fmgate.observability.overhead import upstream_call

ImageFileFormat = Literal["png", "jpeg"]

#: Titan Image / Nova Canvas size limits: sides 320..4096 px, at most 4.19 MP, ratio 1:4..4:1.
#: Sizes are kept to multiples of 64 (every model of both families accepts those).
SIDE_STEP = 64
MIN_SIDE = 384
MAX_SIDE = 4096
MAX_PIXELS = 4_194_304
MAX_RATIO = 4.0

_CONTENT_TYPES: Mapping[ImageFileFormat, str] = {"png": "image/png", "jpeg": "image/jpeg"}
_EXTENSIONS: Mapping[ImageFileFormat, str] = {"png": "png", "jpeg": "jpg"}


def size_for_aspect(ratio: str, base_size: int) -> tuple[int, int]:
    """``(width, height)`` for ``ratio`` ("W:H") with the long side near ``base_size``
    (longer when the short side would fall below the minimum).

    Both sides are multiples of 64 within Titan/Nova Canvas limits (384..4096 px, at most
    4,194,304 pixels); ratios beyond 4:1 are clamped to 4:1.
    """
    rw, rh = split_ratio(ratio)
    if rw <= 0 or rh <= 0:
        raise ValueError(f"not an aspect ratio: {ratio!r}")
    aspect = min(max(rw / rh, 1 / MAX_RATIO), MAX_RATIO)
    long_side = min(max(base_size, MIN_SIDE), MAX_SIDE)
    width, height = (
        (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)
    )
    if min(width, height) < MIN_SIDE:  # grow rather than distort the ratio
        grow = MIN_SIDE / min(width, height)
        width, height = min(width * grow, MAX_SIDE), min(height * grow, MAX_SIDE)
    if width * height > MAX_PIXELS:
        shrink = math.sqrt(MAX_PIXELS / (width * height))
        width, height = width * shrink, height * shrink
    w, h = _snap(width), _snap(height)
    while w * h > MAX_PIXELS:  # rounding up may overshoot by a step
        if w >= h:
            w -= SIDE_STEP
        else:
            h -= SIDE_STEP
    return w, h


def _snap(side: float) -> int:
    """Nearest multiple of 64 within the side limits."""
    stepped = round(side / SIDE_STEP) * SIDE_STEP
    return min(max(stepped, MIN_SIDE), MAX_SIDE)


# ---------------------------------------------------------------------------------------------
# Request bodies


def build_canvas_body(req: ImageRequest) -> dict[str, object]:
    """Titan Image Generator v2 / Nova Canvas ``TEXT_IMAGE``."""
    params: dict[str, object] = {"text": req.prompt}
    if req.negative_prompt:
        params["negativeText"] = req.negative_prompt
    config: dict[str, object] = {
        "numberOfImages": req.count,
        "quality": req.quality,
        "width": req.width,
        "height": req.height,
    }
    if req.cfg_scale is not None:
        config["cfgScale"] = req.cfg_scale
    if req.seed is not None:
        config["seed"] = req.seed
    return {"taskType": "TEXT_IMAGE", "textToImageParams": params, "imageGenerationConfig": config}


def build_stability_body(req: ImageRequest) -> dict[str, object]:
    """Stability SD3.5 / Stable Image (text to image; one image per call)."""
    body: dict[str, object] = {
        "prompt": req.prompt,
        "mode": "text-to-image",
        "aspect_ratio": req.aspect_ratio,
        "output_format": req.output_format,
    }
    if req.negative_prompt:
        body["negative_prompt"] = req.negative_prompt
    if req.seed is not None:
        body["seed"] = req.seed
    return body


# ---------------------------------------------------------------------------------------------
# Responses


def decode_image(value: object) -> bytes:
    if not isinstance(value, str):
        raise UnexpectedShape("image is not a base64 string")
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error as exc:
        raise UnexpectedShape("image is not valid base64") from exc


def parse_canvas_images(body: Shape) -> list[bytes]:
    """Titan/Nova Canvas: ``error`` set means the content filter blocked the request."""
    if optional_text(body, "error"):
        raise ContentFiltered("image model reported a content-moderation error")
    return [decode_image(image) for image in items(body, "images")]


def parse_stability_images(body: Shape) -> list[bytes]:
    """Stability: any non-null ``finish_reasons`` entry is a filter decision."""
    if any(reason is not None for reason in items(body, "finish_reasons")):
        raise ContentFiltered("image model reported a finish_reason (content filter)")
    return [decode_image(image) for image in items(body, "images")]


@dataclass(frozen=True, slots=True)
class FamilySpec:
    """How one image family is called."""

    build_body: Callable[[ImageRequest], dict[str, object]]
    parse_images: Callable[[Shape], list[bytes]]
    #: Whether one call makes all ``count`` images (else one call per image).
    batches: bool
    #: The file format the family always returns, when it ignores the requested one.
    fixed_format: ImageFileFormat | None


FAMILIES: Mapping[ImageFamily, FamilySpec] = {
    "titan-image": FamilySpec(build_canvas_body, parse_canvas_images, True, "png"),
    "nova-canvas": FamilySpec(build_canvas_body, parse_canvas_images, True, "png"),
    "stability": FamilySpec(build_stability_body, parse_stability_images, False, None),
}


def build_image_body(req: ImageRequest, family: ImageFamily) -> dict[str, object]:
    """The InvokeModel JSON body for ``req`` in ``family``'s format."""
    return FAMILIES[family].build_body(req)


def parse_image_response(body: Shape, family: ImageFamily, fmt: ImageFileFormat) -> list[Media]:
    """An InvokeModel answer -> one :class:`Media` per image (``fmt``: the requested format)."""
    return build_media(FAMILIES[family].parse_images(body), family, fmt)


def build_media(images: list[bytes], family: ImageFamily, fmt: ImageFileFormat) -> list[Media]:
    """Images as :class:`Media`, named ``image-1.png``, ``image-2.png``..."""
    actual = FAMILIES[family].fixed_format or fmt
    ext = _EXTENSIONS[actual]
    return [
        Media(data=data, content_type=_CONTENT_TYPES[actual], name=f"image-{n}.{ext}")
        for n, data in enumerate(images, start=1)
    ]


def per_call_requests(req: ImageRequest, family: ImageFamily) -> list[ImageRequest]:
    """The requests to send: one for batching families, else one per image (seed + n)."""
    if FAMILIES[family].batches or req.count <= 1:
        return [req]
    return [
        replace(req, count=1, seed=None if req.seed is None else req.seed + n)
        for n in range(req.count)
    ]


async def invoke_json(
    client: BedrockRuntimeClient, model_id: str, body: dict[str, object]
) -> Shape:
    """InvokeModel with a JSON body; the parsed JSON answer."""
    payload = json.dumps(body).encode()
    with bedrock_errors(), upstream_call():
        response = await client.invoke_model(
            modelId=model_id,
            body=payload,
            contentType="application/json",
            accept="application/json",
        )
        stream = response["body"]
        try:
            raw = await stream.read()
        finally:
            stream.close()
    try:
        return mapping(json.loads(raw))
    except ValueError as exc:
        raise UnexpectedShape("image model answered with invalid JSON") from exc


async def generate_images(
    client: BedrockRuntimeClient, req: ImageRequest, family: ImageFamily
) -> list[Media]:
    """Generate ``req.count`` images with ``family``'s body format (concurrent calls for
    families that make one image per call; if one fails, the others are cancelled)."""
    spec = FAMILIES[family]
    calls = [
        asyncio.ensure_future(invoke_json(client, one.model_id, build_image_body(one, family)))
        for one in per_call_requests(req, family)
    ]
    try:
        answers = await asyncio.gather(*calls)
    except BaseException:
        for call in calls:
            call.cancel()
        await asyncio.gather(*calls, return_exceptions=True)
        raise
    return build_media(
        [image for body in answers for image in spec.parse_images(body)], family, req.output_format
    )
