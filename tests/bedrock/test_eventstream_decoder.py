"""The ConverseStream frame decoder, on frames from the emulator's encoder, and on the wire."""

from __future__ import annotations

import struct
import uuid
import zlib

import pytest
from botocore.eventstream import ChecksumMismatch, DuplicateHeader, EventStreamBuffer
from botocore.exceptions import EventStreamError

from fmgate.bedrock.client import BedrockClients
from fmgate.bedrock.errors import map_bedrock_error
from fmgate.bedrock.eventstream import (
    Frame,
    FrameDecoder,
    MalformedFrame,
    frame_event,
    parse_headers,
    stream_event_batches,
)
from fmgate.core.errors import ModelStreamFailed, Throttled
from fmgate_emulator import EmulatorClient
from fmgate_emulator.eventstream import encode_frame, event_frame, exception_frame

REGION = "us-east-1"
NOVA = "amazon.nova-lite-v1:0"

EVENTS = [
    ("messageStart", {"role": "assistant"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hel"}, "p": "abc"}),
    ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "lo ✓"}}),
    ("contentBlockStop", {"contentBlockIndex": 0}),
    ("messageStop", {"stopReason": "end_turn"}),
    ("metadata", {"usage": {"inputTokens": 3, "outputTokens": 2}, "metrics": {"latencyMs": 7}}),
]
WIRE = b"".join(event_frame(name, body) for name, body in EVENTS)


def decode_all(decoder: FrameDecoder, *chunks: bytes) -> list[tuple[str, object] | None]:
    return [frame_event(f, "ConverseStream") for c in chunks for f in decoder.feed(c)]


def test_whole_stream_in_one_chunk() -> None:
    decoder = FrameDecoder()

    assert decode_all(decoder, WIRE) == EVENTS
    assert decoder.pending == 0


def test_split_at_every_byte_boundary() -> None:
    for cut in range(len(WIRE) + 1):
        decoder = FrameDecoder()
        assert decode_all(decoder, WIRE[:cut], WIRE[cut:]) == EVENTS, cut
        assert decoder.pending == 0


def test_one_byte_at_a_time() -> None:
    decoder = FrameDecoder()

    events = decode_all(decoder, *(WIRE[i : i + 1] for i in range(len(WIRE))))

    assert events == EVENTS


def test_headers_agree_with_botocore() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(WIRE)
    theirs = [(dict(m.headers), m.payload) for m in buffer]

    ours = [(dict(f.headers), f.payload) for f in FrameDecoder().feed(WIRE)]

    assert ours == theirs


def header(name: str, type_code: int, value: bytes) -> bytes:
    return struct.pack(">B", len(name)) + name.encode() + struct.pack(">B", type_code) + value


def test_every_header_type() -> None:
    ident = uuid.uuid4()
    raw = b"".join(
        [
            header("t", 0, b""),
            header("f", 1, b""),
            header("b", 2, struct.pack(">b", -2)),
            header("s", 3, struct.pack(">h", -300)),
            header("i", 4, struct.pack(">i", 70000)),
            header("l", 5, struct.pack(">q", 2**40)),
            header("x", 6, struct.pack(">H", 2) + b"\x00\xff"),
            header("str", 7, struct.pack(">H", 2) + "é".encode()),
            header("ts", 8, struct.pack(">q", 1700000000000)),
            header("u", 9, ident.bytes),
        ]
    )

    assert parse_headers(raw) == {
        "t": True,
        "f": False,
        "b": -2,
        "s": -300,
        "i": 70000,
        "l": 2**40,
        "x": b"\x00\xff",
        "str": "é",
        "ts": 1700000000000,
        "u": ident,
    }


def test_unknown_header_type_and_truncated_headers_are_malformed() -> None:
    with pytest.raises(MalformedFrame):
        parse_headers(header("z", 42, b""))
    with pytest.raises(MalformedFrame):
        parse_headers(header("str", 7, struct.pack(">H", 9) + b"ab"))
    with pytest.raises(DuplicateHeader):
        parse_headers(header("t", 0, b"") + header("t", 1, b""))


def corrupt(frame: bytes, at: int) -> bytes:
    return frame[:at] + bytes([frame[at] ^ 0x01]) + frame[at + 1 :]


def test_bad_prelude_crc_is_a_checksum_mismatch() -> None:
    frame = event_frame("contentBlockDelta", {"delta": {"text": "x"}})

    with pytest.raises(ChecksumMismatch):
        list(FrameDecoder().feed(corrupt(frame, 9)))


def test_bad_message_crc_after_good_frames_yields_the_good_ones_first() -> None:
    bad = corrupt(event_frame("contentBlockDelta", {"delta": {"text": "x"}}), 20)
    frames = FrameDecoder().feed(WIRE + bad)
    seen: list[Frame] = [next(frames) for _ in EVENTS]

    with pytest.raises(ChecksumMismatch) as caught:
        next(frames)

    assert [frame_event(f, "ConverseStream") for f in seen] == EVENTS
    assert isinstance(map_bedrock_error(caught.value), ModelStreamFailed)


def test_frame_shorter_than_its_headers_is_malformed() -> None:
    prelude = struct.pack(">II", 16, 40)
    prelude += struct.pack(">I", zlib.crc32(prelude))

    with pytest.raises(MalformedFrame):
        list(FrameDecoder().feed(prelude + b"\x00" * 4))


def test_exception_frame_raises_event_stream_error_with_its_code() -> None:
    (frame,) = FrameDecoder().feed(exception_frame("throttlingException", "secret arn:aws:..."))

    with pytest.raises(EventStreamError) as caught:
        frame_event(frame, "ConverseStream")

    assert caught.value.response["Error"]["Code"] == "throttlingException"
    mapped = map_bedrock_error(caught.value)
    assert isinstance(mapped, Throttled)
    assert "arn:aws" not in (mapped.detail or "")


def test_in_stream_server_error_is_a_stream_failure() -> None:
    (frame,) = FrameDecoder().feed(exception_frame("internalServerException", "boom"))

    with pytest.raises(EventStreamError) as caught:
        frame_event(frame, "ConverseStream")

    assert isinstance(map_bedrock_error(caught.value), ModelStreamFailed)


def test_error_frame_uses_its_error_code() -> None:
    frame = encode_frame({":message-type": "error", ":error-code": "ThrottlingException"}, b"")

    with pytest.raises(EventStreamError) as caught:
        frame_event(next(FrameDecoder().feed(frame)), "ConverseStream")

    assert isinstance(map_bedrock_error(caught.value), Throttled)


def test_non_json_event_payload_is_malformed() -> None:
    frame = encode_frame({":message-type": "event", ":event-type": "messageStart"}, b"{nope")

    with pytest.raises(MalformedFrame):
        frame_event(next(FrameDecoder().feed(frame)), "ConverseStream")


def test_empty_payload_is_an_empty_object() -> None:
    frame = encode_frame({":message-type": "event", ":event-type": "messageStart"}, b"")

    assert frame_event(next(FrameDecoder().feed(frame)), "ConverseStream") == ("messageStart", {})


async def test_decodes_the_real_response_body(
    clients: BedrockClients, control: EmulatorClient
) -> None:
    transport = await clients.streams(REGION)
    response = await transport.open(
        {"modelId": NOVA, "messages": [{"role": "user", "content": [{"text": "Say hello"}]}]}
    )
    try:
        names = [
            name async for batch in stream_event_batches(response.content) for name, _ in batch
        ]
    finally:
        response.close()

    assert names[0] == "messageStart"
    assert "contentBlockDelta" in names
    assert names[-2:] == ["messageStop", "metadata"]
