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


async def next_before_cut(items: AsyncIterator[Item], shutdown: ShutdownSignal | None) -> Item:
    """``anext(items)``, ended with :class:`~fmgate.core.errors.ServerRestarting` if ``shutdown``
    cuts streams meanwhile (``StopAsyncIteration`` at the end, as ``anext``).

    The watch covers this one wait, in whichever task makes it, so a stream read from several
    tasks in turn (the /v1 fronts: the route's task, then the response's) is still cut. With no
    signal it is a plain ``anext``: nothing per event on the hot path.
    """
    if shutdown is None:
        return await anext(items)
    async with cut_on_shutdown(shutdown):
        return await anext(items)
