"""Fast decoding of ConverseStream's event stream (``application/vnd.amazon.eventstream``).

fmgate sends the ConverseStream request itself (:mod:`fmgate.bedrock.stream_transport`); this
module decodes the response body's frames, instead of botocore's ``EventStreamBuffer`` and its
generic shape parser (together about 40% of the gateway's CPU per streamed token). Frame layout
(big-endian)::

    [total length u32][headers length u32][prelude CRC32]
    [headers][payload][message CRC32 over everything before it]

Both CRCs are checked (``zlib.crc32``), with botocore's limits on header and payload length;
a damaged frame raises a ``botocore.eventstream.ParserError`` subclass, so
:mod:`fmgate.bedrock.errors` maps it exactly as it maps botocore's own decoding failures.

Events come out as ``(member name, JSON payload)`` — the payload as Bedrock sent it, which is
the dict botocore's parser would have produced for every field :mod:`fmgate.bedrock.converse`
reads. ``exception`` and ``error`` frames raise botocore's ``EventStreamError`` with the same
``Error.Code`` botocore would give, so they become the same gateway errors as before.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass
from zlib import crc32

import aiohttp
import orjson
from botocore.eventstream import (
    ChecksumMismatch,
    DuplicateHeader,
    InvalidHeadersLength,
    InvalidPayloadLength,
    ParserError,
)
from botocore.exceptions import EventStreamError

#: Header value types of the event-stream format.
HeaderValue = bool | int | bytes | str | uuid.UUID

#: prelude: total length, headers length, prelude CRC32.
_PRELUDE = struct.Struct(">III")
_PRELUDE_LENGTH = _PRELUDE.size
_CRC = struct.Struct(">I")
_CRC_LENGTH = _CRC.size
#: The smallest frame: prelude and message CRC, no headers, no payload.
_MIN_FRAME_LENGTH = _PRELUDE_LENGTH + _CRC_LENGTH
#: botocore's limits (``botocore.eventstream``).
MAX_HEADERS_LENGTH = 128 * 1024
MAX_PAYLOAD_LENGTH = 24 * 1024 * 1024

_U8 = struct.Struct(">B")
_U16 = struct.Struct(">H")
#: Fixed-size header values by type code: 2 byte, 3 short, 4 int, 5 long, 8 timestamp (ms).
_FIXED_HEADER_VALUES: Mapping[int, struct.Struct] = {
    2: struct.Struct(">b"),
    3: struct.Struct(">h"),
    4: struct.Struct(">i"),
    5: struct.Struct(">q"),
    8: struct.Struct(">q"),
}
_TRUE, _FALSE, _BYTES, _STRING, _UUID = 0, 1, 6, 7, 9


class MalformedFrame(ParserError):  # type: ignore[misc]  # botocore is untyped
    """A frame the event-stream format does not allow (bad lengths, unknown header type, a
    body that ends inside a frame, an event payload that is not JSON)."""


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded event-stream message."""

    headers: Mapping[str, HeaderValue]
    payload: bytes


def parse_headers(raw: bytes) -> dict[str, HeaderValue]:
    """The headers block of one frame -> ``{name: value}``."""
    headers: dict[str, HeaderValue] = {}
    offset, end = 0, len(raw)
    try:
        while offset < end:
            name_length = raw[offset]
            name = raw[offset + 1 : offset + 1 + name_length].decode()
            offset += 1 + name_length
            value_type = raw[offset]
            offset += 1
            value: HeaderValue
            if value_type in (_STRING, _BYTES):
                (length,) = _U16.unpack_from(raw, offset)
                data = raw[offset + 2 : offset + 2 + length]
                if len(data) != length:
                    raise MalformedFrame("header value runs past the headers block")
                value = data.decode() if value_type == _STRING else data
                offset += 2 + length
            elif value_type in (_TRUE, _FALSE):
                value = value_type == _TRUE
            elif value_type == _UUID:
                value = uuid.UUID(bytes=raw[offset : offset + 16])
                offset += 16
            else:
                fixed = _FIXED_HEADER_VALUES.get(value_type)
                if fixed is None:
                    raise MalformedFrame(f"unknown header value type {value_type}")
                (value,) = fixed.unpack_from(raw, offset)
                offset += fixed.size
            if name in headers:
                raise DuplicateHeader(name)
            headers[name] = value
    except (IndexError, ValueError, struct.error) as exc:  # truncated or not UTF-8
        raise MalformedFrame("malformed headers block") from exc
    if offset != end:
        raise MalformedFrame("header value runs past the headers block")
    return headers


class FrameDecoder:
    """Incremental decoder: feed it body chunks as they arrive, get whole frames back.

    Frames of one stream repeat a handful of header blocks (every text delta has the same
    three headers), so parsed headers are remembered by their raw bytes.
    """

    def __init__(self) -> None:
        self._pending = b""
        self._known_headers: dict[bytes, Mapping[str, HeaderValue]] = {}

    @property
    def pending(self) -> int:
        """Bytes received that do not form a whole frame yet."""
        return len(self._pending)

    def feed(self, chunk: bytes) -> Iterator[Frame]:
        """Decode every whole frame now available; raises a ``ParserError`` on a damaged one
        (after yielding the frames before it)."""
        data = self._pending + chunk if self._pending else chunk
        offset, end = 0, len(data)
        view = memoryview(data)
        try:
            while end - offset >= _PRELUDE_LENGTH:
                total, headers_length, prelude_crc = _PRELUDE.unpack_from(data, offset)
                calculated = crc32(view[offset : offset + 8])
                if calculated != prelude_crc:
                    raise ChecksumMismatch(prelude_crc, calculated)
                if headers_length > MAX_HEADERS_LENGTH:
                    raise InvalidHeadersLength(headers_length)
                payload_length = total - headers_length - _MIN_FRAME_LENGTH
                if payload_length < 0:
                    raise MalformedFrame(f"frame length {total} < its headers and prelude")
                if payload_length > MAX_PAYLOAD_LENGTH:
                    raise InvalidPayloadLength(payload_length)
                if end - offset < total:
                    break
                crc_at = offset + total - _CRC_LENGTH
                (message_crc,) = _CRC.unpack_from(data, crc_at)
                calculated = crc32(view[offset + 8 : crc_at], prelude_crc)
                if calculated != message_crc:
                    raise ChecksumMismatch(message_crc, calculated)
                headers_at = offset + _PRELUDE_LENGTH
                payload_at = headers_at + headers_length
                raw_headers = data[headers_at:payload_at]
                headers = self._known_headers.get(raw_headers)
                if headers is None:
                    headers = self._known_headers[raw_headers] = parse_headers(raw_headers)
                offset += total
                yield Frame(headers, data[payload_at:crc_at])
        finally:
            view.release()
            self._pending = data[offset:]


def frame_event(frame: Frame, operation_name: str) -> tuple[str, object] | None:
    """An ``event`` frame -> ``(event type, JSON payload)``; ``None`` for frames that carry no
    event (unknown message types). ``exception`` / ``error`` frames raise ``EventStreamError``
    with botocore's ``Error.Code`` (the exception type / the error code)."""
    headers = frame.headers
    message_type = headers.get(":message-type")
    if message_type == "event":
        event_type = headers.get(":event-type")
        if not isinstance(event_type, str):
            raise MalformedFrame("event frame without :event-type")
        return event_type, decode_payload(frame.payload)
    if message_type == "exception":
        code = headers.get(":exception-type")
        raise EventStreamError(
            {"Error": {"Code": code if isinstance(code, str) else "", "Message": ""}},
            operation_name,
        )
    if message_type == "error":
        code = headers.get(":error-code")
        raise EventStreamError(
            {"Error": {"Code": code if isinstance(code, str) else "", "Message": ""}},
            operation_name,
        )
    return None


def decode_payload(payload: bytes) -> object:
    """An event's JSON payload (an empty payload is an empty object, as botocore has it)."""
    if not payload:
        return {}
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise MalformedFrame("event payload is not JSON") from exc


async def stream_event_batches(
    content: aiohttp.StreamReader, operation_name: str = "ConverseStream"
) -> AsyncIterator[list[tuple[str, object]]]:
    """Every event of a ConverseStream response body as ``(member name, payload)``, in order,
    in the batches that arrived together (the frames of one read of the body), so that a burst
    is handled at once. A frame that fails (an exception event, a broken frame) raises after the
    batch of the events before it. Closing the response stays the caller's job.
    """
    decoder = FrameDecoder()
    while chunk := await content.readany():
        batch: list[tuple[str, object]] = []
        try:
            for frame in decoder.feed(chunk):
                event = frame_event(frame, operation_name)
                if event is not None:
                    batch.append(event)
        except Exception:
            if batch:  # what came before a failing frame still goes first
                yield batch
            raise
        if batch:
            yield batch
    if decoder.pending:
        raise MalformedFrame(f"stream ended inside a frame ({decoder.pending} bytes left)")
