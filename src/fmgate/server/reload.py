"""Hot reload: notice catalog file changes, validate, and swap the registry without a restart.

A :class:`CatalogReloader` watches one catalog file two ways: it polls the file (its mtime and
size every ``poll_interval`` seconds, then a SHA-256 of the bytes when they moved) and it reloads
on ``SIGHUP``. A reload parses and validates the whole file off the event loop; an invalid file is
rejected with every problem logged and the running bots keep serving. A valid one is built into a
new registry and swapped in by :meth:`fmgate.server.gateway.Gateway.swap_catalog`: streams already
running finish on the bots they started with.

The ``gateway`` section configures services opened once at start-up (Bedrock clients and their
pools, endpoints, retries, limits); a change there is reported as "restart needed" and the
settings in use are kept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fmgate.config.catalog import Catalog
from fmgate.config.errors import CatalogError, CatalogProblem
from fmgate.config.gateway_settings import GatewaySettings
from fmgate.config.loader import parse_catalog
from fmgate.core.errors import GatewayError
from fmgate.server.gateway import Gateway

logger = logging.getLogger("fmgate.reload")

DEFAULT_POLL_SECONDS = 2.0

ReloadStatus = Literal["applied", "unchanged", "rejected"]


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What the poller compares: cheap ``stat`` fields, then the content's hash."""

    mtime_ns: int
    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class ReloadOutcome:
    """The result of one reload attempt."""

    status: ReloadStatus
    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    #: ``gateway`` settings that differ from the running ones; kept until a restart.
    restart_needed: tuple[str, ...] = ()
    #: Why the file was rejected (the loader's named problems); None unless rejected.
    problem: str | None = None

    def summary(self) -> str:
        """One line for the log."""
        if self.status == "rejected":
            return f"catalog rejected, the running bots keep serving:\n{self.problem}"
        parts = [f"catalog {self.status}"]
        for label, names in (
            ("added", self.added),
            ("removed", self.removed),
            ("changed", self.changed),
        ):
            if names:
                parts.append(f"{label}: {', '.join(names)}")
        if self.restart_needed:
            parts.append(f"restart needed for gateway.{', gateway.'.join(self.restart_needed)}")
        return "; ".join(parts)


#: The stamp of a file that is missing or cannot be read.
UNREADABLE = FileStamp(mtime_ns=0, size=-1, sha256="")


def read_stamped(path: Path) -> tuple[FileStamp, str | None]:
    """The file's stamp and text; (UNREADABLE, None) when it cannot be read. Blocking."""
    try:
        stat = path.stat()
        data = path.read_bytes()
    except OSError:
        return UNREADABLE, None
    stamp = FileStamp(stat.st_mtime_ns, stat.st_size, hashlib.sha256(data).hexdigest())
    try:
        return stamp, data.decode("utf-8")
    except UnicodeDecodeError:
        return stamp, None


def stamp_if_moved(path: Path, last: FileStamp | None) -> FileStamp | None:
    """The file's new stamp when its mtime or size moved since ``last``, else None. Blocking."""
    if last is not None:
        try:
            stat = path.stat()
        except OSError:
            stat = None
        now = (stat.st_mtime_ns, stat.st_size) if stat is not None else (0, -1)
        if now == (last.mtime_ns, last.size):
            return None
    return read_stamped(path)[0]


def parse_file_text(path: Path, text: str | None) -> Catalog:
    """Validate the text read from ``path``; unreadable files are a :class:`CatalogError` too."""
    if text is None:
        reason = "the file is missing, unreadable or not UTF-8 text"
        raise CatalogError([CatalogProblem(str(path), "", "", reason)])
    return parse_catalog(text, str(path))


def gateway_changes(running: GatewaySettings, wanted: GatewaySettings) -> tuple[str, ...]:
    """Names of the ``gateway`` settings that differ (these need a restart)."""
    return tuple(
        name
        for name in type(running).model_fields
        if getattr(running, name) != getattr(wanted, name)
    )


def compare_bots(running: Catalog, wanted: Catalog) -> tuple[tuple[str, ...], ...]:
    """(added, removed, changed) bot names, each in catalog order."""
    before = {bot.bot_name: bot for bot in running.bots}
    after = {bot.bot_name: bot for bot in wanted.bots}
    added = tuple(name for name in after if name not in before)
    removed = tuple(name for name in before if name not in after)
    changed = tuple(name for name in after if name in before and before[name] != after[name])
    return added, removed, changed


class CatalogReloader:
    """Keeps a gateway's bots in step with a catalog file (poll + SIGHUP)."""

    def __init__(
        self, gateway: Gateway, path: Path, *, poll_interval: float = DEFAULT_POLL_SECONDS
    ) -> None:
        self.gateway = gateway
        self.path = path
        self.poll_interval = poll_interval
        self.last_outcome: ReloadOutcome | None = None
        self._stamp: FileStamp | None = None
        self._lock = asyncio.Lock()
        self._waiters: list[asyncio.Future[ReloadOutcome]] = []
        self._signal_tasks: set[asyncio.Task[ReloadOutcome]] = set()

    async def reload(self) -> ReloadOutcome:
        """Read, validate and apply the file now (one reload at a time)."""
        async with self._lock:
            outcome = await self._reload()
        self.last_outcome = outcome
        if outcome.status == "rejected":
            logger.error(outcome.summary())
        elif outcome.restart_needed:
            logger.warning(outcome.summary())
        elif outcome.status == "applied":
            logger.info(outcome.summary())
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(outcome)
        self._waiters.clear()
        return outcome

    async def check(self) -> ReloadOutcome | None:
        """Reload when the file's content changed since it was last read; else None."""
        current = await asyncio.to_thread(stamp_if_moved, self.path, self._stamp)
        if current is None:
            return None
        if self._stamp is not None and current.sha256 == self._stamp.sha256:
            self._stamp = current  # touched or re-saved, same content
            return None
        return await self.reload()

    async def next_outcome(self) -> ReloadOutcome:
        """Wait for the next reload to finish (whatever triggers it) and return its outcome."""
        waiter: asyncio.Future[ReloadOutcome] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        return await waiter

    async def poll_forever(self) -> None:
        """Check the file every ``poll_interval`` seconds until cancelled."""
        while True:
            await asyncio.sleep(self.poll_interval)
            try:
                await self.check()
            except Exception:  # never let the watcher die; the next poll tries again
                logger.exception("catalog watch failed")

    @contextlib.asynccontextmanager
    async def watching(self) -> AsyncIterator[CatalogReloader]:
        """Poll (when ``poll_interval`` > 0) and reload on SIGHUP while the block runs."""
        loop = asyncio.get_running_loop()
        hooked = install_sighup(loop, self._on_sighup)
        poller = asyncio.create_task(self.poll_forever()) if self.poll_interval > 0 else None
        try:
            yield self
        finally:
            if hooked:
                loop.remove_signal_handler(signal.SIGHUP)
            if poller is not None:
                poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await poller
            for task in list(self._signal_tasks):
                task.cancel()

    def _on_sighup(self) -> None:
        logger.info("SIGHUP: reloading %s", self.path)
        task = asyncio.create_task(self.reload())
        self._signal_tasks.add(task)
        task.add_done_callback(self._signal_tasks.discard)

    async def _reload(self) -> ReloadOutcome:
        stamp, text = await asyncio.to_thread(read_stamped, self.path)
        self._stamp = stamp  # this content has been seen: the poller will not retry it
        try:
            wanted = await asyncio.to_thread(parse_file_text, self.path, text)
        except CatalogError as exc:
            return ReloadOutcome("rejected", problem=str(exc))
        running = self.gateway.catalog
        restart_needed = gateway_changes(running.gateway, wanted.gateway)
        applied = wanted.model_copy(update={"gateway": running.gateway})
        added, removed, changed = compare_bots(running, applied)
        if not (added or removed or changed):
            return ReloadOutcome("unchanged", restart_needed=restart_needed)
        try:
            await self.gateway.swap_catalog(applied)
        except GatewayError as exc:  # an access key that cannot be resolved, a bad custom class
            return ReloadOutcome("rejected", problem=f"{exc.code}: {exc}")
        return ReloadOutcome("applied", added, removed, changed, restart_needed)


def install_sighup(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> bool:
    """Call ``callback`` on SIGHUP; False where that cannot be done (not the main thread)."""
    try:
        loop.add_signal_handler(signal.SIGHUP, callback)
    except (RuntimeError, ValueError, NotImplementedError):
        return False
    return True
