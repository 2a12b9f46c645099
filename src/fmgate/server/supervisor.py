"""``fmgate serve --workers N``: one supervisor process, N worker processes serving one port.

Each worker is a whole gateway (:mod:`fmgate.server.gateway_process`): its own event loop,
Bedrock clients, metrics, limits and breakers, its own connection to the usage ledger. The
supervisor serves nothing itself (``fmgate serve`` starts the embedded emulator, when there is
one, in the supervisor: once, for every worker to call). It:

1. binds the sockets before any worker starts (:mod:`fmgate.server.listeners`): the main port
   once per worker, in one reuse-port group, and one metrics port per worker; it keeps its
   copies, for the workers that replace others;
2. creates the SQLite ledger file once, so that the workers only open it;
3. starts each worker with ``multiprocessing``'s *spawn* (a fresh interpreter: the supervisor
   may run the emulator's threads, which a fork would copy in whatever state they are), handing
   it its sockets and one end of a pipe; the worker says on it when it serves;
4. replaces a worker that exits while the others serve: at once (the connections the kernel
   queued on its socket meanwhile are served by the replacement), then after 1, 2, 4... up to
   30 s while replacements keep dying within :data:`QUICK_EXIT_SECONDS` (its socket is closed
   while it waits, so new connections go to the other workers, and bound again for the
   replacement). A worker that exits before any worker ever served means start-up failed (a
   catalog bot that cannot be built, a ledger that cannot be opened): everything stops, exit 1;
5. forwards SIGHUP to every worker: each reloads the catalog file (a worker still starting gets
   it once it serves: its reloader listens from then on);
6. on SIGTERM or SIGINT closes its copies of the sockets and forwards SIGTERM: every worker
   drains as ``fmgate serve`` alone does (no new connections, ``/readyz`` 503, streams get the
   grace period, the rest are cut with a retryable error, accounting is flushed). A second
   SIGINT is forwarded as SIGINT (workers stop at once). Once every worker has exited the
   supervisor exits 0 — 1 if a worker failed or had to be killed, when it was still there after
   the grace period, the cut allowance and :data:`STOP_MARGIN_SECONDS`.

Why not uvicorn's own ``Multiprocess`` supervisor: it runs uvicorn's plain server in each worker
(not the graceful one), answers SIGHUP by restarting every worker instead of reloading, and keeps
its listening socket open while the workers drain, so new connections would wait in its queue
instead of being refused. Not detected here: a worker that hangs without exiting (uvicorn pings
its workers over their pipe); its metrics port stops answering, which a scrape shows.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from fmgate.accounting.ledger_schema import LedgerSchemaError
from fmgate.accounting.sqlite_ledger import create_ledger_file
from fmgate.server.gateway_process import READY, ServeSpec, WorkerStart, run_worker
from fmgate.server.listeners import (
    bind_listener,
    bind_main_listeners,
    bind_metrics_listeners,
    close_all,
    port_of,
)
from fmgate.server.serving import CUT_ALLOWANCE_SECONDS
from fmgate.server.worker_slot import WorkerSlot

logger = logging.getLogger("fmgate.server.supervisor")

#: A worker that exits sooner than this after it started counts towards a longer restart delay.
QUICK_EXIT_SECONDS = 60.0
LONGEST_RESTART_DELAY_SECONDS = 30.0
#: After the grace period and the cut allowance: how long workers still get before SIGKILL.
STOP_MARGIN_SECONDS = 10.0

HANDLED_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)


def restart_delay(quick_exits: int) -> float:
    """Seconds before replacing a worker that exited after ``quick_exits`` quick exits in a row
    (this one included): 0 for one that had been running a while, then 1, 2, 4... up to 30."""
    if quick_exits <= 0:
        return 0.0
    return min(LONGEST_RESTART_DELAY_SECONDS, 2.0 ** (quick_exits - 1))


def describe_exit(exitcode: int) -> str:
    """``code 3``, ``signal SIGKILL`` (``multiprocessing``: minus the signal's number)."""
    if exitcode >= 0:
        return f"code {exitcode}"
    try:
        return f"signal {signal.Signals(-exitcode).name}"
    except ValueError:
        return f"signal {-exitcode}"


@dataclass(slots=True)
class RunningWorker:
    """A worker process the supervisor started, and what it knows of it."""

    slot: WorkerSlot
    process: BaseProcess
    #: The supervisor's end of the worker's pipe.
    link: Connection
    started_at: float
    serving: bool = False
    #: The pipe ended (the worker is exiting): no longer waited on.
    link_ended: bool = False
    #: A SIGHUP came while it was starting: forwarded once it serves.
    reload_pending: bool = False


@dataclass(slots=True)
class Restarts:
    """When each worker slot is due to be started again, and its quick exits in a row."""

    due: dict[int, float] = field(default_factory=dict)
    quick_exits: dict[int, int] = field(default_factory=dict)

    def schedule(self, index: int, *, ran_seconds: float, now: float) -> float:
        quick = self.quick_exits.get(index, 0) + 1 if ran_seconds < QUICK_EXIT_SECONDS else 0
        self.quick_exits[index] = quick
        delay = restart_delay(quick)
        self.due[index] = now + delay
        return delay

    def take_due(self, now: float) -> list[int]:
        ready = sorted(index for index, at in self.due.items() if at <= now)
        for index in ready:
            del self.due[index]
        return ready

    def next_in(self, now: float) -> float | None:
        return max(0.0, min(self.due.values()) - now) if self.due else None


class Supervisor:
    """Runs ``count`` workers of ``spec`` on ``spec.host:spec.port`` until SIGTERM / SIGINT.

    The sockets are bound when it is constructed (``port`` and ``metrics_ports`` are then
    known; port 0 picks free ones); :meth:`run` starts the workers and returns the exit code,
    calling ``on_all_serving`` the first time every worker serves.
    """

    def __init__(
        self,
        spec: ServeSpec,
        count: int,
        *,
        metrics_port: int,
        on_all_serving: Callable[[], None] | None = None,
    ) -> None:
        if count < 2:
            raise ValueError("a supervisor runs two workers or more")
        self.spec = spec
        self.count = count
        self._listeners = bind_main_listeners(spec.host, spec.port, count)
        try:
            self._metrics_listeners = bind_metrics_listeners(spec.host, metrics_port, count)
        except BaseException:
            close_all(self._listeners)
            raise
        self.port = port_of(self._listeners[0])
        self.metrics_ports = tuple(port_of(sock) for sock in self._metrics_listeners)
        self._context = multiprocessing.get_context("spawn")
        self._running: dict[int, RunningWorker] = {}
        self._restarts = Restarts()
        self._any_served = False
        self._on_all_serving = on_all_serving
        self._failed = False
        self._stopping_since: float | None = None
        #: Workers still there after the stop deadline were sent SIGKILL.
        self._killed = False
        self._signals: list[int] = []

    def slot(self, index: int) -> WorkerSlot:
        return WorkerSlot(index=index, count=self.count, metrics_ports=self.metrics_ports)

    @property
    def stopping(self) -> bool:
        return self._stopping_since is not None

    def run(self) -> int:
        """Start the workers, keep them running, stop them on a signal; the exit code."""
        try:
            self._prepare_ledger()
        except (LedgerSchemaError, sqlite3.Error, OSError) as exc:
            logger.error("cannot open the usage ledger %s: %s", self.spec.options.ledger_path, exc)
            close_all([*self._listeners, *self._metrics_listeners])
            return 1
        try:
            with self._signals_handled() as wakeup:
                for index in range(self.count):
                    self._start(index)
                while self._running or not self.stopping:
                    self._wait(wakeup)
                    self._handle_signals()
                    self._collect()
                    for index in self._restarts.take_due(time.monotonic()):
                        self._start(index)
                    self._enforce_stop_deadline()
        finally:
            close_all([*self._listeners, *self._metrics_listeners])
            for worker in self._running.values():  # only after an error in this loop
                worker.process.kill()
        logger.info("all workers exited")
        return 1 if self._failed else 0

    # -- workers ------------------------------------------------------------------------------

    def _prepare_ledger(self) -> None:
        path = self.spec.options.ledger_path
        if self.spec.catalog.gateway.ledger.kind == "sqlite" and path is not None:
            create_ledger_file(path)

    def _start(self, index: int) -> None:
        if self._listeners[index].fileno() == -1:  # closed while a restart was delayed
            try:
                self._listeners[index] = bind_listener(self.spec.host, self.port, reuse_port=True)
            except OSError as exc:
                logger.error("cannot listen for worker %d again: %s", index + 1, exc)
                self._restarts.schedule(index, ran_seconds=0.0, now=time.monotonic())
                return
        ours, theirs = self._context.Pipe()
        start = WorkerStart(
            spec=self.spec,
            slot=self.slot(index),
            listener=self._listeners[index],
            metrics_listener=self._metrics_listeners[index],
            link=theirs,
        )
        process = self._context.Process(
            target=run_worker, args=(start,), name=f"fmgate-worker-{index + 1}", daemon=True
        )
        process.start()
        theirs.close()
        self._running[index] = RunningWorker(start.slot, process, ours, time.monotonic())
        logger.info(
            "worker %d of %d started (pid %s)",
            index + 1,
            self.count,
            process.pid,
            extra={"worker": index + 1, "pid": process.pid},
        )

    def _wait(self, wakeup: socket.socket) -> None:
        now = time.monotonic()
        timeouts = [self._restarts.next_in(now), self._stop_deadline_in(now)]
        timeout = min((t for t in timeouts if t is not None), default=None)
        waited: list[Connection | socket.socket | int] = [wakeup]
        for worker in self._running.values():
            waited.append(worker.process.sentinel)
            if not worker.serving and not worker.link_ended:
                waited.append(worker.link)
        wait(waited, timeout)
        with contextlib.suppress(BlockingIOError):
            while wakeup.recv(512):
                pass

    def _collect(self) -> None:
        """Note the workers that now serve, and handle the ones that exited."""
        for index, worker in list(self._running.items()):
            if not worker.serving and not worker.link_ended:
                self._read_link(worker)
            exitcode = worker.process.exitcode
            if exitcode is None:
                continue
            worker.process.join()
            worker.link.close()
            del self._running[index]
            self._exited(worker, exitcode)

    def _read_link(self, worker: RunningWorker) -> None:
        try:
            if not worker.link.poll():
                return
            message = worker.link.recv()
        except (EOFError, OSError):
            worker.link_ended = True
            return
        if message == READY:
            worker.serving = True
            self._any_served = True
            logger.info(
                "worker %d of %d serving (pid %s), its metrics at port %d",
                worker.slot.number,
                self.count,
                worker.process.pid,
                worker.slot.metrics_port,
                extra={"worker": worker.slot.number, "pid": worker.process.pid},
            )
            if worker.reload_pending:
                self._signal(worker, signal.SIGHUP)
            serving = sum(1 for running in self._running.values() if running.serving)
            if serving == self.count and self._on_all_serving is not None:
                self._on_all_serving()
                self._on_all_serving = None

    def _exited(self, worker: RunningWorker, exitcode: int) -> None:
        number, pid, how = worker.slot.number, worker.process.pid, describe_exit(exitcode)
        extra = {"worker": number, "pid": pid, "exitcode": exitcode}
        if self.stopping:
            # A worker that was not serving yet may have been ended by the SIGTERM itself.
            clean = exitcode == 0 or (exitcode == -signal.SIGTERM and not worker.serving)
            if not clean:
                self._failed = True
            log = logger.info if clean else logger.error
            log("worker %d (pid %s) exited with %s", number, pid, how, extra=extra)
            return
        if not self._any_served:
            logger.error(
                "worker %d (pid %s) exited with %s before any worker served: start-up failed, "
                "stopping",
                number,
                pid,
                how,
                extra=extra,
            )
            self._failed = True
            self._stop()
            return
        now = time.monotonic()
        delay = self._restarts.schedule(
            worker.slot.index, ran_seconds=now - worker.started_at, now=now
        )
        if delay > 0:  # meanwhile the kernel sends new connections to the other workers
            self._listeners[worker.slot.index].close()
        logger.warning(
            "worker %d (pid %s) exited with %s; starting a new one in %.0f s",
            number,
            pid,
            how,
            delay,
            extra=extra,
        )

    # -- signals and stopping -----------------------------------------------------------------

    @contextlib.contextmanager
    def _signals_handled(self) -> Iterator[socket.socket]:
        """Queue SIGTERM, SIGINT and SIGHUP for the loop, which a byte on the yielded socket
        wakes up (``signal.set_wakeup_fd``)."""
        reader, writer = socket.socketpair()
        reader.setblocking(False)
        writer.setblocking(False)
        previous_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
        previous = {sig: signal.signal(sig, self._on_signal) for sig in HANDLED_SIGNALS}
        try:
            yield reader
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            signal.set_wakeup_fd(previous_fd)
            reader.close()
            writer.close()

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals.append(signum)

    def _handle_signals(self) -> None:
        while self._signals:
            signum = self._signals.pop(0)
            if signum == signal.SIGHUP:
                logger.info("SIGHUP: every worker reloads the catalog")
                for worker in self._running.values():
                    if worker.serving:
                        self._signal(worker, signal.SIGHUP)
                    else:
                        worker.reload_pending = True
            elif self.stopping:
                if signum == signal.SIGINT:
                    logger.warning("second SIGINT: stopping every worker now")
                    self._forward(signal.SIGINT)
            else:
                logger.info(
                    "%s: stopping %d workers; streams in flight get %.1fs to finish",
                    signal.Signals(signum).name,
                    len(self._running),
                    self.spec.grace_seconds,
                )
                self._stop()

    def _stop(self) -> None:
        """No more replacements, no more connections (once the workers close theirs), and
        SIGTERM to every worker."""
        self._stopping_since = time.monotonic()
        self._restarts.due.clear()
        close_all([*self._listeners, *self._metrics_listeners])
        self._forward(signal.SIGTERM)

    def _forward(self, signum: signal.Signals) -> None:
        for worker in self._running.values():
            self._signal(worker, signum)

    @staticmethod
    def _signal(worker: RunningWorker, signum: signal.Signals) -> None:
        if worker.process.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(worker.process.pid, signum)

    def _stop_deadline_in(self, now: float) -> float | None:
        if self._stopping_since is None or self._killed:
            return None
        limit = self.spec.grace_seconds + CUT_ALLOWANCE_SECONDS + STOP_MARGIN_SECONDS
        return max(0.0, self._stopping_since + limit - now)

    def _enforce_stop_deadline(self) -> None:
        left = self._stop_deadline_in(time.monotonic())
        if left is None or left > 0:
            return
        self._killed = True
        for worker in self._running.values():
            if worker.process.exitcode is None:
                logger.error(
                    "worker %d (pid %s) still running after the shutdown grace period: killed",
                    worker.slot.number,
                    worker.process.pid,
                )
                worker.process.kill()
                self._failed = True
