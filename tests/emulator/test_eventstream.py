"""Frames from our encoder decode with botocore's own event-stream decoder."""

from __future__ import annotations

import json
import struct

import pytest
from botocore.eventstream import ChecksumMismatch, EventStreamBuffer

from fmgate_emulator.eventstream import encode_frame, event_frame, exception_frame


def decode(data: bytes, chunk: int | None = None) -> list[tuple[dict[str, object], bytes]]:
    buffer = EventStreamBuffer()
    step = chunk or len(data)
    messages: list[tuple[dict[str, object], bytes]] = []
    for start in range(0, len(data), step):
        buffer.add_data(data[start : start + step])
        messages.extend((m.headers, m.payload) for m in buffer)
    return messages


def test_event_frame_round_trips_through_botocore() -> None:
    body = {"contentBlockIndex": 0, "delta": {"text": "héllo"}}
    [(headers, payload)] = decode(event_frame("contentBlockDelta", body))
    assert headers == {
        ":event-type": "contentBlockDelta",
        ":content-type": "application/json",
        ":message-type": "event",
    }
    assert json.loads(payload) == body


def test_exception_frame_headers() -> None:
    [(headers, payload)] = decode(exception_frame("throttlingException", "slow down"))
    assert headers[":message-type"] == "exception"
    assert headers[":exception-type"] == "throttlingException"
    assert json.loads(payload) == {"message": "slow down"}


def test_many_frames_split_at_any_byte_decode_in_order() -> None:
    frames = b"".join(event_frame("messageStop", {"n": n}) for n in range(20))
    decoded = decode(frames, chunk=7)
    assert [json.loads(p)["n"] for _, p in decoded] == list(range(20))


def test_both_checksums_are_real() -> None:
    frame = bytearray(encode_frame({"a": "b"}, b"payload"))
    total, headers_length = struct.unpack(">II", frame[:8])
    assert total == len(frame)
    assert headers_length == len(b"\x01a\x07\x00\x01b")
    frame[-6] ^= 0xFF  # corrupt the payload: the message CRC no longer matches
    with pytest.raises(ChecksumMismatch):
        decode(bytes(frame))
