"""InvokeModel for image models: Titan Image v2 / Nova Canvas and Stability bodies -> real images.

The picture is a deterministic pattern (colours derived from prompt and seed) of exactly the
requested size, encoded as PNG (or JPEG/WebP when a Stability body asks for it).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import random
from typing import Any

from aiohttp import web
from PIL import Image, ImageDraw, ImageOps

from fmgate_emulator.call import Call
from fmgate_emulator.content import is_filtered
from fmgate_emulator.errors import validation
from fmgate_emulator.models import BodyFamily, ResolvedModel

#: Stability aspect ratios and the pixel size each produces (SD3.5 / Stable Image).
STABILITY_SIZES: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "16:9": (1344, 768),
    "9:16": (768, 1344),
    "21:9": (1536, 640),
    "9:21": (640, 1536),
    "2:3": (832, 1216),
    "3:2": (1216, 832),
    "4:5": (896, 1088),
    "5:4": (1088, 896),
}
STABILITY_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
TITAN_DEFAULT_SIZE = 1024
MIN_SIDE, MAX_SIDE = 64, 4096
MAX_IMAGES = 5


def render_image(
    prompt: str, seed: int, width: int, height: int, image_format: str = "PNG"
) -> bytes:
    """A deterministic gradient-and-shapes picture of ``width`` x ``height`` pixels."""
    rng = random.Random(hashlib.sha256(f"{seed}:{prompt}".encode()).digest())

    def colour() -> tuple[int, int, int]:
        return (rng.randrange(256), rng.randrange(256), rng.randrange(256))

    gradient = Image.linear_gradient("L").resize((width, height))
    image = ImageOps.colorize(gradient, black=colour(), white=colour())
    draw = ImageDraw.Draw(image)
    for _ in range(6):
        x, y = rng.randrange(width), rng.randrange(height)
        radius = rng.randrange(max(2, min(width, height) // 8), max(3, min(width, height) // 3))
        draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=colour())
    out = io.BytesIO()
    if image_format == "PNG":
        image.save(out, format="PNG", compress_level=1)
    else:
        image.save(out, format=image_format)
    return out.getvalue()


def as_int(value: Any, name: str, default: int, low: int, high: int) -> int:
    number = default if value is None else value
    if not isinstance(number, int) or isinstance(number, bool) or not low <= number <= high:
        raise validation(f"{name} must be an integer between {low} and {high}.")
    return number


async def titan_image(body: dict[str, Any]) -> dict[str, Any]:
    """Titan Image Generator v2 / Nova Canvas ``TEXT_IMAGE`` -> ``{"images": [...]}``."""
    if body.get("taskType") != "TEXT_IMAGE":
        raise validation("The emulator supports taskType TEXT_IMAGE only.")
    prompt = (body.get("textToImageParams") or {}).get("text")
    if not isinstance(prompt, str) or not prompt.strip():
        raise validation("textToImageParams.text must be a non-empty string.")
    if is_filtered(prompt):
        return {"images": [], "error": "This request has been blocked by our content filters."}
    config = body.get("imageGenerationConfig") or {}
    width = as_int(config.get("width"), "width", TITAN_DEFAULT_SIZE, MIN_SIDE, MAX_SIDE)
    height = as_int(config.get("height"), "height", TITAN_DEFAULT_SIZE, MIN_SIDE, MAX_SIDE)
    count = as_int(config.get("numberOfImages"), "numberOfImages", 1, 1, MAX_IMAGES)
    seed = as_int(config.get("seed"), "seed", 0, 0, 2_147_483_646)
    images = [
        await asyncio.to_thread(render_image, prompt, seed + n, width, height) for n in range(count)
    ]
    return {"images": [base64.b64encode(i).decode() for i in images], "error": None}


async def stability_image(body: dict[str, Any]) -> dict[str, Any]:
    """SD3.5 / Stable Image text-to-image -> ``{"images", "seeds", "finish_reasons"}``."""
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or not prompt.strip():
        raise validation("prompt must be a non-empty string.")
    aspect_ratio = body.get("aspect_ratio", "1:1")
    if aspect_ratio not in STABILITY_SIZES:
        raise validation(f"aspect_ratio must be one of {', '.join(STABILITY_SIZES)}.")
    output_format = body.get("output_format", "png")
    if output_format not in STABILITY_FORMATS:
        raise validation("output_format must be one of png, jpeg, webp.")
    if body.get("mode", "text-to-image") != "text-to-image":
        raise validation("The emulator supports mode text-to-image only.")
    seed = as_int(body.get("seed"), "seed", 0, 0, 4_294_967_294)
    if is_filtered(prompt):
        return {"images": [], "seeds": [seed], "finish_reasons": ["Filter reason: prompt"]}
    width, height = STABILITY_SIZES[aspect_ratio]
    data = await asyncio.to_thread(
        render_image, prompt, seed, width, height, STABILITY_FORMATS[output_format]
    )
    return {"images": [base64.b64encode(data).decode()], "seeds": [seed], "finish_reasons": [None]}


async def invoke_image_model(call: Call, model: ResolvedModel) -> web.StreamResponse:
    """InvokeModel on an image model, dispatched on the model's declared body family."""
    body = call.json_object()
    await call.pacer().first_token()
    if model.spec.body_family is BodyFamily.STABILITY:
        result = await stability_image(body)
    else:
        result = await titan_image(body)
    return web.json_response(result)
