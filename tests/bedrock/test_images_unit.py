"""Image body builders, response parsing and sizes (no network)."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given
from hypothesis import strategies as st

from fmgate.bedrock.images import (
    MAX_PIXELS,
    build_image_body,
    parse_image_response,
    per_call_requests,
    size_for_aspect,
)
from fmgate.bedrock.readers import UnexpectedShape
from fmgate.core.errors import ContentFiltered
from fmgate.core.events import Media
from fmgate.core.model_request import ImageRequest

REQ = ImageRequest(
    model_id="amazon.titan-image-generator-v2:0",
    prompt="a red fox",
    negative_prompt="blurry",
    width=1024,
    height=576,
    aspect_ratio="16:9",
    seed=42,
    count=2,
    quality="premium",
    cfg_scale=6.5,
    output_format="jpeg",
)


@pytest.mark.parametrize("family", ["titan-image", "nova-canvas"])
def test_canvas_body(family: str) -> None:
    assert build_image_body(REQ, family) == {  # type: ignore[arg-type]
        "taskType": "TEXT_IMAGE",
        "textToImageParams": {"text": "a red fox", "negativeText": "blurry"},
        "imageGenerationConfig": {
            "numberOfImages": 2,
            "quality": "premium",
            "width": 1024,
            "height": 576,
            "cfgScale": 6.5,
            "seed": 42,
        },
    }


def test_canvas_body_leaves_out_unset_options() -> None:
    req = ImageRequest(model_id="amazon.nova-canvas-v1:0", prompt="sky")
    body = build_image_body(req, "nova-canvas")
    assert body["textToImageParams"] == {"text": "sky"}
    assert body["imageGenerationConfig"] == {
        "numberOfImages": 1,
        "quality": "standard",
        "width": 1024,
        "height": 1024,
    }


def test_stability_body() -> None:
    assert build_image_body(REQ, "stability") == {
        "prompt": "a red fox",
        "negative_prompt": "blurry",
        "mode": "text-to-image",
        "aspect_ratio": "16:9",
        "output_format": "jpeg",
        "seed": 42,
    }


def test_stability_makes_one_call_per_image_with_successive_seeds() -> None:
    calls = per_call_requests(REQ, "stability")
    assert [(c.count, c.seed) for c in calls] == [(1, 42), (1, 43)]
    assert per_call_requests(REQ, "titan-image") == [REQ]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def test_canvas_response_is_png_whatever_was_asked() -> None:
    media = parse_image_response({"images": [b64(b"one"), b64(b"two")]}, "titan-image", "jpeg")
    assert media == [
        Media(data=b"one", content_type="image/png", name="image-1.png"),
        Media(data=b"two", content_type="image/png", name="image-2.png"),
    ]


def test_stability_response_uses_the_requested_format() -> None:
    body = {"images": [b64(b"jpg")], "seeds": [42], "finish_reasons": [None]}
    assert parse_image_response(body, "stability", "jpeg") == [
        Media(data=b"jpg", content_type="image/jpeg", name="image-1.jpg")
    ]


@pytest.mark.parametrize(
    ("family", "body"),
    [
        ("titan-image", {"images": [], "error": "blocked by moderation"}),
        ("nova-canvas", {"images": [], "error": "blocked"}),
        (
            "stability",
            {"images": [b64(b"x")], "seeds": [1], "finish_reasons": ["Filter reason: prompt"]},
        ),
    ],
)
def test_filtered_responses_raise_content_filtered(family: str, body: dict[str, object]) -> None:
    with pytest.raises(ContentFiltered):
        parse_image_response(body, family, "png")  # type: ignore[arg-type]


def test_bad_base64_is_an_unexpected_shape() -> None:
    with pytest.raises(UnexpectedShape):
        parse_image_response({"images": ["not base64!"]}, "titan-image", "png")


@pytest.mark.parametrize(
    ("ratio", "base", "expected"),
    [
        ("1:1", 1024, (1024, 1024)),
        ("16:9", 1024, (1024, 576)),
        ("9:16", 1024, (576, 1024)),
        ("4:3", 512, (512, 384)),
        ("1:1", 4096, (2048, 2048)),
        ("21:9", 1024, (1024, 448)),
        ("10:1", 1024, (1536, 384)),  # clamped to 4:1, grown so the short side stays >= 384
    ],
)
def test_size_for_aspect_examples(ratio: str, base: int, expected: tuple[int, int]) -> None:
    assert size_for_aspect(ratio, base) == expected


@given(
    rw=st.integers(min_value=1, max_value=32),
    rh=st.integers(min_value=1, max_value=32),
    base=st.integers(min_value=256, max_value=4096),
)
def test_size_for_aspect_stays_within_limits(rw: int, rh: int, base: int) -> None:
    w, h = size_for_aspect(f"{rw}:{rh}", base)
    assert w % 64 == 0
    assert h % 64 == 0
    assert 384 <= w <= 4096
    assert 384 <= h <= 4096
    assert w * h <= MAX_PIXELS
    # The orientation follows the ratio.
    if rw > rh:
        assert w >= h
    if rh > rw:
        assert h >= w
