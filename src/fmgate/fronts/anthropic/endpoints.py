"""The Anthropic-compatible ``POST /v1/messages`` on the front pipeline.

Callers present a virtual API key as ``x-api-key`` (or ``Authorization: Bearer``).
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator

from starlette.requests import Request

from fmgate.bots.registry import DeployedBot
from fmgate.core.bot_request import BotRequest
from fmgate.core.events import Event
from fmgate.fronts.anthropic.errors import ANTHROPIC_ERRORS
from fmgate.fronts.anthropic.message import whole_message_body
from fmgate.fronts.anthropic.parse import parse_messages_request, to_bot_request
from fmgate.fronts.anthropic.schema import MessagesRequest
from fmgate.fronts.anthropic.stream import MessageStreamWriter, message_events
from fmgate.fronts.bearer import bearer_token
from fmgate.fronts.context import FrontContext
from fmgate.fronts.pipeline import Refusal, RunningRequest, StreamRenderer


def presented_key(request: Request) -> str | None:
    return request.headers.get("x-api-key") or bearer_token(request.headers.get("authorization"))


class Messages:
    front = "anthropic"
    errors = ANTHROPIC_ERRORS
    request_id_header = "request-id"

    def caller(self, request: Request, context: FrontContext) -> str:
        caller = context.api_keys.caller(presented_key(request))
        if caller is None:
            raise Refusal(401, "invalid x-api-key", "authentication_error")
        return caller

    def parse(self, data: dict[str, object]) -> MessagesRequest:
        return parse_messages_request(data)

    def bot(self, context: FrontContext, body: MessagesRequest) -> DeployedBot:
        deployed = context.registry.get(body.model)
        if deployed is None:
            raise Refusal(404, f"model: {body.model[:100]}", "not_found_error")
        if deployed.config.kind != "chat":
            raise Refusal(400, f"model: {body.model} is not a chat model", "invalid_request")
        return deployed

    def bot_request(
        self, body: MessagesRequest, deployed: DeployedBot, request_id: str, caller: str
    ) -> BotRequest:
        return to_bot_request(body, request_id, caller)

    def stream_renderer(self, body: MessagesRequest) -> StreamRenderer | None:
        if not body.stream:
            return None

        def render(
            running: RunningRequest, events: AsyncGenerator[Event, None]
        ) -> AsyncIterator[bytes]:
            return message_events(
                events, MessageStreamWriter(running.request.request_id, body.model)
            )

        return render

    async def whole(
        self,
        body: MessagesRequest,
        running: RunningRequest,
        answer: list[Event],
        context: FrontContext,
    ) -> dict[str, object]:
        return whole_message_body(running.request.request_id, body.model, answer)


MESSAGES = Messages()
