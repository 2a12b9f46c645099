"""The Anthropic-compatible endpoints on the front pipeline: ``POST /v1/messages`` and
``POST /v1/messages/count_tokens``.

Callers present a virtual API key as ``x-api-key`` (or ``Authorization: Bearer``). Each request
gets its own endpoint value, carrying the flags of its ``anthropic-beta`` header.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass

from starlette.requests import Request

from fmgate.bots.chat import ChatBot
from fmgate.bots.registry import DeployedBot
from fmgate.core.bot_request import BotRequest
from fmgate.core.events import Event
from fmgate.fronts.anthropic.errors import ANTHROPIC_ERRORS, AnthropicErrors
from fmgate.fronts.anthropic.message import whole_message_body
from fmgate.fronts.anthropic.parse import (
    BotSide,
    parse_count_tokens_request,
    parse_messages_request,
    prompt_request,
    to_bot_request,
)
from fmgate.fronts.anthropic.reasoning import reasoning_parameters
from fmgate.fronts.anthropic.schema import CountTokensRequest, MessagesRequest
from fmgate.fronts.anthropic.stream import MessageStreamWriter, message_events
from fmgate.fronts.bearer import bearer_token
from fmgate.fronts.context import FrontContext
from fmgate.fronts.pipeline import Refusal, RunningRequest, StreamRenderer


def presented_key(request: Request) -> str | None:
    return request.headers.get("x-api-key") or bearer_token(request.headers.get("authorization"))


def api_caller(request: Request, context: FrontContext) -> str:
    caller = context.api_keys.caller(presented_key(request))
    if caller is None:
        raise Refusal(401, "invalid x-api-key", "authentication_error")
    return caller


def chat_bot(context: FrontContext, model: str) -> DeployedBot:
    """The chat bot a request names as its ``model``, or a 404/400 refusal."""
    deployed = context.registry.get(model)
    if deployed is None:
        raise Refusal(404, f"model: {model[:100]}", "not_found_error")
    if deployed.config.kind != "chat":
        raise Refusal(400, f"model: {model} is not a chat model", "invalid_request")
    return deployed


def bot_side(body: CountTokensRequest, deployed: DeployedBot) -> BotSide:
    """The bot's model and the request's reasoning parameters (refused where the model does not
    take them)."""
    config = deployed.config
    return BotSide(model_id=config.model_id, reasoning=reasoning_parameters(body, config))


@dataclass(frozen=True, slots=True)
class AnthropicEndpoint:
    """What both endpoints share: the front, its errors, its callers."""

    #: The request's ``anthropic-beta`` flags.
    betas: tuple[str, ...] = ()

    @property
    def front(self) -> str:
        return "anthropic"

    @property
    def errors(self) -> AnthropicErrors:
        return ANTHROPIC_ERRORS

    @property
    def request_id_header(self) -> str:
        return "request-id"

    def caller(self, request: Request, context: FrontContext) -> str:
        return api_caller(request, context)


@dataclass(frozen=True, slots=True)
class Messages(AnthropicEndpoint):
    """``POST /v1/messages``: a message, streamed or whole."""

    def parse(self, data: dict[str, object]) -> MessagesRequest:
        return parse_messages_request(data)

    def bot(self, context: FrontContext, body: MessagesRequest) -> DeployedBot:
        return chat_bot(context, body.model)

    def bot_request(
        self, body: MessagesRequest, deployed: DeployedBot, request_id: str, caller: str
    ) -> BotRequest:
        return to_bot_request(body, request_id, caller, bot_side(body, deployed), self.betas)

    def stream_renderer(self, body: MessagesRequest) -> StreamRenderer | None:
        if not body.stream:
            return None

        def render(
            running: RunningRequest, events: AsyncGenerator[Event, None]
        ) -> AsyncIterator[bytes]:
            own_model = running.tracker.bot.model_id
            writer = MessageStreamWriter(running.request.request_id, body.model, own_model)
            return message_events(events, writer)

        return render

    async def whole(
        self,
        body: MessagesRequest,
        running: RunningRequest,
        answer: list[Event],
        context: FrontContext,
    ) -> dict[str, object]:
        own_model = running.tracker.bot.model_id
        return whole_message_body(running.request.request_id, body.model, answer, own_model)


@dataclass(frozen=True, slots=True)
class CountTokens(AnthropicEndpoint):
    """``POST /v1/messages/count_tokens``: Bedrock's CountTokens for the prompt."""

    def parse(self, data: dict[str, object]) -> CountTokensRequest:
        return parse_count_tokens_request(data)

    def bot(self, context: FrontContext, body: CountTokensRequest) -> DeployedBot:
        return chat_bot(context, body.model)

    async def answer(
        self, body: CountTokensRequest, deployed: DeployedBot, request_id: str, caller: str
    ) -> dict[str, object]:
        bot = deployed.bot
        if not isinstance(bot, ChatBot):  # a custom_class chat bot
            raise Refusal(400, f"model: {body.model} cannot count tokens", "invalid_request")
        prompt = prompt_request(body, request_id, caller, bot_side(body, deployed), self.betas)
        return {"input_tokens": await bot.count_input_tokens(prompt)}
