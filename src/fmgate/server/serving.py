"""Serving the app on uvicorn with fmgate's graceful shutdown.

On SIGTERM or SIGINT (a second SIGINT forces an immediate exit, as in uvicorn):

1. the listening socket closes at once (new connections are refused), idle keep-alive
   connections close, the :class:`~fmgate.core.shutdown.ShutdownSignal` starts *draining*
   (``/readyz`` answers 503; ``/healthz``, liveness, stays 200);
2. streams in flight run on for up to ``grace_seconds``;
3. then the signal *cuts* the streams still running: each ends with a retryable "The bot is
   restarting" error and a proper end of stream (Poe: ``error`` then ``done``), not a reset;
4. once every connection closed (uvicorn cancels what is left :data:`CUT_ALLOWANCE_SECONDS`
   after the cut, a backstop), the app's lifespan closes the gateway: background accounting
   drains and the usage ledger closes;
5. the process exits 0 (uvicorn alone re-raises the signal after its shutdown, which would end
   the process *by* the signal).

A worker of ``fmgate serve --workers N`` (:mod:`fmgate.server.supervisor`) serves a listening
socket its supervisor bound (``sockets``) and hears when it is serving (``on_started``); its
supervisor forwards the signals.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import signal
import socket
import threading
from collections.abc import Callable, Iterator

import uvicorn
from starlette.types import ASGIApp
from uvicorn.server import HANDLED_SIGNALS

from fmgate.core.shutdown import ShutdownSignal
from fmgate.server.listeners import BACKLOG

logger = logging.getLogger("fmgate.server.serving")

#: Seconds cut streams get to send their last events before uvicorn cancels what is left.
CUT_ALLOWANCE_SECONDS = 5.0


class GracefulServer(uvicorn.Server):
    """A uvicorn server that drains, cuts after a grace period, and exits 0 on a signal."""

    def __init__(
        self,
        config: uvicorn.Config,
        shutdown: ShutdownSignal,
        grace_seconds: float,
        on_started: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.shutdown_signal = shutdown
        self.grace_seconds = grace_seconds
        self.on_started = on_started

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        """Handle SIGTERM and SIGINT as uvicorn does, without re-raising them afterwards."""
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in HANDLED_SIGNALS}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        """uvicorn's start-up (the app's lifespan, then listening); then ``on_started``."""
        await super().startup(sockets)
        if self.started and self.on_started is not None:
            self.on_started()

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        """Drain, cut streams after the grace period, then uvicorn's own shutdown."""
        self.shutdown_signal.begin_draining()
        for listener in self.servers:  # uvicorn closes them too; first, so the log line is true
            listener.close()
        logger.info(
            "shutting down: no new connections; streams in flight get %.1fs to finish",
            self.grace_seconds,
        )
        cut = asyncio.get_running_loop().call_later(self.grace_seconds, self._cut_streams)
        try:
            await super().shutdown(sockets)
        finally:
            cut.cancel()

    def _cut_streams(self) -> None:
        if self.server_state.connections:
            logger.warning(
                "shutdown grace period (%.1fs) over: ending the streams still running",
                self.grace_seconds,
            )
        self.shutdown_signal.cut_streams()


#: Seconds an idle keep-alive connection is kept (uvicorn's default is 5).
KEEP_ALIVE_SECONDS = 75


def graceful_config(
    app: ASGIApp, *, host: str, port: int, log_level: str, grace_seconds: float
) -> uvicorn.Config:
    """uvicorn's configuration for ``fmgate serve`` (uvloop, httptools, no access log)."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        log_config=None,
        loop="uvloop",
        http="httptools",
        backlog=BACKLOG,
        # Idle keep-alive connections stay open longer than a load balancer's idle timeout (60 s
        # on AWS ALB by default): the gateway closing one as the balancer reuses it is a reset.
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        # A backstop only: streams are cut (and end properly) at grace_seconds.
        timeout_graceful_shutdown=math.ceil(grace_seconds + CUT_ALLOWANCE_SECONDS),
    )


def serve(
    app: ASGIApp,
    shutdown: ShutdownSignal,
    *,
    host: str,
    port: int,
    log_level: str,
    grace_seconds: float,
    sockets: list[socket.socket] | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Serve ``app`` until SIGTERM / SIGINT, then shut down gracefully (see the module doc).

    With ``sockets`` (already bound and listening) it serves those instead of binding
    ``host:port``, and closes them when it stops accepting. ``on_started`` is called once the
    app's lifespan has started and the server listens.
    """
    config = graceful_config(
        app, host=host, port=port, log_level=log_level, grace_seconds=grace_seconds
    )
    GracefulServer(config, shutdown, grace_seconds, on_started).run(sockets)
