"""Writing an event stream response token by token, with stream faults applied in place."""

from __future__ import annotations

import asyncio

from aiohttp import web

from fmgate_emulator.eventstream import exception_frame
from fmgate_emulator.faults import STREAM_EXCEPTIONS, Fault, FaultKind
from fmgate_emulator.pacing import Pacer

EVENTSTREAM_CONTENT_TYPE = "application/vnd.amazon.eventstream"
_STREAM_FAULTS = frozenset(
    {FaultKind.MID_STREAM_EXCEPTION, FaultKind.STALL, FaultKind.DROP_CONNECTION}
)


class StreamEnded(Exception):
    """A fault ended the response early; the app returns ``response`` as it is."""

    def __init__(self, response: web.StreamResponse) -> None:
        super().__init__("stream ended by an injected fault")
        self.response = response


async def stall(delay_seconds: float) -> None:
    """Send nothing for ``delay_seconds`` (0: until the client goes away or the server stops)."""
    if delay_seconds > 0:
        await asyncio.sleep(delay_seconds)
    else:
        await asyncio.Event().wait()


def drop_connection(request: web.Request, response: web.StreamResponse | None = None) -> None:
    """Abort the TCP connection (no more bytes, not even headers) and end the handler."""
    if request.transport is not None:
        request.transport.abort()
    raise StreamEnded(response or web.Response())


class EventStreamWriter:
    """Sends frames; every token passes a checkpoint where a pending stream fault may fire."""

    def __init__(self, request: web.Request, pacer: Pacer, fault: Fault | None) -> None:
        self.request = request
        self.pacer = pacer
        self.fault = fault if fault and fault.kind in _STREAM_FAULTS else None
        self.tokens_sent = 0
        self.response = web.StreamResponse(headers={"Content-Type": EVENTSTREAM_CONTENT_TYPE})

    async def open(self) -> web.StreamResponse:
        await self.response.prepare(self.request)
        return self.response

    async def send(self, frame: bytes) -> None:
        await self.response.write(frame)

    async def token(self, frame: bytes) -> None:
        """Send one token's frame at the configured pace."""
        await self.checkpoint()
        if self.tokens_sent == 0:
            await self.pacer.first_token()
        else:
            await self.pacer.next_token()
        await self.send(frame)
        self.tokens_sent += 1

    async def checkpoint(self) -> None:
        """Fire the pending stream fault once ``after_tokens`` tokens have been sent."""
        fault = self.fault
        if fault is None or self.tokens_sent < fault.after_tokens:
            return
        self.fault = None
        match fault.kind:
            case FaultKind.MID_STREAM_EXCEPTION:
                await self.send(
                    exception_frame(fault.exception, STREAM_EXCEPTIONS[fault.exception])
                )
                await self.response.write_eof()
                raise StreamEnded(self.response)
            case FaultKind.STALL:
                await stall(fault.delay_seconds)
            case FaultKind.DROP_CONNECTION:
                drop_connection(self.request, self.response)

    async def finish(self, *frames: bytes) -> None:
        """Send the closing frames (after a last checkpoint) and end the response."""
        await self.checkpoint()
        for frame in frames:
            await self.send(frame)
        await self.response.write_eof()
