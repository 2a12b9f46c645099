"""A minimal incremental Server-Sent-Events parser: bytes in, (event name, data) out.

Lean on purpose (the load generator must not be the bottleneck): it only splits frames on the
blank line and reads the ``event:`` and ``data:`` fields; comments, ``id:`` and ``retry:`` are
ignored. CRLF and LF line endings are both accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

MESSAGE = b"message"  # the event name when a frame has no ``event:`` line


@dataclass(slots=True)
class SseParser:
    """Feed raw body chunks; get back the complete events they finish."""

    _pending: bytes = field(default=b"")

    def feed(self, chunk: bytes) -> list[tuple[bytes, bytes]]:
        buffer = (self._pending + chunk).replace(b"\r\n", b"\n")
        *frames, self._pending = buffer.split(b"\n\n")
        return [parse_frame(frame) for frame in frames if frame]


def parse_frame(frame: bytes) -> tuple[bytes, bytes]:
    """(event name, data) of one frame; multiple ``data:`` lines are joined with newlines."""
    name = MESSAGE
    data: list[bytes] = []
    for line in frame.split(b"\n"):
        key, _, value = line.partition(b":")
        value = value.removeprefix(b" ")
        if key == b"event":
            name = value
        elif key == b"data":
            data.append(value)
    return name, b"\n".join(data)
