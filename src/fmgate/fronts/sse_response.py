"""The streaming response of every front: SSE chunks sent as soon as they are produced."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping

from starlette.responses import Response
from starlette.types import Receive, Scope, Send


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
                last = finished_well(producer)
                if pending:
                    body = pending[0] if len(pending) == 1 else b"".join(pending)
                    pending.clear()
                    await send({"type": "http.response.body", "body": body, "more_body": not last})
                    if last:
                        return
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


def finished_well(task: asyncio.Task[None]) -> bool:
    """Whether ``task`` has ended without being cancelled or failing."""
    return task.done() and not task.cancelled() and task.exception() is None


async def cancel_on_disconnect(receive: Receive, stream_task: asyncio.Task[None]) -> None:
    """Cancel ``stream_task`` when the client disconnects (the request body is already read)."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            stream_task.cancel()
            return
