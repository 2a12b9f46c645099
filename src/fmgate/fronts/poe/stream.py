"""A bot's neutral event stream -> Poe SSE bytes.

``meta`` goes first and at once (Poe wants a first byte within seconds), then the answer as it
arrives; a failure becomes an ``error`` event; ``done`` always ends the stream. The caller going
away cancels the bot's stream (and with it the Bedrock call) at the next await. A server
shutdown that cuts the stream ends it like a failure: a retryable ``error``, then ``done``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from fmgate.accounting.tracker import RequestTracker
from fmgate.bots.base import Bot
from fmgate.core.bot_request import BotRequest
from fmgate.core.errors import BotMisconfigured, GatewayError
from fmgate.core.events import Media, Notice, Progress, ReasoningDelta, TextDelta, ToolCall
from fmgate.core.shutdown import ShutdownSignal, cut_on_shutdown
from fmgate.fronts.media_store import MediaUploader
from fmgate.fronts.poe import sse
from fmgate.fronts.poe.reasoning import ReasoningQuote

logger = logging.getLogger("fmgate.poe")

UNEXPECTED = GatewayError("unexpected error in the Poe stream")


async def poe_event_stream(
    bot: Bot,
    request: BotRequest,
    tracker: RequestTracker,
    uploader: MediaUploader | None,
    on_end: Callable[[RequestTracker], None],
    authorize: Callable[[], Awaitable[None]] | None = None,
    *,
    shutdown: ShutdownSignal | None = None,
) -> AsyncIterator[bytes]:
    """Yield the Poe SSE response for one query; ``on_end`` runs exactly once, however it ends.

    ``authorize`` (Poe's cost authorization for expensive bots) runs before the model is called;
    an ``InsufficientFunds`` from it becomes Poe's ``insufficient_fund`` error. When
    ``shutdown`` cuts streams, this one ends with ``ServerRestarting`` (retryable) and ``done``.
    """
    yield sse.META
    quote = ReasoningQuote()
    try:
        async with cut_on_shutdown(shutdown):
            if authorize is not None:
                await authorize()
            async for event in bot.stream(request):
                tracker.observe(event)
                match event:
                    case TextDelta(text=text):
                        yield sse.text(quote.answer(text))
                    case ReasoningDelta(text=text):
                        yield sse.text(quote.reasoning(text))
                    case Notice(text=text):
                        note = f"\n\n_{text}_" if tracker.delivered else f"_{text}_\n\n"
                        yield sse.text(note)
                    case Progress(text=text):
                        yield sse.replace_response(text)
                    case Media():
                        yield await media_events(event, uploader)
                    case ToolCall(name=name):
                        logger.info("model requested tool %s; tools are not wired on Poe", name)
        tracker.succeeded()
    except GatewayError as error:
        tracker.failed(error)
        logger.warning("request failed: %s (%s)", error.code, error.detail or error.user_message)
        yield sse.error(
            error.user_message,
            allow_retry=error.retryable
            and (error.retry_after_partial_answer or not tracker.delivered),
            error_type=error.poe_error_type,
        )
    except Exception:
        logger.exception("unexpected error while answering")
        tracker.failed(UNEXPECTED)
        yield sse.error(UNEXPECTED.user_message, allow_retry=False)
    finally:
        # Runs on success, failure, and cancellation (GeneratorExit / CancelledError) alike.
        tracker.cancelled()  # no-op unless nothing above ended the request
        on_end(tracker)
    yield sse.DONE


async def media_events(media: Media, uploader: MediaUploader | None) -> bytes:
    """Upload a generated file to Poe and show it inline."""
    if uploader is None:
        raise BotMisconfigured("bot has no access key, so it cannot upload files to Poe")
    uploaded = await uploader.upload(media)
    return sse.file(
        uploaded.url, uploaded.content_type, uploaded.name, uploaded.inline_ref
    ) + sse.text(f"![{uploaded.name}][{uploaded.inline_ref}]\n\n")


class SseResponse(Response):
    """A ``text/event-stream`` response that sends whatever the stream has *already* produced in
    one write.

    The stream runs in its own task and appends its chunks; the response sends everything
    pending each time it gets to run. Several events decoded from one Bedrock read thus leave in
    one socket write, while a lone token is sent as soon as the stream waits for more input: no
    token is held back to fill a batch. The client going away cancels the stream's task (and
    with it the Bedrock call), as Starlette's ``StreamingResponse`` does.
    """

    media_type = "text/event-stream"

    def __init__(self, chunks: AsyncIterator[bytes], headers: Mapping[str, str]) -> None:
        self.chunks = chunks
        self.status_code = 200
        self.background = None
        self.init_headers(headers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
        pending: list[bytes] = []
        ready = asyncio.Event()

        async def produce() -> None:
            try:
                async for chunk in self.chunks:
                    pending.append(chunk)
                    ready.set()
            finally:
                ready.set()

        producer = asyncio.create_task(produce())
        watcher = asyncio.create_task(cancel_on_disconnect(receive, producer))
        try:
            while True:
                await ready.wait()
                ready.clear()
                if pending:
                    body = pending[0] if len(pending) == 1 else b"".join(pending)
                    pending.clear()
                    await send({"type": "http.response.body", "body": body, "more_body": True})
                # The stream may have added its last chunks (``done``) while we were sending.
                if producer.done() and not pending:
                    break
            if producer.cancelled():
                return  # the client went away
            producer.result()  # re-raise what the stream raised (it converts its own errors)
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            producer.cancel()
            watcher.cancel()
            await asyncio.wait((producer, watcher))


async def cancel_on_disconnect(receive: Receive, stream_task: asyncio.Task[None]) -> None:
    """Cancel ``stream_task`` when the client disconnects (the request body is already read)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            stream_task.cancel()
            return
