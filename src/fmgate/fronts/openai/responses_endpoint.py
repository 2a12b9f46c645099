"""``POST /v1/responses`` (the OpenAI Responses API) on the front pipeline, for chat bots.

The pipeline's steps, as this endpoint takes them: the caller (virtual key / JWT, as on chat
completions); the body read strictly (an unknown parameter is a 400 naming it) and refused
where the gateway cannot honour it; the bot; then :func:`prepare` loads the response that
``previous_response_id`` continues, from the caller's own stored responses (404 otherwise);
the conversation becomes the bot's request; the answer streams as Responses events or comes
whole, and with ``store`` (the default) it is kept for the caller before the caller sees its end.
"""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, replace

from pydantic import ValidationError
from starlette.requests import Request

from fmgate.bots.registry import DeployedBot
from fmgate.core.bot_request import BotRequest
from fmgate.core.events import Event
from fmgate.fronts.context import FrontContext
from fmgate.fronts.openai.endpoints import bot_of_kind, caller_of
from fmgate.fronts.openai.errors import OPENAI_ERRORS
from fmgate.fronts.openai.parallel_tool_calls import ToolCallLimit, kept_events
from fmgate.fronts.openai.parse import validation_error
from fmgate.fronts.openai.responses_input import input_items, input_messages
from fmgate.fronts.openai.responses_options import refused_parameter, to_bot_request
from fmgate.fronts.openai.responses_output import (
    OutputItems,
    ResponseFrame,
    echoed_fields,
    response_id,
)
from fmgate.fronts.openai.responses_schema import InputItem, ResponsesRequest
from fmgate.fronts.openai.responses_storage import (
    Continuation,
    ResponseArchive,
    StoredResponse,
    encoded_size,
    item_documents,
)
from fmgate.fronts.openai.responses_stream import finished, response_events
from fmgate.fronts.pipeline import Refusal, RunningRequest, StreamRenderer

#: The front's name in the ledger and the metrics.
FRONT = "openai-responses"


@dataclass(frozen=True, slots=True)
class ResponsesCall:
    """One ``POST /v1/responses``: its body, its input items, and what :func:`prepare` found."""

    body: ResponsesRequest
    #: This request's own input, as items.
    items: tuple[InputItem, ...]
    #: The stored response ``previous_response_id`` names.
    previous: StoredResponse | None = None
    #: Where the answer is kept; None with ``store: false``.
    archive: ResponseArchive | None = None

    def conversation(self) -> list[InputItem]:
        """Every input item, oldest first: what it continues, then its own input."""
        earlier = self.previous.conversation() if self.previous is not None else []
        return [*earlier, *self.items]

    def continuation(self) -> Continuation:
        previous = self.previous
        return Continuation(
            archive=self.archive,
            items=(*(previous.items if previous else ()), *item_documents(self.items)),
            conversation_id=previous.conversation_id if previous else None,
        )


def unknown_parameter(exc: ValidationError) -> Refusal | None:
    """OpenAI's answer to an unknown top-level parameter."""
    for error in exc.errors():
        if error["type"] == "extra_forbidden" and len(error["loc"]) == 1:
            name = str(error["loc"][0])[:100]
            return Refusal(400, f"Unknown parameter: '{name}'.", "unknown_parameter", param=name)
    return None


def parse_responses_request(data: dict[str, object]) -> ResponsesCall:
    try:
        body = ResponsesRequest.model_validate(data)
    except ValidationError as exc:
        raise (unknown_parameter(exc) or validation_error(exc)) from exc
    refusal = refused_parameter(body)
    if refusal is not None:
        raise refusal
    return ResponsesCall(body, input_items(body))


def previous_not_found(previous_id: str) -> Refusal:
    return Refusal(
        404,
        f"Previous response with id '{previous_id[:100]}' not found.",
        "previous_response_not_found",
        param="previous_response_id",
    )


async def prepare(call: ResponsesCall, caller: str, context: FrontContext) -> ResponsesCall:
    """Load the response the call continues (the caller's own only), and check that what a
    stored answer will hold fits ``gateway.stored_responses.max_response_bytes``."""
    archive = ResponseArchive(context.documents, caller)
    previous_id = call.body.previous_response_id
    previous = None
    if previous_id is not None:
        previous = await archive.load(previous_id)
        if previous is None:
            raise previous_not_found(previous_id)
    prepared = replace(call, previous=previous, archive=archive if call.body.stored else None)
    if prepared.archive is not None:
        size = encoded_size(prepared.continuation().items)
        limit = context.documents.limits.max_document_bytes
        if size > limit:
            raise Refusal(
                400,
                f"This conversation is too long to store ({size:,} bytes; the limit is "
                f"{limit:,}): send store: false, or start a new conversation.",
                "stored_response_too_large",
                param="store",
            )
    return prepared


class ResponsesCreate:
    front = FRONT
    errors = OPENAI_ERRORS
    request_id_header = "X-Request-Id"

    def caller(self, request: Request, context: FrontContext) -> str:
        return caller_of(request, context)

    def parse(self, data: dict[str, object]) -> ResponsesCall:
        return parse_responses_request(data)

    def bot(self, context: FrontContext, body: ResponsesCall) -> DeployedBot:
        return bot_of_kind(context, body.body.model, "chat", "/v1/responses")

    def bot_request(
        self, body: ResponsesCall, deployed: DeployedBot, request_id: str, caller: str
    ) -> BotRequest:
        messages = input_messages(body.body.instructions, body.conversation())
        previous = body.previous
        conversation_id = previous.conversation_id if previous else response_id(request_id)
        return to_bot_request(
            body.body, messages, deployed.config, request_id, caller, conversation_id
        )

    def stream_renderer(self, body: ResponsesCall) -> StreamRenderer | None:
        if not body.body.stream:
            return None

        def render(
            running: RunningRequest, events: AsyncGenerator[Event, None]
        ) -> AsyncIterator[bytes]:
            request_id = running.request.request_id
            return response_events(
                events,
                frame_of(body, request_id),
                OutputItems(request_id),
                body.continuation(),
                ToolCallLimit(body.body.parallel_tool_calls is not False),
            )

        return render

    async def whole(
        self,
        body: ResponsesCall,
        running: RunningRequest,
        answer: list[Event],
        context: FrontContext,
    ) -> dict[str, object]:
        request_id = running.request.request_id
        output = OutputItems(request_id)
        for event in kept_events(answer, body.body.parallel_tool_calls is not False):
            output.feed(event)
        _, response = finished(frame_of(body, request_id), output)
        await body.continuation().keep(response, output.items)
        return response


def frame_of(call: ResponsesCall, request_id: str) -> ResponseFrame:
    return ResponseFrame(
        id=response_id(request_id),
        model=call.body.model,
        created_at=int(time.time()),
        echoed=echoed_fields(call.body),
    )


RESPONSES_CREATE = ResponsesCreate()
