"""One process serving the gateway: ``fmgate serve``'s only process, or one worker of
``fmgate serve --workers N`` (started by :mod:`fmgate.server.supervisor`).

Either way the process builds the app over its own gateway (Bedrock clients, ledger connection,
metrics, limits, breakers) and serves it with graceful shutdown (:mod:`fmgate.server.serving`).
A worker differs in four ways:

- it serves the listening socket its supervisor bound, and on a port of its own its
  ``/metrics`` and, in development, the media it generated (:mod:`fmgate.server.worker_port`);
- it loads the catalog file when it starts, as a fresh ``fmgate serve`` would (a replacement for
  a worker that died then serves what its siblings reloaded), on the ``gateway`` settings the
  supervisor started with (those need a restart, for every worker alike); a file that no longer
  validates is logged and the supervisor's catalog is served;
- SIGHUP does nothing until the catalog reloader listens (rather than end the process); the
  supervisor holds back a reload asked for while a worker starts until it serves;
- it tells its supervisor when it serves, and drains and stops on its own if the supervisor is
  gone (the supervisor's end of their pipe closed).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection
from pathlib import Path

from fmgate.config.catalog import Catalog
from fmgate.config.errors import CatalogError
from fmgate.config.loader import load_catalog
from fmgate.core.shutdown import ShutdownSignal
from fmgate.observability.logging import configure_logging
from fmgate.server.app import create_app
from fmgate.server.gateway import GatewayOptions
from fmgate.server.gc_tuning import tune_for_serving
from fmgate.server.reload import DEFAULT_POLL_SECONDS
from fmgate.server.serving import serve
from fmgate.server.worker_slot import WorkerSlot

logger = logging.getLogger("fmgate.server.worker")

#: What a worker sends its supervisor once it serves.
READY = "ready"


@dataclass(frozen=True, slots=True)
class ServeSpec:
    """What a process serving the gateway starts from (picklable: each worker gets a copy)."""

    catalog: Catalog
    options: GatewayOptions
    host: str
    port: int
    log_level: str = "INFO"
    log_json: bool = False
    #: The file ``catalog`` was loaded from, followed (polling, SIGHUP); None: the bundled one.
    catalog_path: Path | None = None
    reload_interval: float = DEFAULT_POLL_SECONDS

    @property
    def grace_seconds(self) -> float:
        return self.catalog.gateway.shutdown_grace_seconds


def serve_gateway(
    spec: ServeSpec,
    catalog: Catalog | None = None,
    *,
    sockets: list[socket.socket] | None = None,
    worker: WorkerSlot | None = None,
    worker_socket: socket.socket | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Serve ``catalog`` (default: the spec's) until shut down (:mod:`fmgate.server.serving`)."""
    shutdown = ShutdownSignal()
    app = create_app(
        catalog or spec.catalog,
        spec.options,
        catalog_path=spec.catalog_path,
        reload_interval=spec.reload_interval,
        shutdown=shutdown,
        worker=worker,
        worker_socket=worker_socket,
    )
    serve(
        app,
        shutdown,
        host=spec.host,
        port=spec.port,
        log_level=spec.log_level,
        grace_seconds=spec.grace_seconds,
        sockets=sockets,
        on_started=started_serving(on_started),
    )


def started_serving(then: Callable[[], None] | None) -> Callable[[], None]:
    """What runs once the gateway is open and listening: the collector tuned for serving
    (:mod:`fmgate.server.gc_tuning`), then ``then``."""

    def started() -> None:
        tune_for_serving()
        if then is not None:
            then()

    return started


@dataclass(frozen=True, slots=True)
class WorkerStart:
    """What the supervisor hands one worker process (pickled into it by ``multiprocessing``)."""

    spec: ServeSpec
    slot: WorkerSlot
    #: This worker's socket of the main port's reuse-port group, and its metrics socket.
    listener: socket.socket
    metrics_listener: socket.socket
    #: The worker's end of its pipe to the supervisor.
    link: Connection


def run_worker(start: WorkerStart) -> None:
    """The body of a worker process (the supervisor's ``multiprocessing`` target)."""
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # until the catalog reloader listens
    spec = start.spec
    configure_logging(json=spec.log_json, level=spec.log_level)
    follow_supervisor(start.link)
    serve_gateway(
        worker_spec(spec, start.slot),
        catalog_at_start(spec),
        sockets=[start.listener],
        worker=start.slot,
        worker_socket=start.metrics_listener,
        on_started=lambda: start.link.send(READY),
    )


def worker_spec(spec: ServeSpec, slot: WorkerSlot) -> ServeSpec:
    """``spec`` as this worker serves it: its generated media (development) are linked at its
    own port, the only one that has them."""
    if spec.options.local_media_url is None:
        return spec
    own = f"http://{spec.host}:{slot.metrics_port}"
    return replace(spec, options=replace(spec.options, local_media_url=own))


def catalog_at_start(spec: ServeSpec) -> Catalog:
    """The catalog file as it is now, on the supervisor's ``gateway`` settings (see the module
    doc); the supervisor's catalog when there is no file or it no longer validates."""
    if spec.catalog_path is None:
        return spec.catalog
    try:
        current = load_catalog(spec.catalog_path)
    except CatalogError as exc:
        logger.error(
            "catalog %s rejected at worker start; serving the catalog the server started with:\n%s",
            spec.catalog_path,
            exc,
        )
        return spec.catalog
    return current.model_copy(update={"gateway": spec.catalog.gateway})


def follow_supervisor(link: Connection) -> None:
    """Drain and stop, as on SIGTERM, once the supervisor's end of ``link`` closes (it died)."""

    def wait_for_end() -> None:
        try:
            while True:
                link.recv()
        except (EOFError, OSError):
            pass
        logger.warning("the supervisor is gone: stopping this worker")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=wait_for_end, name="fmgate-supervisor-link", daemon=True).start()
