"""``POST /v1/images/generations``: an OpenAI image request -> an image bot's request, and the
generated files -> OpenAI's ``data`` list (``b64_json``, or ``url`` on the local media store)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterable, Sequence

from pydantic import ValidationError

from fmgate.config.media import split_ratio
from fmgate.core import parameters as p
from fmgate.core.bot_request import BotRequest, InputMessage
from fmgate.core.events import Event, Media
from fmgate.fronts.media_store import LocalMediaStore
from fmgate.fronts.openai.parse import BadRequest, validation_error
from fmgate.fronts.openai.schema import ImageGenerationRequest


def parse_image_request(data: dict[str, object]) -> ImageGenerationRequest:
    try:
        return ImageGenerationRequest.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc


def closest_ratio(size: str, ratios: Sequence[str]) -> str:
    """The configured aspect ratio ("W:H") closest to a "WxH" size."""
    width, _, height = size.partition("x")
    wanted = int(width) / max(int(height), 1)

    def distance(ratio: str) -> float:
        w, h = split_ratio(ratio)
        return abs(w / h - wanted)

    return min(ratios, key=distance)


def to_image_bot_request(
    body: ImageGenerationRequest, request_id: str, caller: str, ratios: Sequence[str]
) -> BotRequest:
    parameters: dict[str, object] = {p.IMAGE_COUNT: body.n}
    if body.size is not None and ratios:
        parameters[p.ASPECT_RATIO] = closest_ratio(body.size, ratios)
    return BotRequest(
        request_id=request_id,
        messages=(InputMessage("user", body.prompt),),
        user_id=caller,
        parameters=parameters,
    )


async def images_body(
    events: Iterable[Event], response_format: str, store: LocalMediaStore | None
) -> dict[str, object]:
    media = [event for event in events if isinstance(event, Media)]
    if response_format == "url":
        if store is None:
            raise BadRequest(
                "This gateway has no media store for URL answers; ask for b64_json.",
                "response_format",
            )
        data = [{"url": (await store.upload(m)).url} for m in media]
    else:
        data = [{"b64_json": base64.b64encode(m.data).decode()} for m in media]
    return {"created": int(time.time()), "data": data}
