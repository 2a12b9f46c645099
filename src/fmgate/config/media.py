"""What image and video bots generate by default: the ``image`` and ``video`` sections.

Each names the request-body ``family`` its model speaks (declared, never guessed from the model
id); Poe parameter controls may override some values per request.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field

from fmgate.config.fields import StrictModel

ImageFamily = Literal["titan-image", "nova-canvas", "stability"]
VideoFamily = Literal["nova-reel", "luma-ray"]


class ImageDefaults(StrictModel):
    """Defaults for image bots; Poe parameter controls may override some per request."""

    family: ImageFamily = Field(description="Request-body family the model speaks.")
    aspect_ratios: tuple[str, ...] = Field(
        ("1:1", "16:9", "9:16", "4:3", "3:4"),
        description="Aspect ratios offered to users ('W:H'); the first is the default.",
    )
    base_size: int = Field(1024, ge=256, le=4096, description="Long side in pixels.")
    count: int = Field(1, ge=1, le=5, description="Images per request.")
    quality: Literal["standard", "premium"] = Field(
        "standard", description="Titan/Nova Canvas quality tier (premium costs more)."
    )
    cfg_scale: float | None = Field(
        None, ge=1.1, le=10.0, description="Prompt adherence; None = the model's default."
    )
    negative_prompt: str | None = Field(None, description="What the image should not show.")
    output_format: Literal["png", "jpeg"] = Field("png", description="Image file format.")


class VideoDefaults(StrictModel):
    """Defaults for video bots (asynchronous generation to S3)."""

    family: VideoFamily = Field(description="Request-body family the model speaks.")
    output_s3_uri: str = Field(
        pattern=r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$",
        description="Where Bedrock writes results (s3://bucket/prefix).",
    )
    duration_seconds: int = Field(6, ge=1, le=120, description="Video length in seconds.")
    fps: int = Field(24, ge=1, le=60, description="Frames per second (Nova Reel).")
    dimension: str = Field(
        "1280x720", pattern=r"^\d{2,5}x\d{2,5}$", description="'WxH' (Nova Reel)."
    )
    aspect_ratio: str = Field("16:9", pattern=r"^\d{1,2}:\d{1,2}$", description="'W:H' (Luma Ray).")
    resolution: str = Field("720p", description="Output resolution (Luma Ray: 540p, 720p).")
    poll_interval_seconds: float = Field(
        2.0, gt=0, le=60, description="How often to ask Bedrock whether the video is ready."
    )
    timeout_seconds: float = Field(900.0, gt=0, description="Give up waiting after this long.")


def split_ratio(ratio: str) -> tuple[int, int]:
    """'16:9' -> (16, 9)."""
    match = re.fullmatch(r"(\d+):(\d+)", ratio)
    if match is None:
        raise ValueError(f"not an aspect ratio: {ratio!r}")
    return int(match.group(1)), int(match.group(2))
