"""A real ``redis-server`` on loopback for tests: free port, a password, no persistence.

:class:`RedisServer` starts one (``start``), stops it (``stop``) and starts it again on the same
port (``restart``, for outage tests); :func:`redis_server` is a context manager that always
stops it. ``redis-server`` is installed by ``scripts/system-packages.sh``: when it is missing,
tests using it skip locally and fail under CI (``CI`` set), so CI can never pass without them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import pytest

from tests.harness.servers import SERVER_BOUND_SECONDS, free_port

#: The password every test redis-server requires (so URLs carry one, as in production).
TEST_REDIS_PASSWORD: Final = "fmgate-redis-test-pass-5e2c9a71"


def redis_server_program() -> str:
    """The ``redis-server`` path; skips the test locally, fails it under CI, when missing."""
    program = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if program is None:
        reason = "redis-server is not installed (run scripts/system-packages.sh)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return program


class RedisServer:
    """One ``redis-server`` process bound to 127.0.0.1; ``url`` carries the password."""

    def __init__(self, program: str, workdir: Path) -> None:
        self._program = program
        self._workdir = workdir
        self.port = free_port()
        self.password = TEST_REDIS_PASSWORD
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://:{self.password}@127.0.0.1:{self.port}/0"

    def start(self) -> None:
        """Start it (on this server's port) and wait until it accepts connections."""
        if self._process is not None:
            raise RuntimeError("redis-server is already running")
        self._process = subprocess.Popen(
            [
                self._program,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--requirepass",
                self.password,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self._workdir),
                "--daemonize",
                "no",
                "--loglevel",
                "warning",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self._wait_until_ready()

    def stop(self) -> None:
        """Stop it (its data is gone: nothing is persisted)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=SERVER_BOUND_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    def _wait_until_ready(self) -> None:
        """Until a PING with the password gets PONG (the server loads nothing, so it is quick)."""
        deadline = time.monotonic() + SERVER_BOUND_SECONDS
        auth = f"AUTH {self.password}\r\nPING\r\n".encode()
        while True:
            assert self._process is not None
            if self._process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self._process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1.0) as sock:
                    sock.sendall(auth)
                    answer = b""
                    while b"PONG" not in answer:
                        chunk = sock.recv(64)
                        if not chunk:
                            break
                        answer += chunk
                    if b"PONG" in answer:
                        return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("redis-server did not start")
            time.sleep(0.01)


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A started :class:`RedisServer`, stopped (and its directory removed) afterwards."""
    program = redis_server_program()
    with tempfile.TemporaryDirectory(prefix="fmgate-redis-") as workdir:
        server = RedisServer(program, Path(workdir))
        server.start()
        try:
            yield server
        finally:
            server.stop()
