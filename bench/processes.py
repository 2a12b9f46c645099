"""Server processes of a benchmark run: start, wait until they answer, and always stop them.

Each server runs in its own session (process group), so the whole group is stopped together,
also when the benchmark is interrupted (Ctrl-C cancels the main task; the ``finally`` of
:func:`running_server` still runs). Output goes to a log file, shown when start-up fails.

A server pinned to CPUs is pinned before it executes (a launcher sets the affinity, then execs
the server in the same process), so every thread it ever starts, a runtime's thread pool
included, inherits the CPUs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import aiohttp

STOP_GRACE_SECONDS = 10.0
#: Servers start in the repository root, so ``python -m bench.*`` and relative paths work.
REPO_ROOT = Path(__file__).resolve().parent.parent


class ServerStartError(RuntimeError):
    """A server process exited or did not answer in time; the message has its log tail."""


@dataclass(frozen=True, slots=True)
class ServerProcess:
    """A running server: its name, process id, base URL and log file."""

    name: str
    pid: int
    url: str
    log_path: Path


def port_problem(port: int) -> str | None:
    """Why 127.0.0.1:``port`` cannot be listened on right now (taken, not allowed), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            return f"cannot listen on 127.0.0.1:{port} ({exc.strerror or type(exc).__name__})"
    return None


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: Sets this process's CPUs (argv[1], comma-separated), then becomes argv[2:] (same pid).
PIN_LAUNCHER = (
    "import os, sys; "
    "os.sched_setaffinity(0, {int(cpu) for cpu in sys.argv[1].split(',')}); "
    "os.execvp(sys.argv[2], sys.argv[2:])"
)


def pinned(argv: Sequence[str], cpus: frozenset[int] | None) -> list[str]:
    """``argv`` started on ``cpus`` from its first instruction on (unchanged when None)."""
    if not cpus:
        return list(argv)
    listed = ",".join(str(cpu) for cpu in sorted(cpus))
    return [sys.executable, "-c", PIN_LAUNCHER, listed, *argv]


@contextlib.asynccontextmanager
async def running_server(
    name: str,
    argv: Sequence[str],
    *,
    url: str | None = None,
    url_file: Path | None = None,
    ready_path: str,
    log_dir: Path,
    env: Mapping[str, str] | None = None,
    cpus: frozenset[int] | None = None,
    start_timeout: float = 120.0,
    ready_line: str | None = None,
    cwd: Path = REPO_ROOT,
) -> AsyncIterator[ServerProcess]:
    """Start ``argv`` (on ``cpus``, in ``cwd``), wait until ``GET url+ready_path`` answers (and,
    with ``ready_line``, its log has that line), yield it, then stop it. A server that picks its
    own port writes its base URL to ``url_file`` instead (give that, not ``url``)."""
    if (url is None) == (url_file is None):
        raise ValueError("give either url or url_file")
    log_path = log_dir / f"{name}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *pinned(argv, cpus),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=cwd,
            start_new_session=True,
        )
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + start_timeout
        if url is None:
            assert url_file is not None
            url = await wait_for_url_file(process, url_file, log_path, start_timeout)
        remaining = max(deadline - loop.time(), 1.0)
        await wait_until_ready(process, url + ready_path, log_path, remaining, ready_line)
        yield ServerProcess(name=name, pid=process.pid, url=url, log_path=log_path)
    finally:
        await stop(process)


async def wait_for_url_file(
    process: asyncio.subprocess.Process, url_file: Path, log_path: Path, limit_seconds: float
) -> str:
    """The base URL a server wrote to ``url_file`` once it listens; fail if it exits first."""
    deadline = asyncio.get_running_loop().time() + limit_seconds
    while True:
        if process.returncode is not None:
            raise ServerStartError(f"exited with {process.returncode}\n{log_tail(log_path)}")
        with contextlib.suppress(FileNotFoundError):
            text = (await asyncio.to_thread(url_file.read_text)).strip()
            if text:  # the server writes it whole (a rename), never half
                return text.rstrip("/")
        if asyncio.get_running_loop().time() > deadline:
            raise ServerStartError(
                f"no URL in {url_file.name} within {limit_seconds:.0f} s\n{log_tail(log_path)}"
            )
        await asyncio.sleep(0.1)


async def wait_until_ready(
    process: asyncio.subprocess.Process,
    ready_url: str,
    log_path: Path,
    limit_seconds: float,
    ready_line: str | None = None,
) -> None:
    """Poll ``ready_url`` until any HTTP answer (and ``ready_line`` is in the log); fail if the
    process exits or time runs out."""
    deadline = asyncio.get_running_loop().time() + limit_seconds
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2.0)) as session:
        while True:
            if process.returncode is not None:
                raise ServerStartError(f"exited with {process.returncode}\n{log_tail(log_path)}")
            with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                async with session.get(ready_url) as response:
                    await response.read()
                    if ready_line is None or ready_line in await read_log(log_path):
                        return
            if asyncio.get_running_loop().time() > deadline:
                raise ServerStartError(
                    f"no answer within {limit_seconds:.0f} s\n{log_tail(log_path)}"
                )
            await asyncio.sleep(0.1)


async def stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM the process group, then SIGKILL it if it is still there after a grace period."""
    if process.returncode is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        await asyncio.shield(asyncio.wait_for(process.wait(), STOP_GRACE_SECONDS))
    except (TimeoutError, asyncio.CancelledError):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        await asyncio.shield(process.wait())
    # A member of the group that outlived its leader (a worker, a helper) goes too.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


async def read_log(path: Path) -> str:
    return await asyncio.to_thread(path.read_text, errors="replace")


def log_tail(path: Path, lines: int = 30) -> str:
    """The last lines of a server's log, for error messages."""
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
