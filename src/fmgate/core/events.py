"""The neutral response stream every bot produces and every front consumes.

A bot yields these; fronts (Poe, later OpenAI) turn them into their wire format. Errors are not
events: a bot raises :class:`fmgate.core.errors.GatewayError` and the front decides how to show it
(after the first byte on Poe: an ``error`` event, then ``done``).

:func:`accumulate` is a pure fold over a finished (or interrupted) stream that yields what was
delivered and the token usage, which accounting prices.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Literal

from fmgate.core.model_request import ServiceTier


@dataclass(frozen=True, slots=True)
class TextDelta:
    """A piece of the answer text, in order."""

    text: str


#: What a citation's ``start`` and ``end`` count: characters of a text document (0-based),
#: pages of a PDF (1-based), or chunks of a document given in chunks (0-based); ``end`` is
#: exclusive in each (Anthropic's conventions, which Bedrock passes on).
CitationUnit = Literal["char", "page", "chunk"]


@dataclass(frozen=True, slots=True)
class Citation:
    """A passage of a document that the current block of answer text rests on.

    It belongs to the text block being produced when it arrives, before or after that block's
    text (:class:`TextBreak` separates the blocks); a block may have several.
    """

    #: The document's place among the request's documents (0-based, in prompt order).
    document_index: int
    #: The document's title as the model reports it (Bedrock: the document's name).
    document_title: str | None
    #: The passage quoted, as it stands in the document.
    cited_text: str
    unit: CitationUnit
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class TextBreak:
    """The answer's text goes on in a new block: the text since the previous break (or since
    the answer began) is complete, with the citations that came with it.

    Answers that cite come in blocks, each cited passage in its own (Bedrock's
    ``citationsContent``); an answer of one text block has no break.
    """


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's visible reasoning ("thinking"), before or between answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ReasoningSignature:
    """The signature that closes the reasoning block just streamed (Anthropic's extended
    thinking): the block goes back to the model with it, unchanged, when a conversation
    continues a tool call."""

    signature: str


@dataclass(frozen=True, slots=True)
class RedactedReasoning:
    """Reasoning the model keeps encrypted: nothing to show, but the data goes back to the
    model with the turn it belongs to, as it came."""

    data: bytes


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """The model began a tool call; its input follows as :class:`ToolInputDelta` pieces.

    Streaming fronts open the call here; the :class:`ToolCall` that closes it repeats the whole
    input, so fronts that answer in one piece need only that.
    """

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolInputDelta:
    """A piece of the JSON input of the tool call ``id``, as the model produced it."""

    id: str
    json: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A complete tool call requested by the model (input is the JSON object it produced)."""

    id: str
    name: str
    input_json: str


@dataclass(frozen=True, slots=True)
class Progress:
    """Status of long-running work (video generation); replaces the previous progress text."""

    text: str


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should know that is not part of the answer (a skipped attachment)."""

    text: str


@dataclass(frozen=True, slots=True)
class AnsweredBy:
    """The output that follows comes from a fallback, not the bot's own model (for accounting).

    Sent once, just before the fallback's first event; fronts need not show it (the bot sends a
    :class:`Notice` when users are to be told).
    """

    model_id: str
    aws_region: str
    #: The service tier it was asked on (None: none named).
    service_tier: ServiceTier | None = None


@dataclass(frozen=True, slots=True)
class Media:
    """A generated file (image or video) to hand to the user."""

    data: bytes
    content_type: str
    name: str
    #: Cost-relevant count this media stands for: images generated or seconds of video.
    units: float = 1.0


@dataclass(frozen=True, slots=True)
class Usage:
    """Token usage as reported by Bedrock (or estimated when ``estimated`` is set).

    ``input_tokens`` excludes the prompt tokens read from (``cache_read_tokens``) or written to
    (``cache_write_tokens``) the prompt cache; ``cache_write_1h_tokens`` is the part of the
    writes made with the 1-hour TTL (the rest had the 5-minute default).
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    estimated: bool = False
    cache_write_1h_tokens: int = 0


StopReason = Literal[
    "end_turn",
    "max_tokens",
    "stop_sequence",
    "tool_use",
    "content_filtered",
    "guardrail_intervened",
    "other",
]


@dataclass(frozen=True, slots=True)
class Done:
    """The model finished normally. ``latency_ms`` is Bedrock's own figure when it gave one."""

    stop_reason: StopReason = "end_turn"
    latency_ms: int | None = None
    #: The service tier Bedrock reports it served the call on (None: it reported none).
    service_tier: str | None = None


Event = (
    TextDelta
    | Citation
    | TextBreak
    | ReasoningDelta
    | ReasoningSignature
    | RedactedReasoning
    | ToolCallStart
    | ToolInputDelta
    | ToolCall
    | Progress
    | Notice
    | AnsweredBy
    | Media
    | Usage
    | Done
)

#: Events that put output in front of the caller: once one is sent, a failed call cannot be
#: retried unseen, and the first one marks the time to first token.
OUTPUT_EVENTS: tuple[type[Event], ...] = (
    TextDelta,
    Citation,
    ReasoningDelta,
    RedactedReasoning,
    ToolCallStart,
    ToolInputDelta,
    ToolCall,
    Media,
)


@dataclass(slots=True)
class Summary:
    """What a stream delivered, folded from its events.

    Text arrives as many small deltas, so the pieces are kept in lists and joined when read:
    ``str +=`` on an attribute copies the whole answer on every token (quadratic).
    """

    text_parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    media: list[Media] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    usage: Usage | None = None
    stop_reason: StopReason | None = None
    upstream_latency_ms: int | None = None
    #: The fallback model that answered; None when it was the bot's own model.
    answering_model_id: str | None = None
    #: The service tier Bedrock reports it served the answer on; None: not reported.
    service_tier: str | None = None

    @property
    def text(self) -> str:
        return "".join(self.text_parts)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_parts)

    @property
    def finished(self) -> bool:
        return self.stop_reason is not None


def accumulate(events: Iterable[Event], into: Summary | None = None) -> Summary:
    """Fold events into a :class:`Summary` (pure; pass ``into`` to continue a running fold)."""
    summary = into if into is not None else Summary()
    for event in events:
        fold(summary, event)
    return summary


def fold(summary: Summary, event: Event) -> None:
    """Apply one event to a running summary."""
    match event:
        case TextDelta(text=text):
            summary.text_parts.append(text)
        case ReasoningDelta(text=text):
            summary.reasoning_parts.append(text)
        case Media():
            summary.media.append(event)
        case ToolCall():
            summary.tool_calls.append(event)
        case Usage():
            summary.usage = event
        case Done(stop_reason=reason, latency_ms=latency, service_tier=tier):
            summary.stop_reason = reason
            summary.upstream_latency_ms = latency
            summary.service_tier = tier
        case AnsweredBy(model_id=model_id):
            summary.answering_model_id = model_id
        case (
            Progress()
            | Notice()
            | Citation()
            | TextBreak()
            | ToolCallStart()
            | ToolInputDelta()
            | ReasoningSignature()
            | RedactedReasoning()
        ):
            pass


async def close_stream(stream: AsyncIterator[Event]) -> None:
    """Close an async generator (it holds its connection until closed); others own nothing."""
    if isinstance(stream, AsyncGenerator):
        await stream.aclose()
