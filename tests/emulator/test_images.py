"""InvokeModel for image models: real images of the requested size."""

from __future__ import annotations

import base64
import io
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError
from PIL import Image


def invoke(client: Any, model_id: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.invoke_model(modelId=model_id, body=json.dumps(body))
    return dict(json.loads(response["body"].read()))


def decode(image: str) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(image)))


def titan_body(width: int, height: int, count: int = 1, seed: int = 3) -> dict[str, Any]:
    return {
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a red fox in snow", "negativeText": "blur"},
        "imageGenerationConfig": {
            "numberOfImages": count,
            "quality": "standard",
            "width": width,
            "height": height,
            "cfgScale": 8.0,
            "seed": seed,
        },
    }


@pytest.mark.parametrize(
    "model_id", ["amazon.titan-image-generator-v2:0", "amazon.nova-canvas-v1:0"]
)
def test_titan_and_nova_canvas_make_pngs_of_the_asked_size(bedrock: Any, model_id: str) -> None:
    result = invoke(bedrock, model_id, titan_body(512, 288, count=2))
    assert len(result["images"]) == 2
    for encoded in result["images"]:
        image = decode(encoded)
        assert (image.format, image.size) == ("PNG", (512, 288))
    assert result["images"][0] != result["images"][1]  # different seeds, different pictures


def test_same_prompt_and_seed_give_the_same_picture(bedrock: Any) -> None:
    model = "amazon.titan-image-generator-v2:0"
    first = invoke(bedrock, model, titan_body(64, 64))
    assert invoke(bedrock, model, titan_body(64, 64)) == first


@pytest.mark.parametrize(
    ("model_id", "aspect_ratio", "size"),
    [
        ("stability.sd3-5-large-v1:0", "16:9", (1344, 768)),
        ("stability.stable-image-ultra-v1:1", "9:16", (768, 1344)),
        ("stability.stable-image-core-v1:1", "1:1", (1024, 1024)),
    ],
)
def test_stability_bodies(
    bedrock: Any, model_id: str, aspect_ratio: str, size: tuple[int, int]
) -> None:
    body = {
        "prompt": "a lighthouse",
        "aspect_ratio": aspect_ratio,
        "output_format": "png",
        "seed": 42,
        "mode": "text-to-image",
    }
    result = invoke(bedrock, model_id, body)
    assert result["seeds"] == [42]
    assert result["finish_reasons"] == [None]
    [encoded] = result["images"]
    image = decode(encoded)
    assert (image.format, image.size) == ("PNG", size)


async def test_stability_jpeg_with_aiobotocore(aio_bedrock: Any) -> None:
    response = await aio_bedrock.invoke_model(
        modelId="stability.sd3-5-large-v1:0",
        body=json.dumps({"prompt": "x", "output_format": "jpeg"}),
        contentType="application/json",
        accept="application/json",
    )
    result = json.loads(await response["body"].read())
    assert decode(result["images"][0]).format == "JPEG"


@pytest.mark.parametrize(
    ("model_id", "body"),
    [
        ("amazon.titan-image-generator-v2:0", {"taskType": "INPAINTING"}),
        ("amazon.titan-image-generator-v2:0", titan_body(10, 10)),
        ("stability.sd3-5-large-v1:0", {"prompt": "x", "aspect_ratio": "7:3"}),
        ("stability.sd3-5-large-v1:0", {"prompt": ""}),
        ("amazon.nova-reel-v1:0", {"taskType": "TEXT_VIDEO"}),
    ],
)
def test_bad_image_requests_are_validation_errors(
    bedrock: Any, model_id: str, body: dict[str, Any]
) -> None:
    with pytest.raises(ClientError) as excinfo:
        invoke(bedrock, model_id, body)
    assert excinfo.value.response["Error"]["Code"] == "ValidationException"
