"""Members of Bedrock's answers fmgate does not model never break an answer: they are kept out
of the text, logged once per kind, and the answer goes on (Converse and ConverseStream, through
the real aiobotocore client against the emulator's ``unknown_members`` fault, and through the
frame decoder with frames no current Bedrock sends)."""

from __future__ import annotations

import json
import logging
import re

import pytest

from fmgate.bedrock import unknown_members
from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.converse import (
    StreamState,
    converse,
    converse_stream,
    convert_batch,
    finish_stream,
)
from fmgate.bedrock.eventstream import FrameDecoder, frame_event
from fmgate.bedrock.unknown_members import UnknownMembers
from fmgate.core.events import Done, Event, ReasoningDelta, TextDelta, Usage, accumulate
from fmgate.core.model_request import ChatMessage, ChatRequest, TextBlock
from fmgate_emulator import EmulatorClient
from fmgate_emulator.content import reply_text
from fmgate_emulator.eventstream import encode_frame, event_frame
from fmgate_emulator.unknown_members import UNKNOWN_TEXT

NOVA = "amazon.nova-lite-v1:0"
REGION = "us-east-1"
LOGGER = "fmgate.bedrock.unknown_members"

#: What the emulator's fault adds, as fmgate reports it: (place, name).
STREAM_KINDS = {
    ("ConverseStream event", "futureEvent"),
    ("content block start", "futureBlock"),
    ("content block delta", "futureBlock"),
    ("stop reason", "future_stop_reason"),
    ("metadata member", "futureMember"),
    ("usage member", "futureTokens"),
    ("metrics member", "futureMs"),
}
#: botocore drops the members its model lacks from a whole answer; the block kind it names.
CONVERSE_KINDS = {("content block", "futureBlock"), ("stop reason", "future_stop_reason")}


@pytest.fixture(autouse=True)
def fresh_record(monkeypatch: pytest.MonkeyPatch) -> UnknownMembers:
    """A process record of reported members of this test's own (logged once per test)."""
    record = UnknownMembers()
    monkeypatch.setattr(unknown_members, "UNKNOWN_MEMBERS", record)
    return record


def ask(text: str) -> ChatRequest:
    return ChatRequest(model_id=NOVA, messages=(ChatMessage("user", (TextBlock(text),)),))


#: The line :class:`UnknownMembers` logs: "... a <place> fmgate does not model: '<name>' ...".
LINE = re.compile(r"with an? (?P<place>.+) fmgate does not model: '(?P<name>.+)' \(skipped")


def reported(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str]]:
    """(place, name) of every unknown-member line logged."""
    found = (LINE.search(r.getMessage()) for r in caplog.records if r.name == LOGGER)
    return [(match["place"], match["name"]) for match in found if match is not None]


async def stream_events(clients: BedrockClients, text: str) -> list[Event]:
    return [event async for event in converse_stream(await clients.streams(REGION), ask(text))]


async def test_a_stream_with_unknown_members_answers_in_full_and_logs_each_kind_once(
    clients: BedrockClients, control: EmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    control.inject("unknown_members", count=2)
    caplog.set_level(logging.WARNING, logger=LOGGER)

    first = accumulate(await stream_events(clients, "tell me"))
    second = accumulate(await stream_events(clients, "tell me again"))

    assert first.text == reply_text("tell me", None)[0]
    assert second.text == reply_text("tell me again", None)[0]
    assert UNKNOWN_TEXT not in first.text + second.text
    assert first.stop_reason == "other"  # an unknown stop reason still finishes the answer
    assert first.usage is not None
    assert first.usage.output_tokens > 0
    lines = reported(caplog)
    assert set(lines) == STREAM_KINDS
    assert len(lines) == len(STREAM_KINDS)  # the second stream logged nothing new
    assert all(UNKNOWN_TEXT not in record.getMessage() for record in caplog.records)


async def test_a_whole_answer_with_unknown_members_answers_in_full_and_logs_each_kind_once(
    clients: BedrockClients, control: EmulatorClient, caplog: pytest.LogCaptureFixture
) -> None:
    control.inject("unknown_members", count=2)
    caplog.set_level(logging.WARNING, logger=LOGGER)
    client = await clients.get(REGION)

    first = accumulate(await converse(client, ask("whole")))
    second = accumulate(await converse(client, ask("whole again")))

    assert first.text == reply_text("whole", None)[0]
    assert second.text == reply_text("whole again", None)[0]
    assert first.stop_reason == "other"
    assert first.usage is not None
    assert first.usage.output_tokens > 0
    assert sorted(reported(caplog)) == sorted(CONVERSE_KINDS)


def frame(event_type: str, payload: object) -> bytes:
    return event_frame(event_type, payload)


def decode(*frames: bytes) -> list[Event]:
    """The frames through fmgate's decoder and converters, as a ConverseStream would be."""
    decoder = FrameDecoder()
    batch = [
        event
        for f in decoder.feed(b"".join(frames))
        if (event := frame_event(f, "ConverseStream")) is not None
    ]
    state = StreamState()
    events, failure = convert_batch(batch, state)
    assert failure is None
    return [*events, *finish_stream(state)]


def delta(index: int, body: object) -> bytes:
    return frame("contentBlockDelta", {"contentBlockIndex": index, "delta": body})


def test_frames_no_current_bedrock_sends_are_skipped_by_the_decoder(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    events = decode(
        frame("messageStart", {"role": "assistant"}),
        # An event type of tomorrow, whose payload is not even an object.
        encode_frame(
            {
                ":event-type": "rateNotice",
                ":content-type": "application/json",
                ":message-type": "event",
            },
            json.dumps(["not", "an", "object"]).encode(),
        ),
        frame("contentBlockStart", {"contentBlockIndex": 0, "start": {"image": {"format": "png"}}}),
        delta(0, {"image": {"source": {"bytes": "aGk="}}}),
        frame("contentBlockStop", {"contentBlockIndex": 0}),
        delta(1, {"reasoningContent": {"summary": "a reasoning member of tomorrow"}}),
        delta(1, {"reasoningContent": {"text": "thinking"}}),
        frame("contentBlockStop", {"contentBlockIndex": 1}),
        delta(2, {"text": "The answer"}),
        delta(2, {"citation": {"title": "a source", "location": {"web": {"url": "x"}}}}),
        delta(2, {"text": " goes on."}),
        frame("contentBlockStop", {"contentBlockIndex": 2}),
        frame("messageStop", {"stopReason": "malformed_model_output", "hint": {"a": 1}}),
        frame(
            "metadata",
            {
                "usage": {
                    "inputTokens": 3,
                    "outputTokens": 5,
                    "totalTokens": 8,
                    "reasoningTokens": 2,
                    "costDetails": {"currency": "USD"},
                },
                "metrics": {"latencyMs": 9, "timeToFirstTokenMs": 4},
                "billing": {"units": 1},
            },
        ),
    )
    assert [e for e in events if isinstance(e, TextDelta | ReasoningDelta)] == [
        ReasoningDelta("thinking"),
        TextDelta("The answer"),
        TextDelta(" goes on."),
    ]
    assert [e for e in events if isinstance(e, Usage)] == [Usage(input_tokens=3, output_tokens=5)]
    assert events[-1] == Done(stop_reason="other", latency_ms=9)
    assert set(reported(caplog)) == {
        ("ConverseStream event", "rateNotice"),
        ("content block start", "image"),
        ("content block delta", "image"),
        ("reasoning delta", "summary"),
        ("citation location", "web"),
        ("stop reason", "malformed_model_output"),
        ("messageStop member", "hint"),
        ("usage member", "reasoningTokens"),
        ("usage member", "costDetails"),
        ("metrics member", "timeToFirstTokenMs"),
        ("metadata member", "billing"),
    }


def test_the_record_is_bounded(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger=LOGGER)
    record = UnknownMembers(limit=2)
    for name in ("a", "b", "c", "a"):
        record.report("usage member", name)
    assert reported(caplog) == [("usage member", "a"), ("usage member", "b")]
