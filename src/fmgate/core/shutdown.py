"""Graceful shutdown as the app sees it: a :class:`ShutdownSignal` in two steps.

1. **Draining** — the server stopped accepting connections (SIGTERM / SIGINT). Streams already
   running go on; the readiness check (``/readyz``) answers 503 so a load balancer stops
   sending.
2. **Cut** — the grace period (``gateway.shutdown_grace_seconds``) is over. Every stream still
   running inside :func:`cut_on_shutdown` ends at once with
   :class:`~fmgate.core.errors.ServerRestarting`
   (a retryable error the front sends in its own shape, then ends the stream properly).

The server (``fmgate.server.serving``) drives the signal; fronts only watch it. Nothing here knows
about uvicorn or any wire protocol.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TypeVar

from fmgate.core.errors import ServerRestarting


class ShutdownSignal:
    """The server's shutdown progress, shared by the server and the app (one per server)."""

    def __init__(self) -> None:
        self._draining = False
        self._cut = False
        self._on_cut: set[Callable[[], None]] = set()

    @property
    def draining(self) -> bool:
        """Whether shutdown began: no new connections, readiness reports 503."""
        return self._draining

    @property
    def cut(self) -> bool:
        """Whether the grace period is over and running streams were told to end."""
        return self._cut

    def begin_draining(self) -> None:
        """Step 1: shutdown began (idempotent)."""
        self._draining = True

    def cut_streams(self) -> None:
        """Step 2: end every watched stream now (idempotent; also begins draining)."""
        self._draining = True
        if self._cut:
            return
        self._cut = True
        for callback in list(self._on_cut):
            callback()

    @contextmanager
    def watching(self, on_cut: Callable[[], None]) -> Iterator[None]:
        """Call ``on_cut`` when streams are cut while the block runs (at once if they were)."""
        if self._cut:
            on_cut()
        self._on_cut.add(on_cut)
        try:
            yield
        finally:
            self._on_cut.discard(on_cut)


@asynccontextmanager
async def cut_on_shutdown(shutdown: ShutdownSignal | None) -> AsyncIterator[None]:
    """Run the block until ``shutdown`` cuts streams, then raise :class:`ServerRestarting`.

    The cut interrupts whatever the block awaits (the Bedrock call, an upload) the way
    :func:`asyncio.timeout` does — by cancelling the task inside the block, which closes the
    upstream call — and turns that into ``ServerRestarting`` at the block's edge. It costs
    nothing per event: no task, no timer, until the cut. With ``shutdown`` None it does nothing.
    """
    if shutdown is None:
        yield
        return
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(None) as scope:
            with shutdown.watching(lambda: scope.reschedule(loop.time())):
                yield
    except TimeoutError:
        if scope.expired():
            raise ServerRestarting("stream cut at the end of the shutdown grace period") from None
        raise


Item = TypeVar("Item")


class StreamCut:
    """One stream's watch on ``shutdown``, entered once for the stream's whole life.

    :meth:`next` is ``anext(items)`` that ends with :class:`~fmgate.core.errors.ServerRestarting`
    when streams are cut: a cut while a task waits for the next item cancels that task (whichever
    task it is: the /v1 fronts read a stream from the route's task, then the response's) and the
    cancellation becomes ``ServerRestarting`` here, as :func:`asyncio.timeout` turns its own
    cancellation into ``TimeoutError``; a cut between two waits ends the next one before it
    starts. Per item it costs two attribute writes: no context, task or timer until the cut.
    """

    __slots__ = ("_cut", "_waiting")

    def __init__(self) -> None:
        self._cut = False
        #: The task waiting for the next item now, if any.
        self._waiting: asyncio.Task[object] | None = None

    def fire(self) -> None:
        """Called by the signal when streams are cut."""
        self._cut = True
        if self._waiting is not None:
            self._waiting.cancel()

    def fired(self) -> bool:
        return self._cut

    async def next(self, items: AsyncIterator[Item]) -> Item:
        if self.fired():
            raise ServerRestarting("stream cut at the end of the shutdown grace period")
        task = asyncio.current_task()
        self._waiting = task
        try:
            return await anext(items)
        except asyncio.CancelledError:
            # Ours alone (no other cancellation pending): the cut, not the caller going away.
            if self.fired() and task is not None and task.uncancel() == 0:
                raise ServerRestarting(
                    "stream cut at the end of the shutdown grace period"
                ) from None
            raise
        finally:
            self._waiting = None


@contextmanager
def stream_cut(shutdown: ShutdownSignal | None) -> Iterator[StreamCut]:
    """A :class:`StreamCut` watching ``shutdown`` while the block runs (never fires with None)."""
    cut = StreamCut()
    if shutdown is None:
        yield cut
        return
    with shutdown.watching(cut.fire):
        yield cut
