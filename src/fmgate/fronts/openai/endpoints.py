"""The OpenAI-compatible endpoints on the front pipeline: ``POST /v1/chat/completions`` (chat
bots; streamed or whole) and ``POST /v1/images/generations`` (image bots).

Callers present a virtual API key as ``Authorization: Bearer <key>``. A key with
``stream_usage: always`` (Poe API bots, which bill from it) gets the usage chunk at the end of
every stream, asked for or not (:func:`usage_for_caller`).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from starlette.requests import Request

from fmgate.bots.registry import DeployedBot
from fmgate.config.bot_config import BotKind, ImageBotConfig
from fmgate.core.bot_request import BotRequest
from fmgate.core.events import Event
from fmgate.fronts.bearer import bearer_token
from fmgate.fronts.context import FrontContext
from fmgate.fronts.openai.chunks import ChunkWriter, completion_chunks
from fmgate.fronts.openai.completion import completion_body
from fmgate.fronts.openai.errors import INVALID_API_KEY, OPENAI_ERRORS, unknown_model
from fmgate.fronts.openai.images import images_body, parse_image_request, to_image_bot_request
from fmgate.fronts.openai.parallel_tool_calls import ToolCallLimit, kept_events
from fmgate.fronts.openai.parse import parse_chat_request, to_bot_request
from fmgate.fronts.openai.reasoning_effort import effort_parameters
from fmgate.fronts.openai.schema import (
    ChatCompletionRequest,
    ImageGenerationRequest,
    StreamOptions,
)
from fmgate.fronts.pipeline import Refusal, RunningRequest, StreamRenderer

FRONT = "openai"


def caller_of(request: Request, context: FrontContext) -> str:
    caller = context.api_keys.caller(bearer_token(request.headers.get("authorization")))
    if caller is None:
        raise INVALID_API_KEY
    return caller


def bot_of_kind(context: FrontContext, model: str, kind: BotKind, endpoint: str) -> DeployedBot:
    deployed = context.registry.get(model)
    if deployed is None:
        raise unknown_model(model)
    config = deployed.config
    if config.kind != kind:
        raise Refusal(
            400,
            f"`{config.bot_name}` is a {config.kind} model; it is not served by {endpoint}.",
            "unsupported_model",
            param="model",
        )
    return deployed


async def usage_for_caller(
    body: ChatCompletionRequest, caller: str, context: FrontContext
) -> ChatCompletionRequest:
    """The body as served: a stream for a caller whose key says ``stream_usage: always`` asks
    for the usage chunk (``stream_options.include_usage``) whether or not the caller did."""
    if body.stream and not body.include_usage and context.api_keys.streams_usage(caller):
        return body.model_copy(update={"stream_options": StreamOptions(include_usage=True)})
    return body


class ChatCompletions:
    front = FRONT
    errors = OPENAI_ERRORS
    request_id_header = "X-Request-Id"

    def caller(self, request: Request, context: FrontContext) -> str:
        return caller_of(request, context)

    def parse(self, data: dict[str, object]) -> ChatCompletionRequest:
        return parse_chat_request(data)

    def bot(self, context: FrontContext, body: ChatCompletionRequest) -> DeployedBot:
        return bot_of_kind(context, body.model, "chat", "/v1/chat/completions")

    def bot_request(
        self, body: ChatCompletionRequest, deployed: DeployedBot, request_id: str, caller: str
    ) -> BotRequest:
        parameters = effort_parameters(body.reasoning_effort, deployed.config, "reasoning_effort")
        return to_bot_request(body, request_id, caller, parameters)

    def stream_renderer(self, body: ChatCompletionRequest) -> StreamRenderer | None:
        if not body.stream:
            return None

        def render(
            running: RunningRequest, events: AsyncGenerator[Event, None]
        ) -> AsyncIterator[bytes]:
            writer = ChunkWriter(running.request.request_id, body.model, body.include_usage)
            return completion_chunks(events, writer, ToolCallLimit(body.parallel))

        return render

    async def whole(
        self,
        body: ChatCompletionRequest,
        running: RunningRequest,
        answer: list[Event],
        context: FrontContext,
    ) -> dict[str, object]:
        kept = kept_events(answer, body.parallel)
        return completion_body(running.request.request_id, body.model, kept)


class ImageGenerations:
    front = FRONT
    errors = OPENAI_ERRORS
    request_id_header = "X-Request-Id"

    def caller(self, request: Request, context: FrontContext) -> str:
        return caller_of(request, context)

    def parse(self, data: dict[str, object]) -> ImageGenerationRequest:
        return parse_image_request(data)

    def bot(self, context: FrontContext, body: ImageGenerationRequest) -> DeployedBot:
        return bot_of_kind(context, body.model, "image", "/v1/images/generations")

    def bot_request(
        self, body: ImageGenerationRequest, deployed: DeployedBot, request_id: str, caller: str
    ) -> BotRequest:
        config = deployed.config
        ratios = config.image.aspect_ratios if isinstance(config, ImageBotConfig) else ()
        return to_image_bot_request(body, request_id, caller, ratios)

    def stream_renderer(self, body: ImageGenerationRequest) -> StreamRenderer | None:
        return None  # images are answered whole

    async def whole(
        self,
        body: ImageGenerationRequest,
        running: RunningRequest,
        answer: list[Event],
        context: FrontContext,
    ) -> dict[str, object]:
        return await images_body(answer, body.response_format, context.local_media)


CHAT_COMPLETIONS = ChatCompletions()
IMAGE_GENERATIONS = ImageGenerations()
