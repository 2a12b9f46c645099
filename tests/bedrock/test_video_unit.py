"""Video bodies, tokens and S3 locations (no network)."""

from __future__ import annotations

import re

import pytest

from fmgate.bedrock.video import (
    build_client_token,
    build_start_request,
    build_video_input,
    output_location,
)
from fmgate.core.errors import BotMisconfigured
from fmgate.core.model_request import VideoRequest

REQ = VideoRequest(
    model_id="amazon.nova-reel-v1:1",
    prompt="waves at dusk",
    output_s3_uri="s3://videos/out",
    duration_seconds=6,
    fps=24,
    dimension="1280x720",
    aspect_ratio="16:9",
    resolution="720p",
    seed=7,
    loop=True,
)


def test_nova_reel_input() -> None:
    assert build_video_input(REQ, "nova-reel") == {
        "taskType": "TEXT_VIDEO",
        "textToVideoParams": {"text": "waves at dusk"},
        "videoGenerationConfig": {
            "durationSeconds": 6,
            "fps": 24,
            "dimension": "1280x720",
            "seed": 7,
        },
    }


def test_luma_ray_input() -> None:
    assert build_video_input(REQ, "luma-ray") == {
        "prompt": "waves at dusk",
        "aspect_ratio": "16:9",
        "loop": True,
        "duration": "6s",
        "resolution": "720p",
    }


def test_start_request() -> None:
    assert build_start_request(REQ, "nova-reel", "req-1") == {
        "modelId": "amazon.nova-reel-v1:1",
        "modelInput": build_video_input(REQ, "nova-reel"),
        "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://videos/out"}},
        "clientRequestToken": "req-1",
    }


@pytest.mark.parametrize("value", ["req_1", "a b", "-lead", "x" * 300, "é"])
def test_client_token_is_always_acceptable_and_stable(value: str) -> None:
    token = build_client_token(value)
    assert re.fullmatch(r"[a-zA-Z0-9](-*[a-zA-Z0-9])*", token)
    assert len(token) <= 256
    assert build_client_token(value) == token


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("s3://videos/out/abc123", ("videos", "out/abc123/output.mp4")),
        ("s3://videos/out/abc123/", ("videos", "out/abc123/output.mp4")),
        ("s3://videos", ("videos", "output.mp4")),
    ],
)
def test_output_location(uri: str, expected: tuple[str, str]) -> None:
    assert output_location(uri) == expected


def test_output_location_rejects_other_schemes() -> None:
    with pytest.raises(BotMisconfigured):
        output_location("https://videos/out")
