"""Running the emulator: in a background thread (tests, embedded use) or in the foreground."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from aiohttp import web

from fmgate_emulator.app import build_app
from fmgate_emulator.config import EmulatorConfig

#: Seconds a stopping server waits for requests in flight (e.g. a stalled stream) to end.
SHUTDOWN_TIMEOUT_SECONDS = 2.0
START_TIMEOUT_SECONDS = 30.0


def make_runner(config: EmulatorConfig) -> web.AppRunner:
    # handler_cancellation: a handler stops when its client goes away (stalls end with it).
    return web.AppRunner(
        build_app(config),
        handler_cancellation=True,
        access_log=None,
        shutdown_timeout=SHUTDOWN_TIMEOUT_SECONDS,
    )


def bound_port(runner: web.AppRunner) -> int:
    address = runner.addresses[0]
    return int(address[1])


class Emulator:
    """A Bedrock Runtime emulator server with its own event loop in a background thread."""

    def __init__(self, config: EmulatorConfig | None = None) -> None:
        self.config = config or EmulatorConfig()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._started = threading.Event()
        self._failure: BaseException | None = None
        self._host = "127.0.0.1"
        self._port = 0

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        if not self._started.is_set() or self._port == 0:
            raise RuntimeError("the emulator is not running")
        return f"http://{self._host}:{self._port}"

    def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start listening on ``host:port`` (0 = a free port); returns once it accepts requests."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        self._host = host
        self._thread = threading.Thread(
            target=self._run, args=(host, port), name="fmgate-emulator", daemon=True
        )
        self._thread.start()
        if not self._started.wait(START_TIMEOUT_SECONDS):
            raise RuntimeError("the emulator did not start in time")
        if self._failure is not None:
            self._thread.join()
            self._thread = None
            raise RuntimeError("the emulator failed to start") from self._failure

    def stop(self) -> None:
        """Stop the server and its thread (requests in flight get a short grace period)."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            loop.call_soon_threadsafe(stopping.set)
        thread.join()
        self._thread = None
        self._started.clear()
        self._port = 0

    @classmethod
    @contextmanager
    def running(
        cls, config: EmulatorConfig | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> Iterator[Emulator]:
        """``with Emulator.running(config) as emu:`` starts it and stops it afterwards."""
        emulator = cls(config)
        emulator.start(host, port)
        try:
            yield emulator
        finally:
            emulator.stop()

    @staticmethod
    async def serve_forever(
        config: EmulatorConfig, host: str = "127.0.0.1", port: int = 8900
    ) -> None:
        """Serve on the current event loop until cancelled (``fmgate emulator``)."""
        runner = make_runner(config)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            await asyncio.Event().wait()
        finally:
            await runner.cleanup()

    def _run(self, host: str, port: int) -> None:
        try:
            asyncio.run(self._serve(host, port))
        except BaseException as error:  # reported to start(), which re-raises it
            self._failure = error
            self._started.set()

    async def _serve(self, host: str, port: int) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        runner = make_runner(self.config)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            self._port = bound_port(runner)
            self._started.set()
            await self._stopping.wait()
        finally:
            await runner.cleanup()
