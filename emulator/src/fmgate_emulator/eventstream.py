"""Encoder for AWS event-stream frames (``application/vnd.amazon.eventstream``).

Frame layout (big-endian)::

    [total length u32][headers length u32][prelude CRC32]
    [headers][payload][message CRC32 over everything before it]

A header is ``name length u8, name, type u8, value``; only type 7 (string, u16 length) is needed.
botocore ships only a decoder (``botocore.eventstream.EventStreamBuffer``), which the tests use.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from typing import Any

_STRING_HEADER_TYPE = 7
_PRELUDE_LENGTH = 8
_CRC_LENGTH = 4


def encode_headers(headers: Mapping[str, str]) -> bytes:
    """Encode string headers in event-stream wire format."""
    out = bytearray()
    for name, value in headers.items():
        raw_name, raw_value = name.encode(), value.encode()
        out += struct.pack(">B", len(raw_name)) + raw_name
        out += struct.pack(">BH", _STRING_HEADER_TYPE, len(raw_value)) + raw_value
    return bytes(out)


def encode_frame(headers: Mapping[str, str], payload: bytes) -> bytes:
    """One complete frame with both CRC32 checksums."""
    raw_headers = encode_headers(headers)
    total = _PRELUDE_LENGTH + _CRC_LENGTH + len(raw_headers) + len(payload) + _CRC_LENGTH
    prelude = struct.pack(">II", total, len(raw_headers))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + raw_headers + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event_frame(event_type: str, body: Any) -> bytes:
    """An ``event`` frame whose JSON payload is ``body`` (e.g. ``contentBlockDelta``)."""
    headers = {
        ":event-type": event_type,
        ":content-type": "application/json",
        ":message-type": "event",
    }
    return encode_frame(headers, json.dumps(body, separators=(",", ":")).encode())


def exception_frame(exception_type: str, message: str) -> bytes:
    """An ``exception`` frame; botocore raises ``EventStreamError`` with ``exception_type``."""
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return encode_frame(headers, json.dumps({"message": message}).encode())
