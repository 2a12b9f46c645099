"""A request's tracked events -> Poe SSE bytes.

``meta`` goes first and at once (Poe wants a first byte within seconds), then the answer as it
arrives (tool calls as ``json`` events, :mod:`fmgate.fronts.poe.tool_chunks`; citations as
footnotes, :mod:`fmgate.fronts.poe.footnotes`); a failure becomes an ``error`` event; ``done``
always ends the stream. The caller going
away cancels the bot's stream (and with it the Bedrock call) at the next await. A server
shutdown that cuts the stream ends it like a failure: a retryable ``error``, then ``done``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field

from fmgate.accounting.tracker import RequestTracker
from fmgate.core.errors import BotMisconfigured, GatewayError
from fmgate.core.events import (
    Citation,
    Done,
    Event,
    Media,
    Notice,
    Progress,
    ReasoningDelta,
    TextDelta,
    ToolCallStart,
    ToolInputDelta,
)
from fmgate.fronts.media_store import MediaUploader
from fmgate.fronts.poe import sse
from fmgate.fronts.poe.errors import poe_error_type
from fmgate.fronts.poe.footnotes import Footnotes
from fmgate.fronts.poe.reasoning import ReasoningQuote
from fmgate.fronts.poe.tool_chunks import ToolCallChunks
from fmgate.fronts.poe.turn_recorder import TurnRecorder

logger = logging.getLogger("fmgate.poe")

UNEXPECTED = GatewayError("unexpected error in the Poe stream")


@dataclass(slots=True)
class Rendering:
    """What rendering one answer remembers between its events."""

    tool_calls: ToolCallChunks
    #: The state the answer's bot message keeps (sent as the ``data`` event at the end).
    recorder: TurnRecorder
    quote: ReasoningQuote = field(default_factory=ReasoningQuote)
    footnotes: Footnotes = field(default_factory=Footnotes)


async def poe_event_stream(
    events: AsyncGenerator[Event, None],
    tracker: RequestTracker,
    uploader: MediaUploader | None,
    rendering: Rendering,
) -> AsyncIterator[bytes]:
    """Yield the Poe SSE response for one query's tracked ``events``.

    A failure of the bot (already recorded on ``tracker`` by the tracking) or of rendering its
    output (an upload) becomes Poe's ``error`` event; ``done`` always follows.
    """
    yield sse.META
    async with aclosing(events):
        try:
            async for event in events:
                rendering.recorder.record(event)
                chunk = await poe_bytes(event, rendering, tracker, uploader)
                if chunk:
                    yield chunk
            state = rendering.recorder.data_event()
            if state:
                yield state
        except GatewayError as error:
            tracker.failed(error)  # a no-op for the bot's own failures: already recorded
            notes = answer_text(rendering, rendering.footnotes.notes())
            if notes:  # the markers already shown keep their footnotes
                yield notes
            yield sse.error(
                error.user_message,
                allow_retry=error.retryable
                and (error.retry_after_partial_answer or not tracker.delivered),
                error_type=poe_error_type(error),
            )
        except Exception:
            logger.exception("unexpected error while sending the answer")
            tracker.failed(UNEXPECTED)
            yield sse.error(UNEXPECTED.user_message, allow_retry=False)
    yield sse.DONE


async def poe_bytes(
    event: Event, rendering: Rendering, tracker: RequestTracker, uploader: MediaUploader | None
) -> bytes:
    """One neutral event as Poe SSE (empty for events Poe does not show)."""
    match event:
        case TextDelta(text=text):
            return sse.text(rendering.quote.answer(text))
        case Citation():
            rendering.footnotes.cite(event)
            return b""
        case Done():
            notes = answer_text(rendering, rendering.footnotes.notes())
            return notes + rendering.tool_calls.finish()
    # Anything else completes the text block before it: its footnote markers go first.
    markers = answer_text(rendering, rendering.footnotes.markers())
    return markers + await shown(event, rendering, tracker, uploader)


def answer_text(rendering: Rendering, text: str) -> bytes:
    """Answer text the gateway adds (footnotes), as a ``text`` event ("" adds nothing)."""
    return sse.text(rendering.quote.answer(text)) if text else b""


async def shown(
    event: Event, rendering: Rendering, tracker: RequestTracker, uploader: MediaUploader | None
) -> bytes:
    """The events besides answer text, citations and the end."""
    match event:
        case ReasoningDelta(text=text):
            return sse.text(rendering.quote.reasoning(text))
        case Notice(text=text):
            return sse.text(f"\n\n_{text}_" if tracker.delivered else f"_{text}_\n\n")
        case Progress(text=text):
            return sse.replace_response(text)
        case Media():
            return await media_events(event, uploader)
        case ToolCallStart(id=call_id, name=name):
            return rendering.tool_calls.start(call_id, name)
        case ToolInputDelta(id=call_id, json=fragment):
            return rendering.tool_calls.arguments(call_id, fragment)
    return b""


async def media_events(media: Media, uploader: MediaUploader | None) -> bytes:
    """Upload a generated file to Poe and show it inline."""
    if uploader is None:
        raise BotMisconfigured("bot has no access key, so it cannot upload files to Poe")
    uploaded = await uploader.upload(media)
    return sse.file(
        uploaded.url, uploaded.content_type, uploaded.name, uploaded.inline_ref
    ) + sse.text(f"![{uploaded.name}][{uploaded.inline_ref}]\n\n")
